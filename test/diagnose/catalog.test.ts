import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseArgv } from '../../src/cli/main.js';
import { deriveLine, loadCatalogs, unclassifiedEntries } from '../../src/diagnose/catalog.js';
import { diagnoseText } from '../../src/diagnose/engine.js';
import { loadKnowledgeBase } from '../../src/diagnose/knowledge-base.js';
import { fillCommands } from '../../src/diagnose/matcher.js';
import { CORPUS_DIR, REPO_ROOT } from '../helpers/corpus.js';

/** parseArgv's verdict on an advised bhyve-gpu command. */
async function parses(argv: string[]): Promise<{ ok: boolean; message?: string }> {
  return parseArgv(argv);
}

describe('message catalogs', () => {
  it('classifies every catalog entry (a refreshed catalog fails here until its new templates are classified)', () => {
    assert.deepEqual(
      unclassifiedEntries().map((e) => `${e.id} ${e.text.split('\n')[0]}`),
      [],
    );
  });

  it('records where each catalog came from', () => {
    for (const c of loadCatalogs().catalogs) {
      assert.match(c.origin.repository, /^https:\/\/github\.com\//);
      assert.ok(c.origin.commit.length > 0);
      assert.ok(c.entries.length > 0, c.source);
    }
  });

  it('maps entries to hand-written signatures that really match them, and families that exist', () => {
    const { catalogs, classification, families } = loadCatalogs();
    const kb = loadKnowledgeBase();
    const byId = new Map(kb.map((s) => [s.id, s]));
    for (const c of catalogs)
      for (const e of c.entries) {
        const cl = classification.get(e.id);
        assert.ok(cl, e.id);
        if ('family' in cl) assert.ok(families.has(cl.family), `${e.id}: family ${cl.family}`);
        if ('signature' in cl) {
          const s = byId.get(cl.signature);
          assert.ok(s, `${e.id}: signature ${cl.signature}`);
          // Some line of the message (placeholders filled with sample values) is matched by the signature.
          const example = e.text
            .split('\n')
            .map((l) => deriveLine(l.trimEnd())?.example)
            .filter((l) => l !== undefined)
            .join('\n');
          const report = diagnoseText([{ name: 'x', text: `${example}\n` }]);
          assert.ok(
            report.findings.some((f) => f.id === cl.signature),
            `${e.id} (${example}) is not matched by ${cl.signature}`,
          );
        }
      }
  });

  it('grows the knowledge base to a few hundred signatures, each with commands or a reason why none', () => {
    const kb = loadKnowledgeBase();
    assert.ok(kb.length >= 300, String(kb.length));
    for (const s of kb)
      if (s.severity !== 'info') assert.ok((s.commands === undefined) !== (s.noCommand === undefined), s.id);
  });

  it('advises only bhyve-gpu commands that the real CLI parses', async () => {
    const seen = new Set<string>();
    for (const s of loadKnowledgeBase()) {
      const filled = fillCommands(s.commands ?? [], { gpu: '1/0/0', vm: 'xdev' }).commands;
      for (const argv of filled) {
        if (argv[0] !== 'bhyve-gpu' || seen.has(argv.join(' '))) continue;
        seen.add(argv.join(' '));
        const v = await parses(argv);
        assert.ok(v.ok, `${s.id}: ${argv.join(' ')}: ${v.message}`);
      }
    }
  });
});

describe('diagnose findings on the corpus carry runnable commands', () => {
  const present = existsSync(CORPUS_DIR);
  it('every bhyve-gpu command on every corpus log parses', {
    skip: present ? false : `no corpus at ${CORPUS_DIR}`,
  }, async () => {
    let logs = 0;
    for (const category of readdirSync(CORPUS_DIR)) {
      const dir = join(CORPUS_DIR, category);
      if (!existsSync(dir) || category === 'eval') continue;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const text = readFileSync(join(dir, name), 'utf8');
        const report = diagnoseText([{ name, text }], { vm: 'xdev', gpu: '1/0/0' });
        logs++;
        for (const f of report.findings) {
          if (f.severity !== 'info')
            assert.ok(f.commands !== undefined || f.noCommand !== undefined, `${name}: ${f.id}`);
          for (const argv of f.commands ?? [])
            if (argv[0] === 'bhyve-gpu') {
              const v = await parses(argv);
              assert.ok(v.ok, `${name}: ${f.id}: ${argv.join(' ')}: ${v.message}`);
            }
        }
      }
    }
    assert.ok(logs > 10);
  });
});

describe('input hygiene and environment', () => {
  it('does not read a # note: header or a shell prompt as log evidence', () => {
    const text = '# note: nvidia-smi said No devices were found\n$ nvidia-smi -L No devices were found\n';
    assert.deepEqual(diagnoseText([{ name: 'n', text }]).findings, []);
    // a link pasted above the log
    const notes = '# https://example.org/thread No devices were found\n';
    assert.deepEqual(diagnoseText([{ name: 'u', text: notes }]).findings, []);
    const real = diagnoseText([{ name: 'r', text: `${text}No devices were found\n` }]);
    assert.deepEqual(
      real.findings.map((f) => [f.id, f.evidence[0]?.line]),
      [['guest.nvidia.no-devices', 3]],
    );
  });

  it('keeps a kernel line that starts with # (an oops #PF line) readable', () => {
    const r = diagnoseText([{ name: 'k', text: '#PF: error_code(0x0000) - not-present page\n' }]);
    assert.deepEqual(r.findings, []);
  });

  it('counts a file named twice once, and refuses blank stdin like an empty one', () => {
    const file = join(
      CORPUS_DIR,
      'guest-dmesg',
      'cloudatlas-bhyve-fbsd15-tesla-p4-rminitadapter-nvkmskapi.txt',
    );
    const cli = (args: string[], input = '') =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'diagnose', ...args], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        input,
        env: { ...process.env, NO_COLOR: '1' },
      });
    if (existsSync(file)) {
      const r = cli(['--json', file, file]);
      const doc = JSON.parse(r.stdout) as {
        inputs: unknown[];
        findings: { id: string; occurrences: number }[];
      };
      assert.equal(doc.inputs.length, 1);
      assert.equal(doc.findings.find((f) => f.id === 'guest.nvidia.rm-init-failed')?.occurrences, 6);
    }
    const empty = cli(['-'], '');
    const blank = cli(['-'], '  \n\n\t\n');
    assert.equal(empty.status, 2);
    assert.equal(blank.status, 2);
    assert.match(blank.stderr, /no log lines read \(stdin is empty\)/);
  });

  it('fills --gpu/--vm into commands and explains what is left', () => {
    const line = 'bhyve: passthru requires guest memory to be wired\n';
    const open = diagnoseText([{ name: 'b', text: line }]).findings[0];
    assert.deepEqual(open?.commands, [['bhyve-gpu', 'attach', '{gpu}', '--vm', '{vm}', '--yes']]);
    assert.deepEqual(Object.keys(open?.placeholders ?? {}).sort(), ['gpu', 'vm']);
    const filled = diagnoseText([{ name: 'b', text: line }], { gpu: '2/0/0', vm: 'cuda' }).findings[0];
    assert.deepEqual(filled?.commands, [['bhyve-gpu', 'attach', '2/0/0', '--vm', 'cuda', '--yes']]);
    assert.equal(filled?.placeholders, undefined);
  });

  it('says where a log comes from and does not advise bhyve host builds on a VMware guest', () => {
    const text = [
      'Feb 09 15:47:06 debian kernel: NVRM: GPU 0000:13:00.0: RmInitAdapter failed! (0x31:0xffff:1463)',
      'Feb 09 15:47:06 debian kernel: Hardware name: VMware, Inc. VMware Virtual Platform/440BX Desktop Reference Platform, BIOS 6.00 11/12/2020',
    ].join('\n');
    const r = diagnoseText([{ name: 'v', text }]);
    assert.equal(r.environment?.platform, 'vmware');
    const f = r.findings.find((x) => x.id === 'guest.nvidia.rm-init-failed');
    assert.ok(f);
    assert.doesNotMatch(f.explanation, /IRQ problem is solved/);
    assert.match(f.explanation, /VMware guest/);
    assert.equal(f.commands, undefined);
    assert.match(f.noCommand ?? '', /VMware/);
  });

  it('ranks the driver-branch mismatch and the driver that owns the GPU first', () => {
    const text = [
      'NVRM: The NVIDIA GPU 0000:00:06.0 (PCI ID: 10de:1bb3)',
      'NVRM: installed in this system is not supported by the',
      'NVRM: NVIDIA 590.44.01 driver release.',
      'NVRM: GPU 0000:00:06.0: RmInitAdapter failed! (0x22:0x56:894)',
      'NVRM: None of the NVIDIA devices were initialized.',
    ].join('\n');
    const r = diagnoseText([{ name: 'u', text }]);
    assert.equal(r.findings[0]?.id, 'guest.nvidia.unsupported-release');
    assert.match(String(r.findings[0]?.decoded?.meaning), /580/);
    const owned = diagnoseText([
      {
        name: 'o',
        text: 'NVRM: The NVIDIA probe routine was not called for 1 device(s).\nnouveau 0000:00:06.0: NVIDIA GP104 (134000a1)\nNVRM: No NVIDIA devices probed.\n',
      },
    ]);
    assert.equal(owned.findings[0]?.id, 'guest.nvidia.nouveau-bound');
    assert.ok(owned.findings.find((f) => f.id === 'guest.nvidia.probe-not-called')?.causedBy);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { corpusFile, REPO_ROOT } from '../helpers/corpus.js';
import { tempDir } from '../helpers/snap.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'diagnose');

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'diagnose', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    input: input ?? '',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bhyve-gpu diagnose (CLI)', () => {
  it('exits 1 with a ranked human report on a failing guest log', () => {
    const path = corpusFile(
      'guest-dmesg',
      'cloudatlas-bhyve-fbsd15-tesla-p4-rminitadapter-nvkmskapi.txt',
    ).path;
    const r = cli([path]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /1\. ERROR NVIDIA resource manager failed/);
    assert.match(r.stdout, /decoded: RM_INIT_VBIOS_POST_FAILED \(0x31\), NV_ERR_GENERIC \(0xffff\)/);
    assert.match(
      r.stdout,
      /rminitadapter-nvkmskapi\.txt:17: NVRM: GPU 0000:00:06\.0: RmInitAdapter failed! \(0x31:0xffff:2767\) \(x3\)/,
    );
    assert.match(r.stdout, /fix:/);
  });

  it('prints one JSON document with --json', () => {
    const r = cli([
      '--json',
      join(FIXTURES, 'healthy-nvidia-guest-dmesg.txt'),
      join(FIXTURES, 'healthy-nvidia-smi.txt'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      schemaVersion: number;
      findings: { id: string; severity: string }[];
    };
    assert.equal(doc.schemaVersion, 1);
    assert.ok(Array.isArray(doc.findings));
    assert.ok(doc.findings.every((f) => f.severity !== 'error'));
    assert.ok(doc.findings.some((f) => f.id === 'guest.nvidia.driver-loaded'));
  });

  it('reads stdin with - and when no file is named', () => {
    const text =
      'bhyve: passthru requires guest memory to be wired\nDevice emulation initialization error: No such file or directory\n';
    for (const args of [['-', '--json'], ['--json']]) {
      const r = cli(args, text);
      assert.equal(r.code, 1, r.stderr);
      const doc = JSON.parse(r.stdout) as { findings: { id: string; evidence: { file: string }[] }[] };
      assert.equal(doc.findings[0]?.id, 'host.bhyve.memory-not-wired');
      assert.equal(doc.findings[0]?.evidence[0]?.file, '<stdin>');
    }
  });

  it('exits 0 on a log with no known signature', () => {
    const r = cli(['-'], '[    0.000000] Linux version 6.8.0-31-generic\n');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no known failure signature found/);
  });

  it('exits 2 naming a file that cannot be read', () => {
    const r = cli([join(FIXTURES, 'does-not-exist.log')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /does-not-exist\.log: no such file/);
    assert.equal(r.stdout, '');
    const dir = cli([FIXTURES]);
    assert.equal(dir.code, 2);
    assert.match(dir.stderr, /is a directory/);
  });

  it('exits 2 when every input is empty: an input with no lines is not a healthy log', () => {
    const stdin = cli(['-'], '');
    assert.equal(stdin.code, 2);
    assert.equal(stdin.stdout, '');
    assert.match(stdin.stderr, /no log lines read \(stdin is empty\)/);
    const dir = tempDir();
    const empty = join(dir, 'dmesg.txt');
    writeFileSync(empty, '');
    const file = cli([empty]);
    assert.equal(file.code, 2);
    assert.match(file.stderr, /no log lines read \(.*dmesg\.txt is empty\)/);
    const json = cli(['--json', empty]);
    assert.equal(json.code, 2);
  });

  it('warns about a binary input and exits 2 when nothing else was given', () => {
    const binary = cli([process.execPath]);
    assert.equal(binary.code, 2);
    assert.match(binary.stderr, /looks binary, not a log/);
    assert.match(binary.stderr, /no log lines read/);
    const mixed = cli([process.execPath, join(FIXTURES, 'healthy-nvidia-smi.txt')]);
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.match(mixed.stderr, /looks binary, not a log/);
    assert.match(mixed.stdout, /nvidia-smi/);
  });

  it('has help with examples and exit codes', () => {
    const r = cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /Exit codes:/);
  });
});

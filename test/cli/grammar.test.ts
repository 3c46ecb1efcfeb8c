import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseArgv } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/registry.js';
import { runCli } from '../helpers/advice.js';
import { REPO_ROOT } from '../helpers/corpus.js';
import { tempDir } from '../helpers/snap.js';

/** One CLI grammar (issue 9) and the message fixes of issue 16 case 4/5. */
const P4 = join(REPO_ROOT, 'examples/hosts/tesla-p4-15.0.json');
const RTX = join(REPO_ROOT, 'examples/hosts/rtx2080ti-14.3.json');

function jsonError(stdout: string): { code: string; message: string; exitCode: number } {
  const doc = JSON.parse(stdout) as {
    schemaVersion: number;
    error: { code: string; message: string; exitCode: number };
  };
  assert.equal(doc.schemaVersion, 1);
  return doc.error;
}

describe("--json errors are one JSON document, the parser's own included", () => {
  for (const [what, argv, message] of [
    ['unknown command', ['--json', 'nosuch'], /unknown command 'nosuch'/],
    ['unknown option', ['--json', 'scan', '--bogus'], /unknown option '--bogus'/],
    ['missing argument', ['--json', 'attach'], /missing required argument 'gpu'/],
    ['missing command', ['--json'], /missing command/],
    ['missing subcommand', ['--json', 'guest'], /missing subcommand: check, setup or script/],
    ['bad choice', ['--json', 'guest', 'setup', '--format', 'xml'], /xml/],
  ] as const) {
    it(what, async () => {
      const r = await runCli([...argv]);
      assert.equal(r.status, 2);
      const e = jsonError(r.stdout);
      assert.equal(e.code, 'usage');
      assert.equal(e.exitCode, 2);
      assert.match(e.message, message);
    });
  }
});

describe('the same flags mean the same everywhere', () => {
  it('-y is --yes on every command that has --yes', async () => {
    for (const argv of [
      ['attach', '1/0/0', '-y'],
      ['detach', '1/0/0', '-y'],
      ['install', '-y'],
      ['rollback', '-y'],
      ['setup', '-y'],
      ['guest', 'setup', '--run', '-y'],
    ])
      assert.deepEqual(await parseArgv(argv), { ok: true }, argv.join(' '));
  });

  it('--yes with --dry-run is a usage error, on every plan command', async () => {
    for (const argv of [
      ['--host', P4, 'attach', '1/0/0', '--yes', '--dry-run'],
      ['--host', P4, 'detach', '1/0/0', '-y', '--dry-run'],
      ['--root', tempDir(), 'rollback', '--yes', '--dry-run'],
      ['--host', P4, 'setup', '--gpu', '1/0/0', '--no-vm', '--yes', '--dry-run'],
    ]) {
      const r = await runCli(argv);
      assert.equal(r.status, 2, argv.join(' '));
      assert.match(r.stderr, /--yes and --dry-run contradict each other/);
    }
  });

  it('setup --vm X --no-vm, and an empty --vm, are usage errors', async () => {
    const both = await runCli(['--host', P4, 'setup', '--vm', 'xdev', '--no-vm', '--dry-run']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--vm and --no-vm contradict each other/);
    for (const argv of [
      ['--host', P4, 'doctor', '--vm', ''],
      ['--host', P4, 'attach', '1/0/0', '--vm', ''],
      ['--host', P4, 'setup', '--vm=', '--dry-run'],
    ]) {
      const r = await runCli(argv);
      assert.equal(r.status, 2, argv.join(' '));
      assert.match(r.stderr, /--vm: the value is empty/);
    }
  });

  it('a plan shown and not applied exits 0 everywhere; --check exits 3 when changes are pending', async () => {
    assert.equal((await runCli(['--host', RTX, 'attach', '2/0/0', '--remove-stale'])).status, 0);
    assert.equal((await runCli(['--host', RTX, 'attach', '2/0/0', '--remove-stale', '--dry-run'])).status, 0);
    assert.equal((await runCli(['--host', RTX, 'attach', '2/0/0', '--remove-stale', '--check'])).status, 3);
    assert.equal(
      (
        await runCli([
          '--host',
          RTX,
          'setup',
          '--gpu',
          '2/0/0',
          '--remove-stale',
          '--no-build',
          '--no-vm',
          '--dry-run',
        ])
      ).status,
      0,
    );
    assert.equal((await runCli(['--root', tempDir(), 'rollback'])).status, 0);
  });
});

describe('help', () => {
  for (const c of COMMANDS) {
    it(`help ${c.name} prints the same as ${c.name} --help`, async () => {
      const a = await runCli(['help', c.name]);
      const b = await runCli([c.name, '--help']);
      assert.equal(a.status, 0);
      assert.equal(a.stdout, b.stdout);
    });
  }

  it('help guest check is guest check --help; help nosuch fails', async () => {
    assert.equal(
      (await runCli(['help', 'guest', 'check'])).stdout,
      (await runCli(['guest', 'check', '--help'])).stdout,
    );
    const r = await runCli(['help', 'nosuch']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command 'nosuch'/);
  });

  it('every subcommand --help shows the global options its examples use (issue 16 case 5)', async () => {
    for (const c of COMMANDS) {
      const r = await runCli([c.name, '--help']);
      for (const flag of ['--host', '--root', '--json', '--color'])
        assert.match(r.stdout, new RegExp(`Global Options:[\\s\\S]*${flag}\\b`), `${c.name}: ${flag}`);
    }
  });
});

describe('messages (issue 16 case 4)', () => {
  it('snapshot --help says the default once', async () => {
    const r = await runCli(['snapshot', '--help']);
    assert.doesNotMatch(r.stdout, /\(default\)\s*\(default/);
  });

  it('--root FILE says it is not a directory', async () => {
    const r = await runCli(['--root', P4, 'scan']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--root .*: not a directory/);
  });

  it('unreadable --host input: one rule (exit 2), and a binary file is never echoed raw', async () => {
    const dir = tempDir();
    const binary = join(dir, 'bin.json');
    const bytes = readFileSync(process.execPath).subarray(0, 256);
    writeFileSync(binary, bytes);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format": ');
    for (const file of [join(dir, 'missing.json'), bad, binary]) {
      const r = await runCli(['--host', file, 'scan']);
      assert.equal(r.status, 2, `${file}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /[\u0000-\u0008\u000e-\u001f\u007f]/);
    }
    assert.match((await runCli(['--host', binary, 'scan'])).stderr, /looks binary, not a snapshot/);
  });

  it('journal and install on a snapshot say what a snapshot holds', async () => {
    const j = await runCli(['--host', P4, 'journal']);
    assert.equal(j.status, 2);
    assert.match(j.stderr, /a snapshot never holds the journal/);
    assert.doesNotMatch(j.stderr, /record a new snapshot/);
    const i = await runCli(['--host', P4, 'install', '--src', tempDir()]);
    assert.equal(i.status, 2);
    assert.match(i.stderr, /a snapshot holds no source tree or build output/);
  });
});

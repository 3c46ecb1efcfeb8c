import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/registry.js';
import { VERSION } from '../../src/version.js';
import { REPO_ROOT } from '../helpers/corpus.js';
import { cli, tempDir } from '../helpers/snap.js';

describe('the command-line surface', () => {
  it('--version matches package.json', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    assert.equal(VERSION, pkg.version);
    const r = cli(['--version']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), VERSION);
  });

  it('--help lists every command and the exit codes', () => {
    const r = cli(['--help']);
    assert.equal(r.status, 0);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.name}\\b`, 'm'), c.name);
    assert.match(r.stdout, /Exit codes:/);
  });

  for (const c of COMMANDS) {
    it(`${c.name} --help has examples and exit codes`, () => {
      const r = cli([c.name, '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Examples?:/i);
      assert.match(r.stdout, /Exit codes?:/i);
    });
  }

  it('no command, or guest without a subcommand, is a usage error', () => {
    assert.equal(cli([]).status, 2);
    const g = cli(['guest']);
    assert.equal(g.status, 2);
    assert.match(g.stderr, /missing subcommand/);
  });

  it('an unknown command or option is a usage error (exit 2), not a stack trace', () => {
    const a = cli(['frobnicate']);
    assert.equal(a.status, 2);
    const b = cli(['scan', '--frob']);
    assert.equal(b.status, 2);
    assert.doesNotMatch(a.stderr + b.stderr, /\n\s+at /);
  });

  it('errors are one line plus a hint; --debug adds the stack', () => {
    const r = cli(['scan', '--host', '/nonexistent/host.json']);
    assert.equal(r.status, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^error: \/nonexistent\/host\.json: /);
    assert.match(lines[1] ?? '', /^hint: /);
    const d = cli(['scan', '--host', '/nonexistent/host.json', '--debug']);
    assert.match(d.stderr, /\n\s+at /);
  });

  it('colour: none under NO_COLOR or --color never, ANSI with --color always', () => {
    const host = ['--host', 'examples/hosts/tesla-p4-15.0.json'];
    assert.doesNotMatch(cli(['doctor', ...host]).stdout, /\x1b\[/);
    assert.match(cli(['--color', 'always', 'doctor', ...host]).stdout, /\x1b\[3[12]m/);
    assert.doesNotMatch(
      cli(['--color', 'never', 'doctor', ...host], { env: { FORCE_COLOR: '1' } }).stdout,
      /\x1b\[/,
    );
  });

  it('setup without a terminal refuses unless every answer is given', () => {
    const r = cli(['setup', '--host', 'examples/hosts/tesla-p4-15.0.json']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no terminal/);
    const j = cli([
      'setup',
      '--host',
      'examples/hosts/tesla-p4-15.0.json',
      '--gpu',
      '1/0/0',
      '--vm',
      'xdev',
      '--json',
    ]);
    assert.equal(j.status, 0, j.stderr);
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.gpu, '1/0/0');
    assert.deepEqual(
      doc.build.map((a: string[]) => a[1]),
      ['source', 'patch', 'build', 'install'],
    );
  });
});

describe('setup at a terminal', () => {
  it('asks for the GPU, the guest and a confirmation, then applies (script(1) provides the terminal)', (t) => {
    const hasScript = spawnSync('script', ['--version']).status === 0;
    if (!hasScript) {
      t.skip('script(1) is not installed');
      return;
    }
    const root = tempDir();
    const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const args = [
      process.execPath,
      '--import',
      'tsx',
      join(REPO_ROOT, 'src', 'cli.ts'),
      'setup',
      '--host',
      'examples/hosts/rtx2080ti-14.3.json',
      '--root',
      root,
      '--remove-stale',
      '--no-build',
      '--no-color',
    ];
    const r = spawnSync('script', ['-qec', args.map(quote).join(' '), '/dev/null'], {
      cwd: REPO_ROOT,
      // GPU 1, guest 1, keep the bhyveload loader (n), apply (y); --remove-stale answers the stale question.
      input: '1\n1\nn\ny\n',
      encoding: 'utf8',
      env: { ...process.env, CI: '', NO_COLOR: '1' },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Which GPU goes to the guest\?/);
    assert.match(r.stdout, /Which vm-bhyve guest gets it\?/);
    assert.match(
      readFileSync(join(root, 'boot', 'loader.conf'), 'utf8'),
      /^pptdevs="2\/0\/0 2\/0\/1 2\/0\/2 2\/0\/3"$/m,
    );
    assert.match(readFileSync(join(root, 'vm', 'cuda', 'cuda.conf'), 'utf8'), /^passthru3="2\/0\/3=\d+:3"$/m);
  });

  /** Run setup under script(1) with the answers typed in; undefined when script(1) is missing. */
  function setupAtTerminal(root: string, input: string, extra: string[] = []) {
    if (spawnSync('script', ['--version']).status !== 0) return undefined;
    const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const args = [
      process.execPath,
      '--import',
      'tsx',
      join(REPO_ROOT, 'src', 'cli.ts'),
      'setup',
      '--host',
      'examples/hosts/rtx2080ti-14.3.json',
      '--root',
      root,
      '--no-build',
      '--no-color',
      ...extra,
    ];
    return spawnSync('script', ['-qec', args.map(quote).join(' '), '/dev/null'], {
      cwd: REPO_ROOT,
      input,
      encoding: 'utf8',
      env: { ...process.env, CI: '', NO_COLOR: '1' },
    });
  }

  it('asks to drop the stale pptdevs entry (default yes) and whether to switch a bhyveload guest to UEFI', (t) => {
    const root = tempDir();
    // GPU 1, guest 1, drop the stale entry (Enter = yes), switch the loader: y, apply: y.
    const r = setupAtTerminal(root, '1\n1\n\ny\ny\n');
    if (!r) {
      t.skip('script(1) is not installed');
      return;
    }
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /3\/0\/0 is now your NIC igb0 .*; drop it from pptdevs in the same change\? \[Y\/n\]/,
    );
    assert.match(
      r.stdout,
      /cuda boots with loader="bhyveload"; .*Switch it to loader="uefi"\? A guest installed for bhyveload may not boot with UEFI.* \[y\/N\]/,
    );
    assert.doesNotMatch(r.stdout, /refusing to attach/);
    assert.match(
      readFileSync(join(root, 'boot', 'loader.conf'), 'utf8'),
      /^pptdevs="2\/0\/0 2\/0\/1 2\/0\/2 2\/0\/3"$/m,
    );
    assert.match(readFileSync(join(root, 'vm', 'cuda', 'cuda.conf'), 'utf8'), /^loader="uefi"$/m);
  });

  it('keeps the bhyveload loader when told no, and refuses as attach does when the stale entry is kept', (t) => {
    const root = tempDir();
    const keep = setupAtTerminal(root, '1\n1\ny\nn\ny\n');
    if (!keep) {
      t.skip('script(1) is not installed');
      return;
    }
    assert.equal(keep.status, 0, keep.stdout + keep.stderr);
    const conf = readFileSync(join(root, 'vm', 'cuda', 'cuda.conf'), 'utf8');
    assert.match(conf, /^loader="bhyveload"$/m);
    assert.match(conf, /^passthru0="2\/0\/0=\d+:0"$/m);
    assert.match(keep.stdout, /cuda keeps loader="bhyveload"/);

    const root2 = tempDir();
    const refused = setupAtTerminal(root2, '1\n1\nn\n');
    assert.equal(refused?.status, 1);
    assert.match(refused?.stdout ?? '', /refusing to attach 2\/0\/0/);
    assert.equal(existsSync(join(root2, 'boot', 'loader.conf')), false, 'nothing written');
  });
});

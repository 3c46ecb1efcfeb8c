import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/corpus.js';
import { makeRemote, type TestRemote } from './repos.js';

let remote: TestRemote;
let dir: string;
before(() => {
  remote = makeRemote();
  dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-build-cli-'));
});
after(() => {
  rmSync(remote.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A tree whose usr.sbin/bhyve is one of the fixture directories, with a patch record naming it. */
function bhyveTree(name: string, fixture: 'hello' | 'broken'): string {
  const src = join(dir, name);
  cpSync(join(REPO_ROOT, 'test/fixtures/build/tree', fixture), join(src, 'usr.sbin/bhyve'), {
    recursive: true,
  });
  mkdirSync(join(src, '.bhyve-gpu'));
  const record = { files: [{ path: `usr.sbin/bhyve/${fixture}.c` }] };
  writeFileSync(join(src, '.bhyve-gpu/patch-record.json'), JSON.stringify(record));
  return src;
}

describe('bhyve-gpu build (end to end)', () => {
  it('plans from git diff against the pinned commit when there is no patch record', () => {
    const src = join(remote.dir, 'src');
    assert.equal(cli('source', '--repo', remote.url, '--src', src, '--release', '15.0', '--json').status, 0);
    mkdirSync(join(src, 'sys/amd64/vmm'), { recursive: true });
    writeFileSync(join(src, 'sys/amd64/vmm/x86.c'), '/* patched */\n');
    writeFileSync(join(src, 'usr.sbin/bhyve/pci_passthru.c'), '/* patched */\n');
    const r = cli('build', '--src', src, '--jobs', '3', '--dry-run', '--json');
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.changed, ['sys/amd64/vmm/x86.c', 'usr.sbin/bhyve/pci_passthru.c']);
    assert.deepEqual(
      doc.steps.map((s: { dir: string }) => s.dir),
      ['lib/libvmmapi', 'sys/modules/vmm', 'usr.sbin/bhyve', 'usr.sbin/bhyvectl', 'usr.sbin/bhyveload'],
    );
    assert.deepEqual(doc.steps[0].argv, ['make', '-j3']);
    const human = cli('build', '--src', src, '--jobs', '3', '--dry-run', '--kernel');
    assert.match(human.stdout, /\.: make -j3 buildkernel KERNCONF=GENERIC/);
    assert.match(human.stdout, /installs: \/boot\/kernel\/vmm\.ko/);
  });

  it('builds, then writes the build record for install', () => {
    const src = bhyveTree('ok', 'hello');
    const logFile = join(dir, 'ok.log');
    const r = cli('build', '--src', src, '--jobs', '2', '--log', logFile, '--json');
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.installs, ['/usr/sbin/bhyve']);
    assert.ok(existsSync(join(src, 'usr.sbin/bhyve/hello')));
    const record = JSON.parse(readFileSync(join(src, '.bhyve-gpu/build-record.json'), 'utf8'));
    assert.deepEqual(record.installs, ['/usr/sbin/bhyve']);
    assert.deepEqual(record.steps[0].argv, ['make', '-j2']);
    assert.match(record.finishedAt, /^\d{4}-\d\d-\d\dT/);
    assert.match(readFileSync(logFile, 'utf8'), /-o hello hello\.c/);
  });

  it('fails with the first compiler error, its file and line, and the log path', () => {
    const src = bhyveTree('bad', 'broken');
    const logFile = join(dir, 'bad.log');
    const json = cli('build', '--src', src, '--jobs', '2', '--log', logFile, '--json');
    assert.equal(json.status, 1);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.ok, false);
    assert.equal(doc.firstError.file, 'usr.sbin/bhyve/broken.c');
    assert.equal(doc.firstError.line, 7);
    assert.equal(doc.logFile, logFile);
    assert.equal(existsSync(join(src, '.bhyve-gpu/build-record.json')), false);
    const human = cli('build', '--src', src, '--jobs', '2', '--log', logFile);
    assert.equal(human.status, 1);
    assert.match(human.stderr, /build of bhyve failed: usr\.sbin\/bhyve\/broken\.c:7: /);
    assert.match(human.stderr, /full output in .*bad\.log/);
  });

  it('says so when nothing needs a build, and rejects a bad --jobs', () => {
    const src = join(dir, 'docs-only');
    mkdirSync(join(src, '.bhyve-gpu'), { recursive: true });
    writeFileSync(
      join(src, '.bhyve-gpu/patch-record.json'),
      JSON.stringify({ files: [{ path: 'share/man/man8/bhyve.8' }] }),
    );
    const r = cli('build', '--src', src, '--jobs', '1');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /nothing to rebuild/);
    assert.equal(cli('build', '--src', src, '--jobs', 'many').status, 2);
  });

  it('checks --src first: a missing path or a regular file is exit 2 with a hint', () => {
    const missing = cli('build', '--src', join(dir, 'none'), '--jobs', '1');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /none: no such directory/);
    assert.match(missing.stderr, /bhyve-gpu source/);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a tree\n');
    const notDir = cli('build', '--src', file, '--jobs', '1');
    assert.equal(notDir.status, 2);
    assert.match(notDir.stderr, /plain-file: not a directory/);
  });

  it('refuses a --log that is a directory or in a missing directory before make runs', () => {
    const src = bhyveTree('log-check', 'hello');
    const isDir = cli('build', '--src', src, '--jobs', '1', '--log', dir);
    assert.equal(isDir.status, 2);
    assert.match(isDir.stderr, /--log .*: is a directory/);
    assert.doesNotMatch(isDir.stderr, /EISDIR|at /);
    const noParent = cli('build', '--src', src, '--jobs', '1', '--log', join(dir, 'missing', 'b.log'));
    assert.equal(noParent.status, 2);
    assert.match(noParent.stderr, /missing does not exist/);
    assert.equal(existsSync(join(src, 'usr.sbin/bhyve/hello')), false, 'make did not run');
  });

  it('under --root the build runs in DIR/src and its log goes to DIR/var/db/bhyve-gpu, nothing outside DIR', () => {
    const root = join(dir, 'rooted');
    const src = join(root, 'usr/local/bhyve-gpu/src');
    cpSync(join(REPO_ROOT, 'test/fixtures/build/tree/hello'), join(src, 'usr.sbin/bhyve'), {
      recursive: true,
    });
    mkdirSync(join(src, '.bhyve-gpu'));
    const record = { files: [{ path: 'usr.sbin/bhyve/hello.c' }] };
    writeFileSync(join(src, '.bhyve-gpu/patch-record.json'), JSON.stringify(record));
    const stateBefore = existsSync('/var/db/bhyve-gpu') ? readdirSync('/var/db/bhyve-gpu') : undefined;
    const r = cli('--root', root, 'build', '--src', '/usr/local/bhyve-gpu/src', '--jobs', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.match(doc.logFile, /^\/var\/db\/bhyve-gpu\/build-[\dT-]+Z\.log$/);
    assert.match(readFileSync(join(root, doc.logFile), 'utf8'), /-o hello hello\.c/);
    assert.ok(existsSync(join(src, 'usr.sbin/bhyve/hello')), 'make ran in the tree below the root');
    const stateAfter = existsSync('/var/db/bhyve-gpu') ? readdirSync('/var/db/bhyve-gpu') : undefined;
    assert.deepEqual(stateAfter, stateBefore, 'the real /var/db/bhyve-gpu is untouched');
    assert.equal(existsSync('/usr/local/bhyve-gpu/src'), false);
  });

  it('a malformed patch record is a parse error naming the file and the field', () => {
    const src = join(dir, 'bad-record');
    mkdirSync(join(src, '.bhyve-gpu'), { recursive: true });
    writeFileSync(join(src, '.bhyve-gpu/patch-record.json'), JSON.stringify({ files: 1 }));
    const r = cli('build', '--src', src, '--jobs', '1', '--dry-run');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /patch-record\.json: field "files": expected an array/);
    assert.match(r.stderr, /bhyve-gpu patch/);
  });
});

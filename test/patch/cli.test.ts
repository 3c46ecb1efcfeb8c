import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/corpus.js';
import { copyTree, dropTree, readTree, snapshotTree, TREES } from './trees.js';

const dirs: string[] = [];
const tree = (name: string) => {
  const d = copyTree(name);
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) dropTree(d);
});

function cli(...args: string[]) {
  return run('patch', ...args);
}

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bhyve-gpu patch (CLI)', () => {
  it('--json applies the quirk, a second run reports already-applied', () => {
    const dir = tree('14.3-makefile-srcs');
    const first = cli('--src', dir, '--json');
    assert.equal(first.status, 0, first.stderr);
    const doc = JSON.parse(first.stdout);
    assert.equal(doc.schemaVersion, 1);
    assert.equal(doc.result, 'applied');
    assert.equal(doc.tree.layout, 'makefile-srcs');
    assert.equal(doc.tree.release.revision, '14.3');
    assert.deepEqual(doc.files, [
      { path: 'usr.sbin/bhyve/pci_passthru_quirks.c', status: 'created' },
      { path: 'usr.sbin/bhyve/Makefile', status: 'modified' },
    ]);
    assert.equal(doc.syntax.ok, true);
    assert.equal(doc.record.files.length, 2);
    assert.deepEqual(JSON.parse(readTree(dir, '.bhyve-gpu/patch-record.json')), doc.record);
    const snapshot = snapshotTree(dir);
    const second = cli('--src', dir, '--json');
    assert.equal(second.status, 0);
    assert.equal(JSON.parse(second.stdout).result, 'already-applied');
    assert.deepEqual(snapshotTree(dir), snapshot);
    const human = cli('--src', dir);
    assert.equal(human.status, 0);
    assert.match(human.stdout, /already applied/);
  });

  it('--dry-run prints the unified diff and writes nothing', () => {
    const dir = tree('15.0-amd64-makefile-inc');
    const before = snapshotTree(dir);
    const r = cli('--src', dir, '--dry-run');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\+\+\+ b\/usr\.sbin\/bhyve\/amd64\/Makefile\.inc$/m);
    assert.match(r.stdout, /^\+PASSTHRU_DEV_SET\(bhyve_gpu_nvidia\);$/m);
    assert.deepEqual(snapshotTree(dir), before);
    assert.equal(existsSync(`${dir}/.bhyve-gpu`), false);
  });

  it('--patch ports the D51892-shaped diff onto a 14.3 tree', () => {
    const dir = tree('14.3-makefile-srcs');
    const r = cli('--src', dir, '--patch', `${TREES}/diffs/intpin-quirk-amd64.diff`, '--json');
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.result, 'applied');
    assert.equal(doc.hunks[0].remappedTo, 'usr.sbin/bhyve/Makefile');
    assert.equal(
      doc.hunks.every((h: { status: string }) => h.status !== 'rejected'),
      true,
    );
    assert.match(readTree(dir, 'usr.sbin/bhyve/Makefile'), /pci_passthru_quirks\.c/);
    const again = cli('--src', dir, '--patch', `${TREES}/diffs/intpin-quirk-amd64.diff`, '--json');
    assert.equal(JSON.parse(again.stdout).result, 'already-applied');
  });

  it('a rejected hunk: exit 1, the reject text, nothing written', () => {
    const dir = tree('14.3-makefile-srcs');
    const before = snapshotTree(dir);
    const bad = `${dir}/bad.diff`;
    const text =
      '--- a/usr.sbin/bhyve/Makefile\n+++ b/usr.sbin/bhyve/Makefile\n@@ -1,2 +1,2 @@\n-PROG=\tnothere\n+PROG=\tbhyve2\n WARNS?=\t9\n';
    spawnSync('sh', ['-c', `cat > ${bad}`], { input: text });
    const r = cli('--src', dir, '--patch', bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /rejected: usr\.sbin\/bhyve\/Makefile: context not found/);
    assert.match(r.stderr, /-PROG=\tnothere/);
    const after = snapshotTree(dir);
    delete after['bad.diff'];
    assert.deepEqual(after, before);
  });

  it('13.x tree: exit 1 with a JSON failure document', () => {
    const dir = tree('13.2-no-framework');
    const r = cli('--src', dir, '--json');
    assert.equal(r.status, 1);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.result, 'failed');
    assert.equal(doc.error.code, 'tree-unsupported');
    const human = cli('--src', dir);
    assert.equal(human.status, 1);
    assert.match(human.stderr, /error: .*no passthru quirk framework/);
  });

  it('--root: the tree is read and written under the root', () => {
    const root = tree('14.3-split');
    const r = run('--root', root, 'patch', '--src', '/', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).tree.layout, 'split');
    assert.match(readTree(root, 'usr.sbin/bhyve/pci_passthru_quirks.c'), /PCIR_INTPIN, 1/);
    assert.equal(existsSync(`${root}/.bhyve-gpu/patch-record.json`), true);
  });

  it('--src is required (usage, exit 2)', () => {
    assert.equal(cli().status, 2);
  });

  it('--src must be an existing directory: exit 2 with a hint, before anything else', () => {
    const missing = cli('--src', '/nonexistent/bhyve-gpu-tree');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /\/nonexistent\/bhyve-gpu-tree: no such directory/);
    assert.match(missing.stderr, /bhyve-gpu source/);
    assert.doesNotMatch(missing.stderr, /Makefile not found|14\.x/);
    const dir = tree('14.3-makefile-srcs');
    const file = cli('--src', `${dir}/usr.sbin/bhyve/Makefile`);
    assert.equal(file.status, 2);
    assert.match(file.stderr, /Makefile: not a directory/);
    assert.doesNotMatch(file.stderr, /ENOTDIR/);
    const json = cli('--src', '/nonexistent/bhyve-gpu-tree', '--json');
    assert.equal(json.status, 2);
  });

  it('--partial with a rejected hunk: exit 4, says how many hunks applied and were rejected', () => {
    const dir = tree('14.3-makefile-srcs');
    const diff = `${dir}/mixed.diff`;
    const bad =
      '--- a/usr.sbin/bhyve/Makefile\n+++ b/usr.sbin/bhyve/Makefile\n@@ -1,2 +1,2 @@\n-PROG=\tnothere\n+PROG=\tbhyve2\n WARNS?=\t9\n';
    writeFileSync(diff, bad + readFileSync(`${TREES}/diffs/intpin-quirk-amd64.diff`, 'utf8'));
    const r = cli('--src', dir, '--patch', diff, '--partial');
    assert.equal(r.status, 4, r.stderr);
    const m = /partially applied: (\d+) of (\d+) hunks, 1 rejected/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m[1]) + 1, Number(m[2]));
    assert.doesNotMatch(r.stdout, /^applied;/m);
    assert.match(r.stderr, /rejected: usr\.sbin\/bhyve\/Makefile: context not found/);
    assert.match(readTree(dir, 'usr.sbin/bhyve/pci_passthru_quirks.c'), /PCIR_INTPIN/);
  });

  it('--help examples use the tree `bhyve-gpu source` fetches', () => {
    const r = cli('--help');
    assert.match(r.stdout, /patch --src \/usr\/local\/bhyve-gpu\/src --dry-run/);
    assert.doesNotMatch(r.stdout, /patch --src \/usr\/src/);
  });
});

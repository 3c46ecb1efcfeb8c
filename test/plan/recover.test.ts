import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/corpus.js';
import { cli, example, tempDir } from '../helpers/snap.js';

const P4 = join(REPO_ROOT, 'examples', 'hosts', 'tesla-p4-15.0.json');
const CONF = '/zdata/vms/xdev/xdev.conf';
const JOURNAL = 'var/db/bhyve-gpu/journal';

/**
 * What a run killed in the middle of `attach --yes` leaves: its journal entry in-progress with a step
 * running, the temp file of the atomic write it was doing, and its lock (pid gone). Made from a real apply
 * whose entry is set back to the state the kill leaves.
 */
function killedMidApply(): { root: string; id: string; temp: string } {
  const root = tempDir();
  const r = cli(['--host', P4, '--root', root, 'attach', '1/0/0', '--vm', 'xdev', '--yes']);
  assert.equal(r.status, 0, r.stderr);
  const [id] = readdirSync(join(root, JOURNAL));
  assert.ok(id);
  const file = join(root, JOURNAL, id, 'entry.json');
  const entry = JSON.parse(readFileSync(file, 'utf8'));
  entry.state = 'in-progress';
  entry.steps[0].status = 'running';
  writeFileSync(file, JSON.stringify(entry, null, 2));
  const temp = join(root, 'zdata/vms/xdev/.xdev.conf.bhyve-gpu.0a1b2c3d.tmp');
  writeFileSync(temp, 'passthru0="1/0/0=6:0"\nwired_mem');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(
    join(root, 'var/db/bhyve-gpu/lock'),
    JSON.stringify({
      pid: dead,
      hostname: hostname(),
      time: '2026-11-30T06:00:00.000Z',
      command: 'bhyve-gpu attach',
    }),
  );
  return { root, id, temp };
}

test('doctor and journal show an interrupted entry with the command that undoes it (and the one that finishes it)', () => {
  const { root, id } = killedMidApply();
  const d = cli(['--host', P4, '--root', root, 'doctor', '--json']);
  const check = JSON.parse(d.stdout).checks.find((c: { id: string }) => c.id === `journal.${id}`);
  assert.equal(check?.status, 'WARN');
  assert.deepEqual(check?.commands, [['bhyve-gpu', 'rollback', id, '--yes']]);
  assert.match(check?.fix ?? '', /finish it by running it again: bhyve-gpu .*attach 1\/0\/0 --vm xdev --yes/);
  const j = cli(['--host', P4, '--root', root, 'journal']);
  assert.equal(j.status, 0, j.stderr);
  assert.match(
    j.stderr,
    new RegExp(
      `interrupted: ${id.replace(/\./g, '\\.')} .*step 1 of 1 .* was running.*undo: bhyve-gpu rollback`,
    ),
  );
});

test('the next run takes over the dead lock (saying so), removes the temp file, and rollback restores exactly', () => {
  const { root, temp } = killedMidApply();
  // The temp file of a lock a dead run was creating goes; one a live run is creating right now stays.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const deadLockTemp = join(root, `var/db/bhyve-gpu/.lock.bhyve-gpu.p${dead}-beef.tmp`);
  const liveLockTemp = join(root, `var/db/bhyve-gpu/.lock.bhyve-gpu.p${process.pid}-cafe.tmp`);
  writeFileSync(deadLockTemp, '{"pid":');
  writeFileSync(liveLockTemp, '{"pid":');
  const r = cli(['--host', P4, '--root', root, 'rollback', '--yes']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /took over the lock .*var\/db\/bhyve-gpu\/lock: pid \d+ \(bhyve-gpu attach\).*no longer running/,
  );
  assert.match(
    r.stderr,
    /removed .*\.xdev\.conf\.bhyve-gpu\.0a1b2c3d\.tmp: the temporary file of an interrupted write/,
  );
  assert.equal(existsSync(temp), false);
  assert.equal(existsSync(deadLockTemp), false);
  assert.equal(existsSync(liveLockTemp), true);
  assert.equal(readFileSync(join(root, CONF), 'utf8'), example('tesla-p4-15.0').files[CONF]);
  assert.equal(existsSync(join(root, 'var/db/bhyve-gpu/lock')), false);
});

test('a run killed while taking the lock, before any journal entry: the next run removes the lock temp file', () => {
  const root = tempDir();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const stateDir = join(root, 'var/db/bhyve-gpu');
  mkdirSync(stateDir, { recursive: true });
  const deadLockTemp = join(stateDir, `.lock.bhyve-gpu.p${dead}-beef.tmp`);
  writeFileSync(deadLockTemp, '{"pid":');
  const r = cli(['--host', P4, '--root', root, 'rollback', '--yes']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(existsSync(join(root, JOURNAL)), false);
  assert.equal(existsSync(deadLockTemp), false);
});

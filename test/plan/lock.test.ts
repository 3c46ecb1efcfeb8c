import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { test } from 'node:test';
import type { ToolError } from '../../src/errors.js';
import { applyPlan } from '../../src/plan/apply.js';
import { listEntries } from '../../src/plan/journal.js';
import { acquireLock } from '../../src/plan/lock.js';
import { makeFileEdit, type Plan } from '../../src/plan/types.js';
import { JOURNAL, makeRoot } from './setup.js';

const LOCK = '/var/db/bhyve-gpu/lock';

function fixture() {
  const root = makeRoot();
  root.write('/boot/loader.conf', 'a="1"\n');
  const plan: Plan = {
    title: 't',
    steps: [makeFileEdit('/boot/loader.conf', 'a="1"\n', 'a="2"\n', 'r')],
    notes: [],
  };
  return { root, plan };
}

test('two applies started at once: one applies, the other is refused by the lock', async () => {
  const { root, plan } = fixture();
  const results = await Promise.allSettled([
    applyPlan(root.host, plan, { command: 'one' }),
    applyPlan(root.host, plan, { command: 'two' }),
  ]);
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(ok.length, 1);
  assert.equal(refused.length, 1);
  const reason = (refused[0] as PromiseRejectedResult).reason as ToolError;
  assert.equal(reason.code, 'locked');
  assert.match(reason.message, new RegExp(`another bhyve-gpu apply is running \\(pid ${process.pid}\\)`));
  assert.equal((await listEntries(root.host, JOURNAL)).length, 1);
  assert.equal(root.read(LOCK), undefined, 'released by the winner');
});

test('a lock file held by a live pid refuses the apply and is left in place', async () => {
  const { root, plan } = fixture();
  const info = {
    pid: process.ppid,
    hostname: hostname(),
    time: '2026-11-26T10:00:00.000Z',
    command: 'bhyve-gpu install',
  };
  root.write(LOCK, JSON.stringify(info));
  await assert.rejects(applyPlan(root.host, plan, { command: 'x' }), (e: ToolError) => {
    assert.equal(e.code, 'locked');
    assert.equal(e.message, `another bhyve-gpu apply is running (pid ${process.ppid}): bhyve-gpu install`);
    return true;
  });
  assert.equal(root.read('/boot/loader.conf')?.toString(), 'a="1"\n');
  assert.equal(root.read(LOCK)?.toString(), JSON.stringify(info));
});

test('a stale lock (pid not running on this host) is taken over, saying so, and the apply goes on', async () => {
  const { root, plan } = fixture();
  const child = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
  assert.ok(child.pid > 0);
  root.write(LOCK, JSON.stringify({ pid: child.pid, hostname: hostname(), time: 't', command: 'c' }));
  const notes: string[] = [];
  const r = await applyPlan(root.host, plan, { command: 'x', onProgress: (l) => notes.push(l) });
  assert.equal(r.status, 'applied');
  assert.match(
    notes.join('\n'),
    new RegExp(`took over the lock .*/var/db/bhyve-gpu/lock: pid ${child.pid} \\(c\\).*no longer running`),
  );
  assert.equal(root.read('/boot/loader.conf')?.toString(), 'a="2"\n');
  assert.equal(root.read(LOCK), undefined, 'released after the apply');
});

test('a lock of another host, or an unreadable one, is never taken over; the hint names the rooted path', async () => {
  const { root, plan } = fixture();
  root.write(LOCK, JSON.stringify({ pid: 1, hostname: 'elsewhere', time: 't', command: 'c' }));
  await assert.rejects(applyPlan(root.host, plan, { command: 'x' }), (e: ToolError) => {
    assert.equal(e.code, 'locked');
    assert.ok(e.hint?.includes(`remove ${root.dir}/var/db/bhyve-gpu/lock`), e.hint);
    return true;
  });
  root.write(LOCK, 'garbage');
  await assert.rejects(applyPlan(root.host, plan, { command: 'x' }), { code: 'locked' });
  assert.equal(root.read(LOCK)?.toString(), 'garbage');
});

test('the lock holds pid and time, and is released after a failed apply', async () => {
  const { root } = fixture();
  const lock = await acquireLock(root.host, { command: 'bhyve-gpu attach', now: () => new Date(0) });
  const held = JSON.parse(root.read(LOCK)?.toString() ?? '{}') as {
    pid: number;
    time: string;
    command: string;
  };
  assert.deepEqual(
    [held.pid, held.time, held.command],
    [process.pid, '1970-01-01T00:00:00.000Z', 'bhyve-gpu attach'],
  );
  await lock.release();
  assert.equal(root.read(LOCK), undefined);
  const failing: Plan = { title: 't', steps: [{ kind: 'command', argv: ['false'], reason: 'r' }], notes: [] };
  await assert.rejects(applyPlan(root.host, failing, { command: 'x' }), {
    code: 'apply-failed',
    exitCode: 1,
  });
  assert.equal(root.read(LOCK), undefined);
});

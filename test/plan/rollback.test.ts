import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ToolError } from '../../src/errors.js';
import { applyPlan } from '../../src/plan/apply.js';
import { readEntry } from '../../src/plan/journal.js';
import { previewRollback, RollbackConflictError, rollback } from '../../src/plan/rollback.js';
import { makeFileEdit, type Plan } from '../../src/plan/types.js';
import { JOURNAL, makeRoot } from './setup.js';

const loader = 'vmm_load="YES"\n';
const loaderAfter = 'vmm_load="YES"\npptdevs="1/0/0"\n';
const vmConf = 'loader="uefi"\ncpu=4\n';
const vmConfAfter = 'loader="uefi"\ncpu=4\npassthru0="1/0/0=6:0"\n';

function fixture() {
  const root = makeRoot();
  root.write('/boot/loader.conf', loader);
  root.write('/vm/gpu/gpu.conf', vmConf);
  const plan: Plan = {
    title: 'attach',
    steps: [
      makeFileEdit('/boot/loader.conf', loader, loaderAfter, 'reserve'),
      makeFileEdit('/vm/gpu/gpu.conf', vmConf, vmConfAfter, 'pass through'),
    ],
    notes: [],
  };
  return { root, plan };
}

test('a file changed after apply: the whole rollback is refused with a diff, nothing restored', async () => {
  const { root, plan } = fixture();
  const { entry } = await applyPlan(root.host, plan, { command: 'x' });
  root.write('/vm/gpu/gpu.conf', `${vmConfAfter}memory=16G\n`);
  await assert.rejects(rollback(root.host, {}), (e: RollbackConflictError) => {
    assert.ok(e instanceof RollbackConflictError);
    assert.equal(e.code, 'rollback-conflict');
    assert.deepEqual(
      e.conflicts.map((c) => c.path),
      ['/vm/gpu/gpu.conf'],
    );
    assert.match(e.conflicts[0]?.diff ?? '', /^--- a\/vm\/gpu\/gpu\.conf\n\+\+\+ b\/vm\/gpu\/gpu\.conf\n/);
    assert.match(e.conflicts[0]?.diff ?? '', /^\+memory=16G$/m);
    return true;
  });
  assert.equal(
    root.read('/boot/loader.conf')?.toString(),
    loaderAfter,
    'the unchanged file is not restored either',
  );
  assert.equal((await readEntry(root.host, JOURNAL, entry?.id ?? ''))?.state, 'applied');
  assert.equal(root.read('/var/db/bhyve-gpu/lock'), undefined);
  // Put the file back as the entry wrote it: the rollback goes through.
  root.write('/vm/gpu/gpu.conf', vmConfAfter);
  assert.equal((await rollback(root.host, {})).status, 'rolled-back');
  assert.equal(root.read('/vm/gpu/gpu.conf')?.toString(), vmConf);
});

test('preview lists the actions in reverse order and leaves files alone', async () => {
  const { root, plan } = fixture();
  await applyPlan(root.host, plan, { command: 'x' });
  const p = await previewRollback(root.host, {});
  assert.equal(p.status, 'ready');
  assert.deepEqual(
    p.actions.map((a) => (a.kind === 'undo' ? a.argv.join(' ') : `${a.kind} ${a.path}`)),
    ['restore /vm/gpu/gpu.conf', 'restore /boot/loader.conf'],
  );
  assert.equal(root.read('/boot/loader.conf')?.toString(), loaderAfter);
});

test('default is the latest entry; an older one is named by id; a file already back is left alone', async () => {
  const { root, plan } = fixture();
  const first = await applyPlan(root.host, { ...plan, steps: [plan.steps[0]!] }, { command: 'first' });
  const second = await applyPlan(root.host, { ...plan, steps: [plan.steps[1]!] }, { command: 'second' });
  assert.ok(first.entry && second.entry && first.entry.id < second.entry.id, 'ids sort by time');
  const latest = await rollback(root.host, {});
  assert.equal(latest.preview.id, second.entry.id);
  assert.equal(root.read('/vm/gpu/gpu.conf')?.toString(), vmConf);
  assert.equal(root.read('/boot/loader.conf')?.toString(), loaderAfter);
  assert.equal((await rollback(root.host, {})).status, 'already', 'twice: already rolled back');
  // The user reverted loader.conf by hand: nothing left to restore, the entry is still closed.
  root.write('/boot/loader.conf', loader);
  const p = await previewRollback(root.host, { id: first.entry.id });
  assert.equal(p.status, 'nothing');
  assert.deepEqual(p.unchanged, ['/boot/loader.conf']);
  assert.equal((await rollback(root.host, { id: first.entry.id })).status, 'rolled-back');
  assert.equal((await readEntry(root.host, JOURNAL, first.entry.id))?.state, 'rolled-back');
});

test('an empty journal and an unknown id', async () => {
  const { root } = fixture();
  assert.equal((await rollback(root.host, {})).status, 'nothing');
  await assert.rejects(previewRollback(root.host, { id: '20990101T000000.000Z-000000' }), {
    code: 'journal-entry-missing',
  });
  await assert.rejects(previewRollback(root.host, { id: '../../etc' }), { code: 'journal-entry-missing' });
});

test('a damaged backup is refused, not restored', async () => {
  const { root, plan } = fixture();
  const { entry } = await applyPlan(root.host, plan, { command: 'x' });
  root.write(`${JOURNAL}/${entry?.id}/files/0`, 'garbage\n', 0o600);
  await assert.rejects(rollback(root.host, {}), (e: ToolError) => {
    assert.equal(e.code, 'rollback-failed');
    assert.match(e.message, /damaged/);
    return true;
  });
  assert.equal(root.read('/boot/loader.conf')?.toString(), loaderAfter);
});

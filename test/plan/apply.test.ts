import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ParseError, type ToolError } from '../../src/errors.js';
import { ApplyError, applyPlan } from '../../src/plan/apply.js';
import { listEntries, readEntry } from '../../src/plan/journal.js';
import { rollback } from '../../src/plan/rollback.js';
import { makeFileEdit, type Plan } from '../../src/plan/types.js';
import { JOURNAL, makeRoot, walk } from './setup.js';

const loader = 'vmm_load="YES"\n# keep this comment\n';
const loaderAfter = 'vmm_load="YES"\n# keep this comment\npptdevs="1/0/0"\n';
const rcConf = 'vm_enable="YES"\nvm_dir="zfs:zroot/vm"\n';
const binary = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 255, 254, 10]);

function fixture() {
  const root = makeRoot();
  root.write('/boot/loader.conf', loader, 0o644);
  root.write('/etc/rc.conf', rcConf, 0o600);
  root.write('/etc/old.conf', 'obsolete\n', 0o640);
  root.write('/usr/sbin/bhyve', binary, 0o555);
  root.write('/usr/obj/bhyve', Uint8Array.from([1, 2, 3]), 0o644);
  const plan: Plan = {
    title: 'attach 1/0/0 to gpu',
    steps: [
      makeFileEdit('/boot/loader.conf', loader, loaderAfter, 'reserve'),
      makeFileEdit('/etc/rc.conf', rcConf, `${rcConf}ppt_load="YES"\n`, 'load ppt'),
      makeFileEdit('/etc/new.conf', undefined, 'created\n', 'new file'),
      makeFileEdit('/etc/old.conf', 'obsolete\n', undefined, 'delete'),
      { kind: 'file-install', path: '/usr/sbin/bhyve', from: '/usr/obj/bhyve', reason: 'patched bhyve' },
    ],
    notes: [],
  };
  return { root, plan };
}

test('apply then rollback gives back the original bytes and modes', async () => {
  const { root, plan } = fixture();
  const result = await applyPlan(root.host, plan, { command: 'bhyve-gpu attach 1/0/0 gpu' });
  assert.equal(result.status, 'applied');
  assert.equal(root.read('/boot/loader.conf')?.toString(), loaderAfter);
  assert.equal(root.read('/etc/new.conf')?.toString(), 'created\n');
  assert.equal(root.read('/etc/old.conf'), undefined);
  assert.deepEqual([...(root.read('/usr/sbin/bhyve') ?? [])], [1, 2, 3]);
  assert.equal(root.mode('/etc/rc.conf'), 0o600, 'an edit keeps the mode');
  assert.equal(root.mode('/usr/sbin/bhyve'), 0o555, 'an install over a file keeps its mode');
  const entry = await readEntry(root.host, JOURNAL, result.entry?.id ?? '');
  assert.equal(entry?.state, 'applied');
  assert.deepEqual(
    entry?.steps.map((s) => s.status),
    ['done', 'done', 'done', 'done', 'done'],
  );
  assert.equal(entry?.command, 'bhyve-gpu attach 1/0/0 gpu');
  assert.equal(root.read('/var/db/bhyve-gpu/lock'), undefined, 'the lock is released');

  const back = await rollback(root.host, {});
  assert.equal(back.status, 'rolled-back');
  assert.equal(root.read('/boot/loader.conf')?.toString(), loader);
  assert.equal(root.read('/etc/rc.conf')?.toString(), rcConf);
  assert.equal(root.read('/etc/new.conf'), undefined, 'a created file is deleted');
  assert.equal(root.read('/etc/old.conf')?.toString(), 'obsolete\n');
  assert.equal(root.mode('/etc/old.conf'), 0o640, 'a deleted file comes back with its mode');
  assert.deepEqual([...(root.read('/usr/sbin/bhyve') ?? [])], [...binary]);
  assert.equal(root.mode('/usr/sbin/bhyve'), 0o555);
  assert.equal(root.mode('/etc/rc.conf'), 0o600);
  assert.equal((await readEntry(root.host, JOURNAL, back.preview.id ?? ''))?.state, 'rolled-back');
  assert.equal((await rollback(root.host, {})).status, 'already');
});

test('backups in the entry hold the original bytes, with mode and path in entry.json', async () => {
  const { root, plan } = fixture();
  const { entry } = await applyPlan(root.host, plan, { command: 'x' });
  const dir = root.real(`${JOURNAL}/${entry?.id}`);
  const json = JSON.parse(readFileSync(join(dir, 'entry.json'), 'utf8')) as {
    files: { path: string; backup?: string; mode?: number }[];
  };
  const rc = json.files.find((f) => f.path === '/etc/rc.conf');
  assert.equal(rc?.mode, 0o600);
  assert.equal(readFileSync(join(dir, rc?.backup ?? 'missing'), 'utf8'), rcConf);
  const created = json.files.find((f) => f.path === '/etc/new.conf');
  assert.equal(created?.backup, undefined, 'a file that was absent has no backup');
});

test('a file changed since the plan was made: refused before anything is touched', async () => {
  const { root, plan } = fixture();
  root.write('/etc/rc.conf', 'vm_enable="NO"\n', 0o600);
  await assert.rejects(applyPlan(root.host, plan, { command: 'x' }), (e: ToolError) => {
    assert.equal(e.code, 'plan-stale');
    assert.match(e.message, /\/etc\/rc\.conf changed since the plan was made/);
    assert.match(e.message, /^\+vm_enable="NO"$/m);
    return true;
  });
  assert.equal(root.read('/boot/loader.conf')?.toString(), loader, 'the first file is untouched');
  assert.deepEqual(await listEntries(root.host, JOURNAL), []);
  assert.equal(root.read('/var/db/bhyve-gpu/lock'), undefined);
});

test('re-applying an applied plan is a no-op without a journal entry; so is a plan with no change', async () => {
  const { root, plan } = fixture();
  await applyPlan(root.host, plan, { command: 'x' });
  const again = await applyPlan(root.host, plan, { command: 'x' });
  assert.equal(again.status, 'noop');
  assert.equal(again.message, 'already in the desired state');
  const same = makeFileEdit('/etc/rc.conf', rcConf, rcConf, 'nothing');
  assert.equal(
    (await applyPlan(root.host, { title: 't', steps: [same], notes: [] }, { command: 'x' })).status,
    'noop',
  );
  assert.equal((await listEntries(root.host, JOURNAL)).length, 1);
});

test('a failing command stops the apply: state failed, exit 4, rollback undoes what was done', async () => {
  const { root } = fixture();
  const log = root.real('/undo.log');
  const append = (word: string) => [
    process.execPath,
    '-e',
    `require('fs').appendFileSync(${JSON.stringify(log)}, '${word}\\n')`,
  ];
  const plan: Plan = {
    title: 'with commands',
    steps: [
      makeFileEdit('/boot/loader.conf', loader, loaderAfter, 'reserve'),
      { kind: 'command', argv: append('do-1'), undo: append('undo-1'), reason: 'one', recordOutput: true },
      { kind: 'command', argv: append('do-2'), undo: append('undo-2'), reason: 'two' },
      {
        kind: 'command',
        argv: [process.execPath, '-e', 'console.error("no such device"); process.exit(3)'],
        undo: append('undo-3'),
        reason: 'fails',
      },
      makeFileEdit('/etc/rc.conf', rcConf, 'never\n', 'not reached'),
    ],
    notes: [],
  };
  const error = await applyPlan(root.host, plan, { command: 'x' }).then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplyError);
  assert.equal(error.exitCode, 4);
  assert.match(error.message, /step 4 .* exited with 3: no such device/);
  const entry = await readEntry(root.host, JOURNAL, error.entry.id);
  assert.equal(entry?.state, 'failed');
  assert.deepEqual(
    entry?.steps.map((s) => s.status),
    ['done', 'done', 'done', 'failed', 'pending'],
  );
  assert.equal(entry?.steps[1]?.result?.stdout, '');
  assert.equal(entry?.steps[3]?.result?.exitCode, 3);
  assert.equal(root.read('/etc/rc.conf')?.toString(), rcConf);

  await rollback(root.host, { id: error.entry.id });
  assert.equal(root.read('/boot/loader.conf')?.toString(), loader);
  // Undo runs in reverse, and only for the commands that ran successfully.
  assert.equal(readFileSync(log, 'utf8'), 'do-1\ndo-2\nundo-2\nundo-1\n');
});

test('the verify hook is called with each written file; a ParseError fails the apply as partial', async () => {
  const { root, plan } = fixture();
  const seen: string[] = [];
  const verify = (path: string, text: string) => {
    seen.push(path);
    if (path === '/etc/rc.conf') throw new ParseError('unterminated quote', { file: path, line: 3 });
    assert.equal(text, loaderAfter);
  };
  await assert.rejects(applyPlan(root.host, plan, { command: 'x', verify }), (e: ApplyError) => {
    assert.equal(e.exitCode, 4);
    assert.match(e.message, /\/etc\/rc\.conf:3: unterminated quote/);
    return true;
  });
  assert.deepEqual(seen, ['/boot/loader.conf', '/etc/rc.conf']);
  await rollback(root.host, {});
  assert.equal(root.read('/etc/rc.conf')?.toString(), rcConf);
  assert.equal(root.read('/boot/loader.conf')?.toString(), loader);
  assert.ok(!walk(root.dir).some((f) => f.endsWith('.tmp')));
});

test('creating a file in a directory that does not exist is refused up front', async () => {
  const { root } = fixture();
  const plan: Plan = {
    title: 't',
    steps: [makeFileEdit('/usr/local/etc/none/x.conf', undefined, 'a\n', 'r')],
    notes: [],
  };
  await assert.rejects(applyPlan(root.host, plan, { command: 'x' }), { code: 'no-directory' });
  assert.deepEqual(await listEntries(root.host, JOURNAL), []);
});

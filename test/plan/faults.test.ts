import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { test } from 'node:test';
import { type AtomicFs, realFs } from '../../src/host/atomic.js';
import { ApplyError, applyPlan } from '../../src/plan/apply.js';
import { listEntries, readEntry } from '../../src/plan/journal.js';
import { rollback } from '../../src/plan/rollback.js';
import { makeFileEdit, type Plan } from '../../src/plan/types.js';
import { hostOver, JOURNAL, makeRoot, walk } from './setup.js';

const loader = 'vmm_load="YES"\n';
const loaderAfter = 'vmm_load="YES"\npptdevs="1/0/0"\n';
const rc = 'vm_enable="YES"\n'.repeat(50);
const rcAfter = `${rc}ppt_load="YES"\n`;
const oldBinary = Buffer.from('old bhyve binary');
const newBinary = Buffer.from('new patched bhyve binary');

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault`), { code });
}

/** A temp file of atomicWrite for `name` (".name.bhyve-gpu.<hex>.tmp"). */
const tempOf = (path: string, name: string) => path.includes(`/.${name}.bhyve-gpu.`);

function fixture() {
  const root = makeRoot();
  root.write('/boot/loader.conf', loader, 0o644);
  root.write('/etc/rc.conf', rc, 0o600);
  root.write('/usr/sbin/bhyve', oldBinary, 0o555);
  root.write('/usr/obj/bhyve', newBinary, 0o755);
  const plan: Plan = {
    title: 'faults',
    steps: [
      makeFileEdit('/boot/loader.conf', loader, loaderAfter, 'reserve'),
      makeFileEdit('/etc/rc.conf', rc, rcAfter, 'load ppt'),
      makeFileEdit('/etc/new.conf', undefined, 'new\n', 'create'),
      { kind: 'file-install', path: '/usr/sbin/bhyve', from: '/usr/obj/bhyve', reason: 'install' },
    ],
    notes: [],
  };
  const states: Record<string, [Buffer | undefined, Buffer | undefined]> = {
    '/boot/loader.conf': [Buffer.from(loader), Buffer.from(loaderAfter)],
    '/etc/rc.conf': [Buffer.from(rc), Buffer.from(rcAfter)],
    '/etc/new.conf': [undefined, Buffer.from('new\n')],
    '/usr/sbin/bhyve': [oldBinary, newBinary],
  };
  /** Every file is either old or new (never partial) and no temp file is left anywhere. */
  const checkConsistent = (label: string) => {
    for (const [path, [old, now]] of Object.entries(states)) {
      const bytes = root.read(path);
      const isOld = old === undefined ? bytes === undefined : bytes?.equals(old) === true;
      const isNew = bytes?.equals(now as Buffer) === true;
      assert.ok(isOld || isNew, `${label}: ${path} is neither old nor new: ${bytes?.toString()}`);
    }
    assert.deepEqual(
      walk(root.dir).filter((f) => f.includes('.bhyve-gpu.')),
      [],
      `${label}: temp files left`,
    );
  };
  const checkOriginal = (label: string) => {
    for (const [path, [old]] of Object.entries(states))
      assert.deepEqual(root.read(path), old, `${label}: ${path} not restored`);
    assert.equal(root.mode('/etc/rc.conf'), 0o600);
    assert.equal(root.mode('/usr/sbin/bhyve'), 0o555);
  };
  return { root, plan, checkConsistent, checkOriginal };
}

async function failingApply(fs: AtomicFs) {
  const f = fixture();
  const host = hostOver(f.root.dir, fs);
  const error = await applyPlan(host, f.plan, { command: 'x' }).then(
    () => assert.fail('the apply should fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplyError, String(error));
  f.checkConsistent('after the fault');
  const entry = await readEntry(f.root.host, JOURNAL, error.entry.id);
  assert.equal(entry?.state, 'failed');
  assert.ok(f.root.read(`${JOURNAL}/${error.entry.id}/files/0`), 'backups are present');
  assert.equal(f.root.read('/var/db/bhyve-gpu/lock'), undefined);
  await rollback(f.root.host, { id: error.entry.id });
  f.checkOriginal('after rollback');
  return { error, entry };
}

test('ENOSPC half-way through writing a file: it stays old, the entry says failed, rollback restores', async () => {
  const fs: AtomicFs = {
    ...realFs,
    async open(path, flags, mode) {
      const handle = await fsp.open(path, flags, mode);
      if (!tempOf(path, 'rc.conf')) return handle;
      return new Proxy(handle, {
        get(target, prop) {
          if (prop === 'writeFile')
            return async (data: string) => {
              await target.write(data.slice(0, data.length / 2));
              throw errno('ENOSPC');
            };
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  };
  const { error, entry } = await failingApply(fs);
  assert.equal(error.exitCode, 4);
  assert.match(error.message, /step 2 \(edit \/etc\/rc\.conf\) failed: ENOSPC/);
  assert.deepEqual(
    entry?.steps.map((s) => s.status),
    ['done', 'failed', 'pending', 'pending'],
  );
});

test('EACCES opening the first temp file: nothing changed, exit 1', async () => {
  const fs: AtomicFs = {
    ...realFs,
    open: (path, flags, mode) =>
      tempOf(path, 'loader.conf') ? Promise.reject(errno('EACCES')) : realFs.open(path, flags, mode),
  };
  const { error, entry } = await failingApply(fs);
  assert.equal(error.exitCode, 1);
  assert.deepEqual(
    entry?.steps.map((s) => s.status),
    ['failed', 'pending', 'pending', 'pending'],
  );
});

test('a crash between the temp file and the rename (rename throws) leaves the old binary', async () => {
  const fs: AtomicFs = {
    ...realFs,
    rename: (from, to) =>
      to.endsWith('/usr/sbin/bhyve') ? Promise.reject(errno('EIO')) : realFs.rename(from, to),
  };
  const { error, entry } = await failingApply(fs);
  assert.equal(error.exitCode, 4);
  assert.deepEqual(
    entry?.steps.map((s) => s.status),
    ['done', 'done', 'done', 'failed'],
  );
});

test('a crash at every point of an apply: files old or new, the journal readable, rollback restores', async () => {
  // Count the renames of a clean apply, then "crash" (every later call fails) after each of them.
  let renames = 0;
  const counting: AtomicFs = {
    ...realFs,
    rename: (a, b) => {
      renames++;
      return realFs.rename(a, b);
    },
  };
  const clean = fixture();
  await applyPlan(hostOver(clean.root.dir, counting), clean.plan, { command: 'x' });
  assert.ok(renames > 8, `a clean apply makes ${renames} renames`);
  for (let k = 0; k < renames; k++) {
    const f = fixture();
    let left = k;
    let dead = false;
    const crash = <T>(go: () => Promise<T>): Promise<T> => (dead ? Promise.reject(errno('EIO')) : go());
    const fs: AtomicFs = {
      ...realFs,
      open: (p, fl, m) => crash(() => realFs.open(p, fl, m)),
      rename: (a, b) =>
        crash(() => {
          if (left-- === 0) {
            dead = true;
            return Promise.reject(errno('EIO'));
          }
          return realFs.rename(a, b);
        }),
    };
    await assert.rejects(applyPlan(hostOver(f.root.dir, fs), f.plan, { command: 'x' }));
    f.checkConsistent(`crash after ${k} renames`);
    const entries = await listEntries(f.root.host, JOURNAL);
    assert.equal(entries.length, 1, `crash after ${k}: one entry directory`);
    assert.ok(['incomplete', 'pending', 'in-progress', 'failed'].includes(entries[0]?.state ?? ''));
    const result = await rollback(f.root.host, {});
    assert.ok(['rolled-back', 'nothing'].includes(result.status), result.message);
    f.checkOriginal(`crash after ${k} renames, rolled back`);
  }
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { applyPlan } from '../../src/plan/apply.js';
import { makeFileEdit } from '../../src/plan/types.js';
import { makeRoot } from './setup.js';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const loader = 'vmm_load="YES"\n';
const loaderAfter = 'vmm_load="YES"\npptdevs="1/0/0"\n';

async function applied() {
  const root = makeRoot();
  root.write('/boot/loader.conf', loader);
  const plan = {
    title: 'attach 1/0/0',
    steps: [makeFileEdit('/boot/loader.conf', loader, loaderAfter, 'r')],
    notes: [],
  };
  const { entry } = await applyPlan(root.host, plan, { command: 'bhyve-gpu attach 1/0/0 gpu' });
  return { root, id: entry?.id ?? '' };
}

test('journal --json lists entries with id, time, state, command and files', async () => {
  const { root, id } = await applied();
  const r = cli('journal', '--root', root.dir, '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { schemaVersion: number; entries: Record<string, unknown>[] };
  assert.equal(doc.schemaVersion, 1);
  assert.deepEqual(doc.entries, [
    {
      id,
      time: doc.entries[0]?.time,
      state: 'applied',
      command: 'bhyve-gpu attach 1/0/0 gpu',
      title: 'attach 1/0/0',
      files: ['/boot/loader.conf'],
    },
  ]);
  const human = cli('journal', '--root', root.dir);
  assert.match(
    human.stdout,
    new RegExp(
      `^${id.replace(/\./g, '\\.')} .* applied +bhyve-gpu attach 1/0/0 gpu +/boot/loader.conf$`,
      'm',
    ),
  );
  const empty = cli('journal', '--root', makeRoot().dir, '--json');
  assert.deepEqual(JSON.parse(empty.stdout).entries, []);
});

test('journal show <id> prints the steps and the diff; an unknown id fails', async () => {
  const { root, id } = await applied();
  const r = cli('journal', 'show', id, '--root', root.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^state +applied$/m);
  assert.match(r.stdout, /^\+pptdevs="1\/0\/0"$/m);
  assert.match(r.stdout, /\/boot\/loader\.conf: backup files\/0 mode 0644/);
  const json = JSON.parse(cli('journal', 'show', id, '--root', root.dir, '--json').stdout);
  assert.equal(json.entry.id, id);
  const missing = cli('journal', 'show', '20990101T000000.000Z-000000', '--root', root.dir);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no journal entry/);
});

test('rollback: a preview exits 0 like every plan, --check 3, --yes restores, twice says already rolled back', async () => {
  const { root, id } = await applied();
  const dry = cli('rollback', '--root', root.dir);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(cli('rollback', '--root', root.dir, '--check').code, 3);
  assert.match(dry.stdout, /restore \/boot\/loader\.conf from the journal backup/);
  assert.match(dry.stderr, /--yes/);
  assert.equal(root.read('/boot/loader.conf')?.toString(), loaderAfter);
  assert.equal(cli('rollback', '--root', root.dir, '--dry-run', '--yes').code, 2, '--yes with --dry-run');
  const json = JSON.parse(cli('rollback', '--root', root.dir, '--json', '--dry-run').stdout);
  assert.equal(json.rollback.status, 'ready');
  assert.equal(json.rollback.dryRun, true);
  assert.deepEqual(json.rollback.actions, [{ kind: 'restore', path: '/boot/loader.conf', mode: 0o644 }]);
  const done = cli('rollback', id, '--yes', '--root', root.dir);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, new RegExp(`rolled back ${id.replace(/\./g, '\\.')}`));
  assert.equal(root.read('/boot/loader.conf')?.toString(), loader);
  const again = cli('rollback', '--yes', '--root', root.dir);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already rolled back/);
  const state = JSON.parse(cli('journal', '--root', root.dir, '--json').stdout).entries[0].state;
  assert.equal(state, 'rolled-back');
});

test('rollback refuses with a diff when the file changed since, exit 1, nothing restored', async () => {
  const { root } = await applied();
  root.write('/boot/loader.conf', `${loaderAfter}hw.vmm.amdvi.enable="1"\n`);
  const r = cli('rollback', '--yes', '--root', root.dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^--- a\/boot\/loader\.conf$/m);
  assert.match(r.stdout, /^\+hw\.vmm\.amdvi\.enable="1"$/m);
  assert.match(r.stderr, /nothing was restored/);
  assert.equal(root.read('/boot/loader.conf')?.toString(), `${loaderAfter}hw.vmm.amdvi.enable="1"\n`);
});

/** Two applied entries, the newer one with a truncated entry.json. */
async function oneDamaged() {
  const { root, id: good } = await applied();
  root.write('/etc/rc.conf', 'vm_enable="NO"\n');
  const plan = {
    title: 'vm_enable',
    steps: [makeFileEdit('/etc/rc.conf', 'vm_enable="NO"\n', 'vm_enable="YES"\n', 'r')],
    notes: [],
  };
  const { entry } = await applyPlan(root.host, plan, { command: 'bhyve-gpu setup' });
  const bad = entry?.id ?? '';
  assert.ok(bad > good);
  const file = root.real(`/var/db/bhyve-gpu/journal/${bad}/entry.json`);
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.slice(0, text.length / 2));
  return { root, good, bad };
}

test('journal: a truncated entry.json is listed as unreadable, the others still show, exit 0', async () => {
  const { root, good, bad } = await oneDamaged();
  const r = cli('journal', '--root', root.dir, '--json');
  assert.equal(r.code, 0, r.stderr);
  const entries = JSON.parse(r.stdout).entries as { id: string; state: string; error?: string }[];
  assert.deepEqual(
    entries.map((e) => [e.id, e.state]),
    [
      [good, 'applied'],
      [bad, 'unreadable'],
    ],
  );
  assert.match(entries[1]?.error ?? '', /entry\.json: not valid JSON/);
  const human = cli('journal', '--root', root.dir);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^${bad.replace(/\./g, '\\.')} +unreadable`, 'm'));
  assert.match(human.stdout, /applied +bhyve-gpu attach 1\/0\/0 gpu/);
  assert.match(human.stderr, /is unreadable: .*entry\.json: not valid JSON/);
});

test('rollback skips an unreadable newest entry (and says so); naming it gives the parse error', async () => {
  const { root, good, bad } = await oneDamaged();
  const dry = cli('rollback', '--root', root.dir, '--json');
  assert.equal(dry.code, 0, dry.stderr);
  const doc = JSON.parse(dry.stdout).rollback;
  assert.equal(doc.id, good);
  assert.equal(doc.skipped[0]?.id, bad);
  assert.match(dry.stderr, new RegExp(`skipped unreadable journal entry ${bad.replace(/\./g, '\\.')}`));
  const named = cli('rollback', bad, '--root', root.dir);
  assert.equal(named.code, 1);
  assert.match(named.stderr, new RegExp(`${bad.replace(/\./g, '\\.')}/entry.json: not valid JSON`));
});

test('--help of both commands shows examples and exit codes', () => {
  for (const name of ['journal', 'rollback']) {
    const r = cli(name, '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /Exit codes:/);
  }
});

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/corpus.js';
import { example, tempDir } from '../helpers/snap.js';
import { walk } from './setup.js';

/**
 * Recovery after a crash needs no hand work (issue 9): `attach --yes` on a --root overlay is killed with
 * SIGKILL at random moments. After every kill no target file is torn (each is its old or its new bytes),
 * and a plain `rollback --yes` (no lock removed by hand) brings back the original bytes exactly and leaves
 * no temporary file and no lock behind. Bounded: at most TRIES runs or BUDGET_MS, whichever comes first.
 */
const TRIES = 60;
const BUDGET_MS = 60_000;
const MIN_TRIES = 8;

const RTX = join(REPO_ROOT, 'examples', 'hosts', 'rtx2080ti-14.3.json');
const TARGETS = ['/boot/loader.conf', '/vm/cuda/cuda.conf'];
const ATTACH = ['attach', '2/0/0', '--vm', 'cuda', '--remove-stale', '--yes'];

/** The built CLI when it is newer than every source file (npm test builds first), else the sources via tsx. */
function cliCommand(): string[] {
  const built = join(REPO_ROOT, 'dist', 'cli.js');
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((d) =>
        d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs,
      ),
    );
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(REPO_ROOT, 'src'))) return [built];
  return ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli.ts')];
}

const CLI = cliCommand();

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Start attach --yes under `root` and SIGKILL it: `delayMs` after start, or after its first step line. */
function attachKilled(root: string, when: { afterStep: boolean; delayMs: number }): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, '--host', RTX, '--root', root, ...ATTACH], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const kill = () => setTimeout(() => child.kill('SIGKILL'), when.delayMs);
    if (when.afterStep) {
      let armed = false;
      child.stderr.on('data', (d: Buffer) => {
        if (!armed && /\[1\/\d+\]/.test(d.toString())) {
          armed = true;
          kill();
        }
      });
    } else kill();
    child.stderr.resume();
    child.on('exit', () => resolve());
  });
}

test('attach --yes killed with SIGKILL at random moments: no torn file, rollback restores without hand work', async () => {
  const snap = example('rtx2080ti-14.3');
  const original = new Map(TARGETS.map((p) => [p, snap.files[p] as string]));
  // The bytes a finished attach writes.
  const full = tempDir();
  const done = run(['--host', RTX, '--root', full, ...ATTACH]);
  assert.equal(done.status, 0, done.stderr);
  const final = new Map(TARGETS.map((p) => [p, readFileSync(join(full, p), 'utf8')]));
  for (const p of TARGETS) assert.notEqual(final.get(p), original.get(p), `${p} is changed by attach`);

  const started = Date.now();
  let tries = 0;
  const outcomes = { untouched: 0, partial: 0, complete: 0, tookOver: 0 };
  while (tries < TRIES && Date.now() - started < BUDGET_MS) {
    tries++;
    const root = tempDir();
    const afterStep = tries % 3 !== 0;
    await attachKilled(root, { afterStep, delayMs: Math.floor(Math.random() * (afterStep ? 25 : 1500)) });
    const now = (p: string) =>
      existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : original.get(p);
    for (const p of TARGETS)
      assert.ok(
        now(p) === original.get(p) || now(p) === final.get(p),
        `try ${tries}: ${p} is torn:\n${now(p)}`,
      );
    const changed = TARGETS.filter((p) => now(p) === final.get(p)).length;
    if (changed === 0) outcomes.untouched++;
    else if (changed === TARGETS.length) outcomes.complete++;
    else outcomes.partial++;
    if (existsSync(join(root, 'var/db/bhyve-gpu/journal'))) {
      const journal = run(['--host', RTX, '--root', root, 'journal', '--json']);
      assert.equal(journal.status, 0, `try ${tries}: journal: ${journal.stderr}`);
      // A half-applied plan is shown as interrupted, with the command that undoes it.
      if (changed > 0 && changed < TARGETS.length) {
        const entries = JSON.parse(journal.stdout).entries as {
          id: string;
          interrupted?: { commands: string[][] };
        }[];
        const hit = entries.find((e) => e.interrupted);
        assert.deepEqual(hit?.interrupted?.commands, [['bhyve-gpu', 'rollback', hit?.id, '--yes']]);
      }
    }
    const rb = run(['--host', RTX, '--root', root, 'rollback', '--yes']);
    assert.equal(rb.status, 0, `try ${tries}: rollback needed hand work: ${rb.stderr}`);
    if (/took over the lock/.test(rb.stderr)) outcomes.tookOver++;
    for (const p of TARGETS) assert.equal(now(p), original.get(p), `try ${tries}: ${p} restored exactly`);
    const left = existsSync(root) ? walk(root).filter((f) => /\.bhyve-gpu\.[^/]*\.tmp$/.test(f)) : [];
    assert.deepEqual(left, [], `try ${tries}: temporary files left`);
    assert.equal(existsSync(join(root, 'var/db/bhyve-gpu/lock')), false, `try ${tries}: lock left`);
  }
  assert.ok(tries >= MIN_TRIES, `only ${tries} tries ran in ${BUDGET_MS} ms`);
  // Not a timing assertion: the counts say which moments the kills hit (see the test's output).
  console.log(`# kill test: ${tries} tries: ${JSON.stringify(outcomes)}`);
});

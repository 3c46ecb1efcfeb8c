import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../../src/host/snapshot-format.js';
import { REPO_ROOT } from './corpus.js';

/** A copy of one of the bundled example hosts, to vary in a test. */
export function example(name: 'tesla-p4-15.0' | 'rtx2080ti-14.3'): Snapshot {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'hosts', `${name}.json`), 'utf8')) as Snapshot;
}

export function setCommand(
  snap: Snapshot,
  argv: string[],
  stdout: string,
  exitCode = 0,
  stderr = '',
): Snapshot {
  const key = JSON.stringify(argv);
  snap.commands = snap.commands.filter((c) => JSON.stringify(c.argv) !== key);
  snap.commands.push({ argv, exitCode, stdout, stderr });
  return snap;
}

export function commandOut(snap: Snapshot, argv: string[]): string {
  const c = snap.commands.find((x) => JSON.stringify(x.argv) === JSON.stringify(argv));
  if (!c) throw new Error(`no ${argv.join(' ')} in snapshot`);
  return c.stdout;
}

export function tempDir(prefix = 'bhyve-gpu-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write a snapshot to a temp file and return its path. */
export function writeSnapshot(snap: Snapshot): string {
  const p = join(tempDir(), 'host.json');
  writeFileSync(p, JSON.stringify(snap));
  return p;
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI as a user would (through tsx, no build needed). */
export function cli(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

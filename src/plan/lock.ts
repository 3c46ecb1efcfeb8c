import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ToolError } from '../errors.js';
import type { Host } from '../host/types.js';

export const LOCK_PATH = '/var/db/bhyve-gpu/lock';

/** What the lock file holds (JSON). */
export interface LockInfo {
  pid: number;
  hostname: string;
  time: string;
  command: string;
}

export interface Lock {
  path: string;
  release(): Promise<void>;
}

/** Create the file only if nothing is there; hosts without createExclusive fall back to exists + write. */
async function createExclusive(host: Host, path: string, content: string): Promise<boolean> {
  if (host.createExclusive) return host.createExclusive(path, content);
  if (await host.exists(path)) return false;
  await host.writeFile(path, content);
  return true;
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid)) return undefined;
    return {
      pid: v.pid,
      hostname: String(v.hostname ?? ''),
      time: String(v.time ?? ''),
      command: String(v.command ?? ''),
    };
  } catch {
    return undefined;
  }
}

/** Whether `pid` is running on this machine: undefined when that cannot be told. */
function pidAlive(pid: number): boolean | undefined {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true;
    return undefined;
  }
}

/**
 * Take the exclusive lock of bhyve-gpu's changes (apply, rollback, install). A second taker is refused
 * with ToolError 'locked'; a lock left by a process that is no longer running on this machine is refused
 * with 'stale-lock' and a hint to remove it (never removed silently: the other run may be on its way out).
 */
export async function acquireLock(
  host: Host,
  options: { path?: string; command?: string; now?: () => Date } = {},
): Promise<Lock> {
  const path = options.path ?? LOCK_PATH;
  const info: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    time: (options.now?.() ?? new Date()).toISOString(),
    command: options.command ?? '',
  };
  await host.mkdir(dirname(path));
  if (await createExclusive(host, path, `${JSON.stringify(info)}\n`)) {
    let released = false;
    return {
      path,
      release: async () => {
        if (released) return;
        released = true;
        await host.removeFile(path);
      },
    };
  }
  let held: LockInfo | undefined;
  try {
    held = parseLock(await host.readFile(path));
  } catch {
    held = undefined;
  }
  const removeHint = `if no bhyve-gpu apply, rollback or install is running, remove ${path} and try again`;
  if (held === undefined)
    throw new ToolError('locked', `another bhyve-gpu apply holds the lock ${path} (unreadable lock file)`, {
      hint: removeHint,
    });
  const sameMachine = host.kind !== 'ssh' && (held.hostname === '' || held.hostname === info.hostname);
  if (sameMachine && pidAlive(held.pid) === false)
    throw new ToolError(
      'stale-lock',
      `stale lock ${path}: pid ${held.pid} (since ${held.time || 'an unknown time'}) is not running`,
      { hint: `the run that took it stopped without releasing it; ${removeHint}` },
    );
  const what = held.command ? `: ${held.command}` : '';
  throw new ToolError('locked', `another bhyve-gpu apply is running (pid ${held.pid})${what}`, {
    hint: `wait for it to finish; ${removeHint}`,
  });
}

/** Run `body` with the lock held; released in finally. */
export async function withLock<T>(
  host: Host,
  options: { path?: string; command?: string; now?: () => Date },
  body: () => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(host, options);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

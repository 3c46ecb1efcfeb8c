import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
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

/** The lock's path as the user sees it: under --root, the real path inside DIR. */
function shownPath(host: Host, path: string): string {
  const root = (host as { root?: unknown }).root;
  return typeof root === 'string' ? join(root, path) : path;
}

/**
 * Take the exclusive lock of bhyve-gpu's changes (apply, rollback, install). A second taker is refused
 * with ToolError 'locked'. A lock left by a process that is no longer running on this machine (killed,
 * crashed) is taken over, and `onNote` says so: re-read just before it is removed, so a lock that changed
 * meanwhile (another run took it over first) is not touched.
 */
export async function acquireLock(
  host: Host,
  options: { path?: string; command?: string; now?: () => Date; onNote?: (line: string) => void } = {},
): Promise<Lock> {
  const path = options.path ?? LOCK_PATH;
  const info: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    time: (options.now?.() ?? new Date()).toISOString(),
    command: options.command ?? '',
  };
  const content = `${JSON.stringify(info)}\n`;
  const held = (): Lock => {
    let released = false;
    return {
      path,
      release: async () => {
        if (released) return;
        released = true;
        await host.removeFile(path);
      },
    };
  };
  await host.mkdir(dirname(path));
  if (await createExclusive(host, path, content)) return held();
  const read = async (): Promise<{ text: string; info: LockInfo | undefined } | undefined> => {
    try {
      const text = await host.readFile(path);
      return { text, info: parseLock(text) };
    } catch {
      return undefined;
    }
  };
  const first = await read();
  const shown = shownPath(host, path);
  const removeHint = `if no bhyve-gpu apply, rollback or install is running, remove ${shown} and try again`;
  const lock = first?.info;
  if (first === undefined)
    throw new ToolError('locked', `another bhyve-gpu apply held the lock ${shown} a moment ago`, {
      hint: 'try again',
    });
  if (lock === undefined)
    throw new ToolError('locked', `another bhyve-gpu apply holds the lock ${shown} (unreadable lock file)`, {
      hint: removeHint,
    });
  const sameMachine = host.kind !== 'ssh' && (lock.hostname === '' || lock.hostname === info.hostname);
  if (sameMachine && pidAlive(lock.pid) === false) {
    const again = await read();
    if (again?.text === first?.text) {
      await host.removeFile(path);
      if (await createExclusive(host, path, content)) {
        options.onNote?.(
          `took over the lock ${shown}: pid ${lock.pid}${lock.command ? ` (${lock.command})` : ''}, since ${lock.time || 'an unknown time'}, is no longer running on ${lock.hostname || 'this host'}`,
        );
        return held();
      }
    }
    const now = (await read())?.info ?? lock;
    throw new ToolError('locked', `another bhyve-gpu apply took the lock first (pid ${now.pid})`, {
      hint: `wait for it to finish; ${removeHint}`,
    });
  }
  const what = lock.command ? `: ${lock.command}` : '';
  throw new ToolError('locked', `another bhyve-gpu apply is running (pid ${lock.pid})${what}`, {
    hint: `wait for it to finish; ${removeHint}`,
  });
}

/** Run `body` with the lock held; released in finally. */
export async function withLock<T>(
  host: Host,
  options: { path?: string; command?: string; now?: () => Date; onNote?: (line: string) => void },
  body: () => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(host, options);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { isTempOf, tempOwnerPid } from '../host/atomic.js';
import type { Host } from '../host/types.js';
import { entryDir, type JournalEntry, listEntryIds, readEntry } from './journal.js';

/**
 * Recovery after a crash (issue 9): a run killed in the middle of an apply or a rollback leaves its journal
 * entry 'pending' or 'in-progress', perhaps the temp file of an atomic write beside a target, and its lock.
 * The lock is taken over by the next run (lock.ts); this module finds the interrupted entries, removes the
 * temp files, and says which command finishes or undoes each entry.
 */
export interface InterruptedEntry {
  id: string;
  /** 'apply' stopped during the change itself; 'rollback' stopped while undoing it. */
  kind: 'apply' | 'rollback';
  title: string;
  command: string;
  /** What was under way: "step 2 of 3 (edit /boot/loader.conf) running". */
  where: string;
  /** Undo what the interrupted run did: restores every file's bytes from the journal backups. */
  undo: string[];
  /** Finish it: the original command again (a plan computed from the host as it is now), when known. */
  finish: string[] | undefined;
}

function describe(entry: JournalEntry): string {
  const active = entry.steps.filter((s) => s.status !== 'skipped');
  const i = active.findIndex((s) => s.status === 'running');
  if (i >= 0) {
    const s = active[i];
    const what = s && 'path' in s ? `${s.kind} ${s.path}` : s?.kind === 'command' ? s.argv.join(' ') : '';
    return `step ${i + 1} of ${active.length} (${what}) was running`;
  }
  const done = active.filter((s) => s.status === 'done').length;
  return `${done} of ${active.length} steps done`;
}

/** Entries a killed run left behind (oldest first); callers first check `lockHeldByLiveRun`. */
export async function interruptedEntries(host: Host, journalDir: string): Promise<InterruptedEntry[]> {
  const out: InterruptedEntry[] = [];
  let ids: string[] = [];
  try {
    ids = await listEntryIds(host, journalDir);
  } catch {
    return out;
  }
  for (const id of ids) {
    let entry: JournalEntry | undefined;
    try {
      entry = await readEntry(host, journalDir, id);
    } catch {
      continue;
    }
    if (!entry) continue;
    const rollingBack = entry.rollback?.state === 'in-progress';
    if (!rollingBack && entry.state !== 'pending' && entry.state !== 'in-progress') continue;
    const undo = ['bhyve-gpu', 'rollback', id, '--yes'];
    out.push({
      id,
      kind: rollingBack ? 'rollback' : 'apply',
      title: entry.title,
      command: entry.command,
      where: rollingBack ? 'the rollback was interrupted' : describe(entry),
      undo,
      finish: rollingBack ? undo : entry.argv?.length ? [...entry.argv] : undefined,
    });
  }
  return out;
}

/** Whether the lock file is held by a run that is alive on this machine (then entries are not interrupted). */
export async function lockHeldByLiveRun(host: Host, lockPath: string): Promise<boolean> {
  let text: string;
  try {
    text = await host.readFile(lockPath);
  } catch {
    return false;
  }
  try {
    const v = JSON.parse(text) as { pid?: unknown; hostname?: unknown };
    if (typeof v.pid !== 'number') return true;
    if (host.kind === 'ssh' || (v.hostname !== undefined && v.hostname !== '' && v.hostname !== hostname()))
      return true;
    process.kill(v.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** A lock temp file whose writer may still be running (another run creating the lock right now). */
function ownerAlive(host: Host, name: string): boolean {
  const pid = tempOwnerPid(name);
  if (pid === undefined) return false;
  if (host.kind === 'ssh') return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Remove the temp files of interrupted atomic writes (`.<name>.bhyve-gpu.<hex>.tmp`) beside every file an
 * interrupted entry touches, in its journal directory, and beside the lock. Call with the lock held.
 */
export async function removeInterruptedTemps(
  host: Host,
  journalDir: string,
  lockPath: string,
): Promise<string[]> {
  const targets = new Set<string>([lockPath]);
  // No journal yet (a run killed while it took the lock): the lock's own temp file is still cleaned.
  let ids: string[] = [];
  try {
    ids = await listEntryIds(host, journalDir);
  } catch {
    ids = [];
  }
  for (const id of ids) {
    const dir = entryDir(journalDir, id);
    let entry: JournalEntry | undefined;
    try {
      entry = await readEntry(host, journalDir, id);
    } catch {
      entry = undefined;
    }
    const open =
      entry === undefined ||
      entry.state === 'pending' ||
      entry.state === 'in-progress' ||
      entry.rollback?.state === 'in-progress';
    if (!open) continue;
    targets.add(`${dir}/entry.json`);
    for (const name of await host.listDir(`${dir}/files`).catch(() => [] as string[]))
      if (!name.startsWith('.')) targets.add(`${dir}/files/${name}`);
    // A backup being written when the run stopped has no file of its own yet: its temp names it.
    for (const name of await host.listDir(`${dir}/files`).catch(() => [] as string[])) {
      const m = /^\.(\d+)\.bhyve-gpu\.[0-9a-f]{8}\.tmp$/.exec(name);
      if (m) targets.add(`${dir}/files/${m[1]}`);
    }
    for (const f of entry?.files ?? []) targets.add(f.path);
  }
  const removed: string[] = [];
  const byDir = new Map<string, Set<string>>();
  for (const t of targets) {
    const names = byDir.get(dirname(t)) ?? new Set<string>();
    names.add(basename(t));
    byDir.set(dirname(t), names);
  }
  for (const [dir, names] of byDir) {
    const listing = await host.listDir(dir).catch(() => [] as string[]);
    for (const name of listing)
      if ([...names].some((t) => isTempOf(name, t)) && !ownerAlive(host, name)) {
        await host.removeFile(`${dir}/${name}`);
        removed.push(`${dir}/${name}`);
      }
  }
  return removed;
}

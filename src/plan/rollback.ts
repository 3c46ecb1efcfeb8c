import { dirname } from 'node:path';
import { errorMessage, ParseError, ToolError } from '../errors.js';
import type { Host } from '../host/types.js';
import {
  type FileRecord,
  JOURNAL_DIR,
  type JournalEntry,
  listEntryIds,
  type RollbackRecord,
  readBackup,
  readEntry,
  sha256,
  writeEntry,
} from './journal.js';
import { withLock } from './lock.js';
import { removeInterruptedTemps } from './recover.js';
import { unifiedDiff } from './types.js';

export interface RollbackOptions {
  /** Entry to undo; default: the latest entry. */
  id?: string;
  journalDir?: string;
  lockPath?: string;
  /** The CLI line, kept in the rollback record. */
  command?: string;
  now?: () => Date;
  /** Recovery notes (a stale lock taken over, temp files of an interrupted write removed). */
  onNote?: (line: string) => void;
}

export type RollbackAction =
  | { kind: 'restore'; path: string; mode: number | undefined }
  | { kind: 'remove'; path: string }
  | { kind: 'undo'; step: number; argv: string[] };

export interface RollbackConflict {
  path: string;
  /** Unified diff from what the entry wrote (a/) to what is there now (b/). */
  diff: string;
}

export interface RollbackPreview {
  /** ready: actions to perform; already: rolled back before; nothing: no change to undo; conflict: refused. */
  status: 'ready' | 'already' | 'nothing' | 'conflict';
  message: string;
  id: string | undefined;
  entry: JournalEntry | undefined;
  /** In the order they will be performed (the reverse of the apply). */
  actions: RollbackAction[];
  /** Files already as they were before the entry. */
  unchanged: string[];
  conflicts: RollbackConflict[];
  /** Newer entries passed over, without an id, because their entry.json could not be read. */
  skipped: { id: string; error: string }[];
}

/**
 * The entry to undo when no id is given: the latest one that can be read; unreadable newer ones are
 * returned as skipped (an entry with no entry.json counts as read: it stopped before changing anything).
 */
async function latestReadable(
  host: Host,
  journalDir: string,
): Promise<{ id: string | undefined; entry: JournalEntry | undefined; skipped: RollbackPreview['skipped'] }> {
  const skipped: RollbackPreview['skipped'] = [];
  for (const id of (await listEntryIds(host, journalDir)).reverse()) {
    try {
      return { id, entry: await readEntry(host, journalDir, id), skipped };
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      skipped.push({ id, error: e.message });
    }
  }
  return { id: undefined, entry: undefined, skipped };
}

export class RollbackConflictError extends ToolError {
  readonly conflicts: RollbackConflict[];
  constructor(id: string, conflicts: RollbackConflict[]) {
    const paths = conflicts.map((c) => c.path).join(', ');
    super('rollback-conflict', `cannot roll back ${id}: changed since it was applied: ${paths}`, {
      hint: 'the diffs show what the entry wrote (a/) against what is there now (b/); undo those changes by hand first',
    });
    this.name = 'RollbackConflictError';
    this.conflicts = conflicts;
  }
}

async function current(host: Host, path: string): Promise<Uint8Array | undefined> {
  return (await host.exists(path)) ? host.readBytes(path) : undefined;
}

function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
}

/** The text the entry left in `file` (the last edit of it), when it is a text edit. */
function writtenText(entry: JournalEntry, file: FileRecord): { text: string | undefined } | undefined {
  const last = entry.steps
    .filter((s) => s.status !== 'skipped' && s.kind !== 'command' && s.path === file.path)
    .at(-1);
  return last?.kind === 'file-edit' ? { text: last.after } : undefined;
}

/** What `rollback` would do, without changing anything. */
export async function previewRollback(host: Host, options: RollbackOptions = {}): Promise<RollbackPreview> {
  const journalDir = options.journalDir ?? JOURNAL_DIR;
  const latest = options.id === undefined ? await latestReadable(host, journalDir) : undefined;
  const id = options.id ?? latest?.id;
  const skipped = latest?.skipped ?? [];
  const base = { id, actions: [], unchanged: [], conflicts: [], skipped };
  if (id === undefined)
    return {
      ...base,
      status: 'nothing',
      message:
        skipped.length > 0
          ? 'no readable journal entry: nothing to roll back'
          : 'the journal is empty: nothing to roll back',
      entry: undefined,
    };
  const entry = latest !== undefined ? latest.entry : await readEntry(host, journalDir, id);
  if (entry === undefined)
    return {
      ...base,
      status: 'nothing',
      message: `${id} stopped before changing anything: nothing to roll back`,
      entry,
    };
  if (entry.state === 'rolled-back')
    return { ...base, status: 'already', message: `${id} is already rolled back`, entry };
  const preview: RollbackPreview = { ...base, status: 'ready', message: '', entry, actions: [] };
  const fileActions = new Map<string, RollbackAction | undefined>();
  for (const file of entry.files) {
    const now = await current(host, file.path);
    const nowSha = sha256(now);
    if (nowSha === file.beforeSha256) {
      preview.unchanged.push(file.path);
      fileActions.set(file.path, undefined);
    } else if (file.written.includes(nowSha)) {
      fileActions.set(
        file.path,
        file.backup === undefined
          ? { kind: 'remove', path: file.path }
          : { kind: 'restore', path: file.path, mode: file.mode },
      );
    } else {
      const wrote = writtenText(entry, file);
      const diff = wrote
        ? unifiedDiff(file.path, wrote.text, text(now))
        : `binary file ${file.path} differs: sha256 ${nowSha} now, not ${file.written.at(-1) ?? '?'} as installed\n`;
      preview.conflicts.push({ path: file.path, diff });
    }
  }
  const undone = new Set(entry.rollback?.undone ?? []);
  for (let i = entry.steps.length - 1; i >= 0; i--) {
    const step = entry.steps[i];
    if (step === undefined) continue;
    if (step.kind === 'command') {
      if (step.undo && (step.status === 'done' || step.status === 'running') && !undone.has(i))
        preview.actions.push({ kind: 'undo', step: i, argv: [...step.undo] });
    } else if (step.status !== 'skipped') {
      const action = fileActions.get(step.path);
      if (action) preview.actions.push(action);
      fileActions.delete(step.path);
    }
  }
  if (preview.conflicts.length > 0) {
    preview.status = 'conflict';
    preview.message = `cannot roll back ${id}: ${preview.conflicts.length} file(s) changed since it was applied`;
  } else if (preview.actions.length === 0) {
    preview.status = 'nothing';
    preview.message = `${id}: nothing to undo, every file is as it was before`;
  } else preview.message = `${id}: ${preview.actions.length} change(s) to undo`;
  return preview;
}

export interface RollbackResult {
  /** nothing: no entry to undo (empty journal, or an apply that stopped before changing anything). */
  status: 'rolled-back' | 'already' | 'nothing';
  message: string;
  preview: RollbackPreview;
}

/**
 * Undo one journal entry: restore every file it changed (or delete the ones it created) and run the undo
 * argv of its commands, in reverse order. Refused as a whole (RollbackConflictError) when a file changed
 * since; idempotent (a second run says "already rolled back").
 */
export async function rollback(host: Host, options: RollbackOptions = {}): Promise<RollbackResult> {
  const journalDir = options.journalDir ?? JOURNAL_DIR;
  const now = options.now ?? (() => new Date());
  const lockPath = options.lockPath ?? `${dirname(journalDir)}/lock`;
  const onNote = options.onNote;
  const lock = { path: lockPath, command: options.command ?? 'rollback', now, ...(onNote ? { onNote } : {}) };
  return withLock(host, lock, async () => {
    for (const t of await removeInterruptedTemps(host, journalDir, lockPath))
      onNote?.(`removed ${t}: the temporary file of an interrupted write`);
    const preview = await previewRollback(host, options);
    const { entry } = preview;
    if (preview.status === 'conflict') throw new RollbackConflictError(preview.id ?? '', preview.conflicts);
    if (preview.status === 'already') return { status: 'already', message: preview.message, preview };
    if (entry === undefined) return { status: 'nothing', message: preview.message, preview };
    const record: RollbackRecord = {
      state: 'in-progress',
      startedAt: now().toISOString(),
      command: options.command ?? '',
      restored: [],
      removed: [],
      undone: [...(entry.rollback?.undone ?? [])],
    };
    entry.rollback = record;
    const save = () => writeEntry(host, journalDir, { ...entry, updatedAt: now().toISOString() });
    await save();
    try {
      for (const action of preview.actions) {
        if (action.kind === 'undo') {
          const r = await host.run(action.argv);
          if (r.exitCode !== 0)
            throw new ToolError(
              'command-failed',
              `${action.argv.join(' ')} exited with ${r.exitCode}: ${r.stderr.trim()}`,
            );
          record.undone.push(action.step);
        } else if (action.kind === 'remove') {
          await host.removeFile(action.path);
          record.removed.push(action.path);
        } else {
          const file = entry.files.find((f) => f.path === action.path) as FileRecord;
          const bytes = await readBackup(host, journalDir, entry, file);
          if (bytes === undefined) throw new ToolError('internal', `no backup of ${action.path}`);
          await host.writeFile(action.path, bytes, action.mode === undefined ? {} : { mode: action.mode });
          record.restored.push(action.path);
        }
        await save();
      }
    } catch (e) {
      record.state = 'failed';
      record.error = errorMessage(e);
      await save().catch(() => undefined);
      const partial = record.restored.length + record.removed.length + record.undone.length > 0;
      throw new ToolError('rollback-failed', `rollback of ${entry.id} stopped: ${record.error}`, {
        exitCode: partial ? 4 : 1,
        hint: `fix the cause and run \`bhyve-gpu rollback ${entry.id}\` again: it goes on from where it stopped`,
        cause: e,
      });
    }
    record.state = 'done';
    record.finishedAt = now().toISOString();
    entry.state = 'rolled-back';
    await save();
    const n = preview.actions.length;
    return {
      status: 'rolled-back',
      message: `rolled back ${entry.id} (${n} change${n === 1 ? '' : 's'} undone)`,
      preview,
    };
  });
}

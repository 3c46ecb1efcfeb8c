import { createHash, randomBytes } from 'node:crypto';
import { ParseError, ToolError } from '../errors.js';
import type { Host } from '../host/types.js';
import type { Step } from './types.js';

export const JOURNAL_DIR = '/var/db/bhyve-gpu/journal';
/** Version of entry.json's shape. */
export const JOURNAL_FORMAT = 1;

/**
 * pending: backups taken, nothing changed yet; in-progress: steps being performed (a crash leaves it so);
 * applied: every step done; failed: a step failed (the steps marked done were performed);
 * rolled-back: undone by `bhyve-gpu rollback`.
 */
export type EntryState = 'pending' | 'in-progress' | 'applied' | 'failed' | 'rolled-back';
export type StepStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed';

export interface CommandRecord {
  exitCode: number;
  durationMs: number;
  stdout?: string;
  stderr?: string;
}

export type StepRecord = Step & { status: StepStatus; result?: CommandRecord; error?: string };

/** A file the entry changes: where its backup is and every content (sha256, or 'absent') it writes. */
export interface FileRecord {
  path: string;
  /** Backup of the original bytes, relative to the entry directory (`files/<n>`); undefined = was absent. */
  backup: string | undefined;
  /** Original mode; undefined when the file was absent. */
  mode: number | undefined;
  beforeSha256: string;
  /** Contents the entry writes to the path, in order (the last is the final one). */
  written: string[];
}

export interface RollbackRecord {
  state: 'in-progress' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  command: string;
  restored: string[];
  removed: string[];
  /** Indexes of the command steps whose undo ran. */
  undone: number[];
  error?: string;
}

export interface JournalEntry {
  format: number;
  id: string;
  createdAt: string;
  updatedAt: string;
  command: string;
  /** The command as an argv (when the CLI gave it): what finishes an interrupted entry. */
  argv?: string[];
  title: string;
  host: string;
  state: EntryState;
  steps: StepRecord[];
  files: FileRecord[];
  notes: string[];
  error?: string;
  rollback?: RollbackRecord;
}

/** Stands for "no file" in FileRecord.written and beforeSha256. */
export const ABSENT = 'absent';

export function sha256(content: string | Uint8Array | undefined): string {
  if (content === undefined) return ABSENT;
  return createHash('sha256').update(content).digest('hex');
}

/** Sortable id: UTC time to the millisecond, then a short random part. */
export function newEntryId(now: Date): string {
  const t = now.toISOString().replace(/[-:]/g, '');
  return `${t}-${randomBytes(3).toString('hex')}`;
}

export function entryDir(journalDir: string, id: string): string {
  return `${journalDir}/${id}`;
}

export async function writeEntry(host: Host, journalDir: string, entry: JournalEntry): Promise<void> {
  await host.writeFile(
    `${entryDir(journalDir, entry.id)}/entry.json`,
    `${JSON.stringify(entry, null, 2)}\n`,
    {
      mode: 0o600,
    },
  );
}

function checkId(id: string): void {
  if (!/^[0-9A-Za-z.:_-]+$/.test(id) || id.startsWith('.'))
    throw new ToolError('journal-entry-missing', `${id}: not a journal entry id`, { exitCode: 2 });
}

/** Read entry.json; undefined when the directory exists without one (stopped while taking backups). */
export async function readEntry(
  host: Host,
  journalDir: string,
  id: string,
): Promise<JournalEntry | undefined> {
  checkId(id);
  const dir = entryDir(journalDir, id);
  const file = `${dir}/entry.json`;
  if (!(await host.exists(file))) {
    if (await host.exists(dir)) return undefined;
    throw new ToolError('journal-entry-missing', `no journal entry ${id} in ${journalDir}`, {
      hint: 'list the entries with `bhyve-gpu journal`',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(await host.readFile(file));
  } catch (e) {
    throw new ParseError(`not valid JSON: ${(e as Error).message}`, { file });
  }
  const v = value as Partial<JournalEntry>;
  if (
    typeof v !== 'object' ||
    v === null ||
    v.id !== id ||
    !Array.isArray(v.steps) ||
    !Array.isArray(v.files) ||
    typeof v.state !== 'string'
  )
    throw new ParseError('not a bhyve-gpu journal entry', { file });
  if (v.format !== JOURNAL_FORMAT)
    throw new ParseError(
      `journal format ${String(v.format)} is not supported (this version reads ${JOURNAL_FORMAT})`,
      {
        file,
      },
    );
  return value as JournalEntry;
}

/** Entry ids, oldest first. */
export async function listEntryIds(host: Host, journalDir: string): Promise<string[]> {
  return (await host.listDir(journalDir)).filter((n) => /^\d{8}T/.test(n)).sort();
}

export interface EntrySummary {
  id: string;
  time: string | undefined;
  /**
   * 'incomplete': the directory has no entry.json (the apply stopped before changing anything);
   * 'unreadable': entry.json is truncated or not an entry (see `error`).
   */
  state: EntryState | 'incomplete' | 'unreadable';
  command: string;
  title: string;
  files: string[];
  /** Why an unreadable entry could not be read (the ParseError message, with the file). */
  error?: string;
}

export function summarize(entry: JournalEntry): EntrySummary {
  const files = entry.files.map((f) => f.path);
  return {
    id: entry.id,
    time: entry.createdAt,
    state: entry.state,
    command: entry.command,
    title: entry.title,
    files,
  };
}

export async function listEntries(host: Host, journalDir: string): Promise<EntrySummary[]> {
  const out: EntrySummary[] = [];
  for (const id of await listEntryIds(host, journalDir)) {
    let entry: JournalEntry | undefined;
    try {
      entry = await readEntry(host, journalDir, id);
    } catch (e) {
      // One damaged entry must not hide the others.
      if (!(e instanceof ParseError)) throw e;
      out.push({
        id,
        time: undefined,
        state: 'unreadable',
        command: '',
        title: '',
        files: [],
        error: e.message,
      });
      continue;
    }
    if (entry) out.push(summarize(entry));
    else out.push({ id, time: undefined, state: 'incomplete', command: '', title: '', files: [] });
  }
  return out;
}

/** The original bytes of a file the entry changed; undefined when it was absent. */
export async function readBackup(
  host: Host,
  journalDir: string,
  entry: JournalEntry,
  file: FileRecord,
): Promise<Uint8Array | undefined> {
  if (file.backup === undefined) return undefined;
  const bytes = await host.readBytes(`${entryDir(journalDir, entry.id)}/${file.backup}`);
  if (sha256(bytes) !== file.beforeSha256)
    throw new ToolError(
      'backup-corrupt',
      `the backup of ${file.path} in journal entry ${entry.id} is damaged`,
      {
        hint: `compare ${entryDir(journalDir, entry.id)}/${file.backup} with the file by hand`,
      },
    );
  return bytes;
}

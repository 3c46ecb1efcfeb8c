import { dirname } from 'node:path';
import { errorMessage, ToolError } from '../errors.js';
import type { Host } from '../host/types.js';
import {
  entryDir,
  type FileRecord,
  JOURNAL_DIR,
  JOURNAL_FORMAT,
  type JournalEntry,
  newEntryId,
  type StepRecord,
  sha256,
  writeEntry,
} from './journal.js';
import { withLock } from './lock.js';
import { type Prepared, prepare, readMaybe } from './prepare.js';
import { removeInterruptedTemps } from './recover.js';
import { describeStep, isNoop, type Plan } from './types.js';

export interface ApplyOptions {
  /** The CLI line, kept in the journal entry. */
  command: string;
  /** The same as an argv (kept in the entry: the command that finishes it if it is interrupted). */
  argv?: string[];
  journalDir?: string;
  /** Default: `lock` next to the journal directory (/var/db/bhyve-gpu/lock). */
  lockPath?: string;
  now?: () => Date;
  /** Re-parse hook: called with each written text file; throw (ParseError) to fail the apply. */
  verify?: (path: string, text: string) => void;
  /** One line per step as it starts (the CLI prints it on stderr). */
  onProgress?: (line: string) => void;
}

export interface ApplyResult {
  status: 'applied' | 'noop';
  message: string;
  /** The journal entry (undefined for a no-op). */
  entry: JournalEntry | undefined;
}

/** A step failed: `entry` (state 'failed') says what was done; exit 4 when something was changed. */
export class ApplyError extends ToolError {
  readonly entry: JournalEntry;
  constructor(entry: JournalEntry, message: string, partial: boolean, cause: unknown) {
    super('apply-failed', message, {
      exitCode: partial ? 4 : 1,
      hint: partial
        ? `undo what was done with \`bhyve-gpu rollback ${entry.id}\`, or fix the cause and apply again`
        : 'nothing was changed; fix the cause and apply again',
      cause,
    });
    this.name = 'ApplyError';
    this.entry = entry;
  }
}

export const ALREADY_DONE = 'already in the desired state';

/**
 * Perform a plan: lock, check that every file is still as the plan saw it, back up every file it touches
 * into a new journal entry, then perform the steps in order, recording each in the entry as it goes.
 * A step that fails stops the apply (ApplyError, entry state 'failed'); see docs/journal.md.
 */
export async function applyPlan(host: Host, plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  const journalDir = options.journalDir ?? JOURNAL_DIR;
  const now = options.now ?? (() => new Date());
  const noop: ApplyResult = { status: 'noop', message: ALREADY_DONE, entry: undefined };
  if (isNoop(plan)) return noop;
  const lockPath = options.lockPath ?? `${dirname(journalDir)}/lock`;
  const onNote = options.onProgress;
  return withLock(
    host,
    { path: lockPath, command: options.command, now, ...(onNote ? { onNote } : {}) },
    async () => {
      for (const t of await removeInterruptedTemps(host, journalDir, lockPath))
        onNote?.(`removed ${t}: the temporary file of an interrupted write`);
      const prepared = await prepare(host, plan);
      if (prepared.steps.every((s) => s.status === 'skipped')) return noop;
      const entry = await createEntry(host, journalDir, plan, prepared, options.command, now, options.argv);
      await perform(host, journalDir, entry, prepared, options, now);
      const done = entry.steps.filter((s) => s.status === 'done').length;
      return {
        status: 'applied',
        message: `applied ${done} step${done === 1 ? '' : 's'}; journal entry ${entry.id} (undo: bhyve-gpu rollback ${entry.id})`,
        entry,
      };
    },
  );
}

async function createEntry(
  host: Host,
  journalDir: string,
  plan: Plan,
  prepared: Prepared,
  command: string,
  now: () => Date,
  argv?: string[],
): Promise<JournalEntry> {
  const time = now();
  const id = newEntryId(time);
  const dir = entryDir(journalDir, id);
  await host.mkdir(`${dir}/files`);
  const files: FileRecord[] = [];
  for (const [path, writes] of prepared.written) {
    const original = prepared.originals.get(path);
    const n = files.length;
    let mode: number | undefined;
    if (original !== undefined) {
      mode = (await host.stat(path))?.mode;
      await host.writeFile(`${dir}/files/${n}`, original, { mode: 0o600 });
    }
    files.push({
      path,
      backup: original === undefined ? undefined : `files/${n}`,
      mode,
      beforeSha256: sha256(original),
      written: writes,
    });
  }
  const entry: JournalEntry = {
    format: JOURNAL_FORMAT,
    id,
    createdAt: time.toISOString(),
    updatedAt: time.toISOString(),
    command,
    ...(argv?.length ? { argv } : {}),
    title: plan.title,
    host: host.description,
    state: 'pending',
    steps: prepared.steps,
    files,
    notes: [...plan.notes],
  };
  await writeEntry(host, journalDir, entry);
  return entry;
}

async function perform(
  host: Host,
  journalDir: string,
  entry: JournalEntry,
  prepared: Prepared,
  options: ApplyOptions,
  now: () => Date,
): Promise<void> {
  const save = () => writeEntry(host, journalDir, { ...entry, updatedAt: now().toISOString() });
  const total = entry.steps.filter((s) => s.status !== 'skipped').length;
  let current: StepRecord | undefined;
  let changed = false;
  let count = 0;
  try {
    for (const [i, rec] of entry.steps.entries()) {
      if (rec.status === 'skipped') continue;
      current = rec;
      options.onProgress?.(`[${++count}/${total}] ${describeStep(rec)}`);
      rec.status = 'running';
      entry.state = 'in-progress';
      await save();
      if (rec.kind === 'command') {
        const r = await host.run(rec.argv);
        const failed = r.exitCode !== 0;
        rec.result = {
          exitCode: r.exitCode,
          durationMs: r.durationMs,
          ...(rec.recordOutput ? { stdout: r.stdout } : {}),
          ...(rec.recordOutput || failed ? { stderr: r.stderr.slice(-4000) } : {}),
        };
        if (failed) {
          const why = r.stderr.trim().split('\n').slice(-3).join(' / ');
          throw new ToolError(
            'command-failed',
            `${rec.argv.join(' ')} exited with ${r.exitCode}${why ? `: ${why}` : ''}`,
          );
        }
      } else {
        const content = rec.kind === 'file-edit' ? rec.after : prepared.sources.get(i);
        if (content === undefined) await host.removeFile(rec.path);
        else
          await host.writeFile(rec.path, content, {
            mode: rec.kind === 'file-install' ? (rec.mode ?? 0o644) : 0o644,
          });
        changed = true;
        const back = await readMaybe(host, rec.path);
        if (sha256(back) !== sha256(content))
          throw new ToolError(
            'verify-failed',
            `${rec.path}: what was read back differs from what was written`,
          );
        if (rec.kind === 'file-edit' && back !== undefined)
          options.verify?.(rec.path, Buffer.from(back).toString('utf8'));
      }
      rec.status = 'done';
      current = undefined;
      await save();
    }
    entry.state = 'applied';
    await save();
  } catch (e) {
    const message = errorMessage(e);
    if (current) {
      current.status = 'failed';
      current.error = message;
    }
    entry.state = 'failed';
    entry.error = message;
    await save().catch(() => undefined);
    const partial = changed || entry.steps.some((s) => s.status === 'done');
    const where = current
      ? `step ${entry.steps.indexOf(current) + 1} (${describeStep(current)}) failed: `
      : '';
    throw new ApplyError(entry, `${where}${message}`, partial, e);
  }
}

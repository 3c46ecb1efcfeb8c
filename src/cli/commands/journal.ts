import type { Command } from 'commander';
import { ToolError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { quoteArgv } from '../../host/shell-quote.js';
import {
  JOURNAL_DIR,
  type JournalEntry,
  listEntries,
  readEntry,
  type StepRecord,
} from '../../plan/journal.js';
import { LOCK_PATH } from '../../plan/lock.js';
import { interruptedEntries, lockHeldByLiveRun } from '../../plan/recover.js';
import { colorDiff } from '../../plan/render.js';
import { describeStep } from '../../plan/types.js';
import { SCHEMA_VERSION } from '../../version.js';
import { globals, note, out, printJson, style, table } from '../output.js';

const UNFINISHED = new Set(['pending', 'in-progress', 'failed']);

function colorState(state: string): string {
  if (state === 'applied') return style.green(state);
  if (state === 'rolled-back') return style.dim(state);
  if (state === 'unreadable') return style.red(state);
  return style.yellow(state);
}

function stepLine(step: StepRecord, i: number): string {
  const exit = step.result ? ` (exit ${step.result.exitCode})` : '';
  return `  ${i + 1}. [${step.status}] ${describeStep(step)}${exit}${step.error ? ` - ${step.error}` : ''}`;
}

function showEntry(entry: JournalEntry): void {
  out(`${style.bold('entry')}    ${entry.id}`);
  out(`time     ${entry.createdAt} (updated ${entry.updatedAt})`);
  out(`state    ${colorState(entry.state)}`);
  out(`command  ${entry.command}`);
  out(`title    ${entry.title}`);
  out(`host     ${entry.host}`);
  if (entry.error) out(`error    ${entry.error}`);
  out('');
  out(style.bold('steps'));
  entry.steps.forEach((s, i) => {
    out(stepLine(s, i));
    if (s.kind === 'file-edit' && s.status !== 'skipped' && s.diff) out(colorDiff(s.diff.replace(/\n$/, '')));
    if (s.kind === 'command' && s.undo) out(style.dim(`       undo: ${s.undo.join(' ')}`));
  });
  out('');
  out(style.bold('files'));
  for (const f of entry.files) {
    const mode = f.mode === undefined ? '' : ` mode ${f.mode.toString(8).padStart(4, '0')}`;
    out(`  ${f.path}: ${f.backup === undefined ? 'absent before (created)' : `backup ${f.backup}${mode}`}`);
  }
  const rb = entry.rollback;
  if (rb) {
    out('');
    out(
      `${style.bold('rollback')} ${rb.state} at ${rb.finishedAt ?? rb.startedAt}${rb.command ? ` by \`${rb.command}\`` : ''}`,
    );
    for (const p of rb.restored) out(`  restored ${p}`);
    for (const p of rb.removed) out(`  removed ${p}`);
    for (const i of rb.undone) out(`  undid step ${i + 1}`);
    if (rb.error) out(`  error: ${rb.error}`);
  }
}

export function register(program: Command): void {
  const journal = program
    .command('journal')
    .description('list the changes bhyve-gpu applied (journal entries under /var/db/bhyve-gpu/journal)')
    .addHelpText(
      'after',
      `
Each apply (attach, detach, setup, install) records an entry with backups of every file it touched.
Entries left pending, in-progress or failed come from an apply that stopped: inspect them with
'journal show <id>' and undo them with 'rollback <id>'.

Examples:
  bhyve-gpu journal
  bhyve-gpu journal --json
  bhyve-gpu journal show 20261126T174012.345Z-a1b2c3
  bhyve-gpu --root /mnt/image journal

An entry whose entry.json is truncated or damaged is listed with state "unreadable" and its parse error;
the other entries are listed as usual.

Exit codes: 0 listed (unreadable entries included), 1 failure (the journal directory cannot be read),
2 usage`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const host = await openHost(g.host, g.root);
      try {
        if (host.kind === 'snapshot' && !('root' in host))
          throw new ToolError(
            'snapshot-no-journal',
            'a snapshot never holds the journal: it records the probe set only (docs/snapshot-format.md)',
            {
              hint: 'run bhyve-gpu journal on the host itself (or --host ssh://HOST); with --root DIR it reads DIR/var/db/bhyve-gpu/journal',
              exitCode: 2,
            },
          );
        const entries = await listEntries(host, JOURNAL_DIR);
        const interrupted = (await lockHeldByLiveRun(host, LOCK_PATH))
          ? []
          : await interruptedEntries(host, JOURNAL_DIR);
        if (g.json) {
          printJson({
            schemaVersion: SCHEMA_VERSION,
            entries: entries.map((e) => {
              const i = interrupted.find((x) => x.id === e.id);
              return i ? { ...e, interrupted: { where: i.where, commands: [i.undo], finish: i.finish } } : e;
            }),
          });
          return;
        }
        if (entries.length === 0) {
          out('the journal is empty: bhyve-gpu has applied nothing on this host');
          return;
        }
        const rows = entries.map((e) => [
          e.id,
          e.time ?? '',
          colorState(e.state),
          e.command,
          e.files.join(' '),
        ]);
        out(table(['ID', 'TIME', 'STATE', 'COMMAND', 'FILES'], rows));
        for (const e of entries.filter((x) => x.state === 'unreadable'))
          note(`${style.yellow('warning:')} ${e.id} is unreadable: ${e.error ?? 'unknown error'}`);
        for (const i of interrupted)
          note(
            `${style.yellow('interrupted:')} ${i.id} (${i.title}): ${i.where} when the run stopped; undo: ${quoteArgv(i.undo)}${i.finish && i.kind === 'apply' ? `; or finish it: ${quoteArgv(i.finish)}` : ''}`,
          );
        for (const e of entries.filter(
          (x) => UNFINISHED.has(x.state) && !interrupted.some((i) => i.id === x.id),
        ))
          note(
            `${style.yellow('note:')} ${e.id} is ${e.state}: an apply that did not finish; see 'bhyve-gpu journal show ${e.id}', undo with 'bhyve-gpu rollback ${e.id}'`,
          );
      } finally {
        await host.close();
      }
    });
  journal
    .command('show')
    .description('show one journal entry: steps, diffs, backups, rollback record')
    .argument('<id>', 'entry id (from `bhyve-gpu journal`)')
    .addHelpText(
      'after',
      `
Examples:
  bhyve-gpu journal show 20261126T174012.345Z-a1b2c3
  bhyve-gpu journal show 20261126T174012.345Z-a1b2c3 --json

Exit codes: 0 shown, 1 no such entry or unreadable, 2 usage`,
    )
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const host = await openHost(g.host, g.root);
      try {
        const entry = await readEntry(host, JOURNAL_DIR, id);
        if (g.json) printJson({ schemaVersion: SCHEMA_VERSION, entry: entry ?? { id, state: 'incomplete' } });
        else if (entry === undefined)
          out(`${id}: incomplete (the apply stopped while taking backups; nothing was changed)`);
        else showEntry(entry);
      } finally {
        await host.close();
      }
    });
}

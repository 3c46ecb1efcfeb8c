import type { Command } from 'commander';
import { openHost } from '../../host/open.js';
import type { Host } from '../../host/types.js';
import { JOURNAL_DIR } from '../../plan/journal.js';
import { colorDiff } from '../../plan/render.js';
import {
  previewRollback,
  type RollbackAction,
  RollbackConflictError,
  type RollbackPreview,
  rollback,
} from '../../plan/rollback.js';
import { SCHEMA_VERSION } from '../../version.js';
import { EXIT, globals, note, out, printJson, style } from '../output.js';

function actionLine(a: RollbackAction): string {
  if (a.kind === 'restore') return `restore ${a.path} from the journal backup`;
  if (a.kind === 'remove') return `delete ${a.path} (the entry created it)`;
  return `run ${a.argv.join(' ')} (undo of step ${a.step + 1})`;
}

function previewJson(p: RollbackPreview, dryRun: boolean, status: string, message: string) {
  return {
    schemaVersion: SCHEMA_VERSION,
    rollback: {
      id: p.id,
      status,
      message,
      dryRun,
      actions: p.actions,
      unchanged: p.unchanged,
      conflicts: p.conflicts,
      skipped: p.skipped,
    },
  };
}

function printConflicts(p: RollbackPreview): void {
  out(style.red(p.message));
  for (const c of p.conflicts) {
    out('');
    out(`${style.bold(c.path)}: what the entry wrote (a/) against what is there now (b/):`);
    out(colorDiff(c.diff.replace(/\n$/, '')));
  }
}

function printPreview(p: RollbackPreview): void {
  const e = p.entry;
  if (e)
    out(`${style.bold(`Rollback of ${e.id}`)}: ${e.title} (${e.state}, ${e.createdAt}, \`${e.command}\`)`);
  for (const a of p.actions) out(`  ${actionLine(a)}`);
  for (const u of p.unchanged) out(style.dim(`  ${u}: already as before the entry`));
}

type RollbackFlags = { yes?: boolean; dryRun?: boolean; check?: boolean };

export function register(program: Command): void {
  program
    .command('rollback')
    .description('undo a journal entry: restore the files it changed, run its undo commands in reverse')
    .argument('[id]', 'journal entry to undo (default: the latest readable one)')
    .option('-y, --yes', 'perform the rollback (without it, show what would be restored)')
    .option('--dry-run', 'only show what would be restored (the default without --yes)')
    .option('--check', 'change nothing; exit 3 when there is something to undo, 0 when not')
    .addHelpText(
      'after',
      `
A file changed since the entry was applied makes the whole rollback refuse, with a diff between what
the entry wrote and what is there now. Rolling back an entry twice says "already rolled back".
Without an id, newer entries whose entry.json cannot be read are skipped (each named on stderr); name
such an entry's id to see its parse error.

Examples:
  bhyve-gpu rollback                 # show what undoing the latest entry would do
  bhyve-gpu rollback --yes           # undo it
  bhyve-gpu rollback 20261126T174012.345Z-a1b2c3 --yes
  bhyve-gpu rollback --json --dry-run

Exit codes: 0 rolled back or nothing to do, 1 failure or refused (files changed since), 2 usage,
  3 changes pending (--check), 4 partial failure. A preview without --yes exits 0, as every plan does.`,
    )
    .action(async (id: string | undefined, opts: RollbackFlags, cmd: Command) => {
      const g = globals(cmd);
      const host = await openHost(g.host, g.root);
      const command = ['bhyve-gpu', 'rollback', ...(id ? [id] : []), '--yes'].join(' ');
      try {
        const preview = await previewRollback(host, { journalDir: JOURNAL_DIR, ...(id ? { id } : {}) });
        for (const s of preview.skipped)
          note(`${style.yellow('warning:')} skipped unreadable journal entry ${s.id}: ${s.error}`);
        if (preview.status === 'conflict') {
          if (g.json) printJson(previewJson(preview, true, preview.status, preview.message));
          else printConflicts(preview);
          note(`${style.red('error:')} nothing was restored`);
          process.exitCode = EXIT.failure;
          return;
        }
        const dryRun = opts.dryRun === true || opts.check === true || opts.yes !== true;
        const pending =
          preview.status === 'ready' || (preview.status === 'nothing' && preview.entry !== undefined);
        // With --yes the run goes through rollback() even when nothing is pending: it takes the lock, so
        // what a killed run left (a dead lock, temp files) is cleaned up without hand work.
        if (dryRun) {
          if (g.json) printJson(previewJson(preview, dryRun, preview.status, preview.message));
          else {
            printPreview(preview);
            out(preview.message);
          }
          if (pending && preview.status === 'ready') {
            if (!g.json && !opts.check)
              note(`${style.dim('hint:')} run again with --yes to undo these changes`);
            // One rule for every plan: shown and not applied exits 0; --check exits 3 when changes are pending.
            if (opts.check) process.exitCode = EXIT.pending;
          }
          return;
        }
        const result = await rollback(host, {
          journalDir: JOURNAL_DIR,
          command,
          ...(preview.id ? { id: preview.id } : {}),
          onNote: (line) => note(line),
        });
        if (g.json) printJson(previewJson(result.preview, false, result.status, result.message));
        else {
          printPreview(result.preview);
          out(result.message);
        }
        await warnStale(host);
      } catch (e) {
        if (!(e instanceof RollbackConflictError)) throw e;
        if (g.json)
          printJson({
            schemaVersion: SCHEMA_VERSION,
            rollback: { status: 'conflict', conflicts: e.conflicts },
          });
        else for (const c of e.conflicts) out(`${c.path}:\n${colorDiff(c.diff)}`);
        throw e;
      } finally {
        await host.close();
      }
    });
}

/**
 * Rolling back an `attach --remove-stale` puts the stale pptdevs entry back, exactly as asked; it only
 * takes effect at the next boot, so say so now, while the host can still be fixed.
 */
async function warnStale(host: Host): Promise<void> {
  try {
    const { scanHost } = await import('../../inventory/inventory.js');
    const inv = await scanHost(host);
    for (const s of inv.stale)
      note(
        `${style.yellow('warning:')} pptdevs entry ${s.entry.bhyveId} (${s.entry.file}:${s.entry.line}) is stale again: ${s.reason}; fix it before the next boot (bhyve-gpu doctor)`,
      );
  } catch {
    // The rollback itself is done; a host that cannot be scanned just gets no warning.
  }
}

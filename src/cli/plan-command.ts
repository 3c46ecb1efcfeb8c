import type { Command } from 'commander';
import { ToolError } from '../errors.js';
import type { Host } from '../host/types.js';
import { ALREADY_DONE, applyPlan } from '../plan/apply.js';
import { planToJson, renderPlan } from '../plan/render.js';
import { isNoop, type Plan } from '../plan/types.js';
import { type GlobalOptions, note, out, printJson } from './output.js';

export interface PlanFlags {
  yes?: boolean;
  dryRun?: boolean;
  check?: boolean;
}

/** The flags every plan-making command shares. */
export function addPlanFlags(cmd: Command): Command {
  return cmd
    .option('--dry-run', 'show the plan and change nothing (the default without --yes)')
    .option('-y, --yes', 'apply the plan (journaled, with backups; undo with bhyve-gpu rollback)')
    .option('--check', 'change nothing; exit 3 when changes are pending, 0 when none');
}

export const PLAN_EXIT_HELP = `Exit codes: 0 applied, or already in the desired state, or plan shown; 1 failure or refusal;
  2 usage error; 3 changes pending (--check); 4 partial failure (see bhyve-gpu journal).`;

/**
 * Show a plan (dry run, --json, --check) or apply it (--yes). Applying prints each step on stderr and the
 * journal entry id; a plan with nothing to do says "already in the desired state" and exits 0.
 */
export async function showOrApply(
  host: Host,
  plan: Plan,
  flags: PlanFlags,
  g: GlobalOptions,
  options: { command: string; verify?: (path: string, text: string) => void },
): Promise<void> {
  const noop = isNoop(plan) || plan.steps.length === 0;
  if (flags.check) {
    if (g.json) printJson({ ...planToJson(plan), pending: !noop });
    else out(noop ? ALREADY_DONE : renderPlan(plan));
    process.exitCode = noop ? 0 : 3;
    return;
  }
  if (!flags.yes || flags.dryRun) {
    if (g.json) printJson(planToJson(plan));
    else {
      out(noop ? `${plan.title}: ${ALREADY_DONE}` : renderPlan(plan));
      if (!noop) note('dry run: nothing changed; run again with --yes to apply');
    }
    return;
  }
  if (noop) {
    if (g.json) printJson({ ...planToJson(plan), result: 'noop', message: ALREADY_DONE });
    else out(`${plan.title}: ${ALREADY_DONE}`);
    return;
  }
  if (host.kind === 'snapshot' && !('root' in host))
    throw new ToolError('read-only-host', 'a snapshot is read-only: it can show a plan but not apply it', {
      hint: 'drop --yes to see the plan, or add --root DIR to apply into a directory tree',
      exitCode: 2,
    });
  // Known before anything is written: a recorded host can take file edits (under --root), not commands.
  const commands = plan.steps.filter((s) => s.kind === 'command');
  if (host.kind === 'snapshot' && commands.length > 0)
    throw new ToolError(
      'snapshot-commands',
      `a snapshot cannot run commands (${commands[0]?.kind === 'command' ? commands[0].argv.join(' ') : ''}); nothing was changed`,
      {
        hint: 'run on the host itself or with --host ssh://HOST (or drop --now)',
        exitCode: 2,
      },
    );
  const result = await applyPlan(host, plan, {
    command: options.command,
    argv: commandArgv(),
    onProgress: (line) => note(line),
    ...(options.verify ? { verify: options.verify } : {}),
  });
  if (g.json)
    printJson({
      ...planToJson(plan),
      result: result.status,
      message: result.message,
      journal: result.entry?.id,
    });
  else {
    out(result.message);
    for (const n of plan.notes) out(`note: ${n}`);
  }
}

/** The CLI line as typed, kept in the journal. */
export function commandLine(): string {
  return ['bhyve-gpu', ...process.argv.slice(2)].join(' ');
}

/** The CLI argv as typed, kept in the journal: the command that finishes an interrupted entry. */
export function commandArgv(): string[] {
  return ['bhyve-gpu', ...process.argv.slice(2)];
}

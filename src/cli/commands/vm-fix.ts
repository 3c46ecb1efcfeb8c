import type { Command } from 'commander';
import { buildLineEndsPlan } from '../../attach/line-ends.js';
import { openHost } from '../../host/open.js';
import { scanHost } from '../../inventory/inventory.js';
import { globals } from '../output.js';
import { addPlanFlags, commandLine, PLAN_EXIT_HELP, type PlanFlags, showOrApply } from '../plan-command.js';

const HELP = `
Rewrites the CRLF line ends of a vm-bhyve guest config as LF, as a journaled plan (undo with rollback).
vm-bhyve sources the config with sh, which keeps the CR in every value: loader="uefi" reads as "uefi\\r"
and the guest does not boot. doctor --vm NAME fails such a config, and attach refuses to add lines to it.
Nothing but the line ends changes.

Examples:
  bhyve-gpu vm-fix --vm xdev           # show the plan
  bhyve-gpu vm-fix --vm xdev --yes     # apply it

${PLAN_EXIT_HELP}`;

export function register(program: Command): void {
  const cmd = program
    .command('vm-fix')
    .description("rewrite a vm-bhyve guest config's CRLF line ends as LF (vm-bhyve keeps the CR)")
    .requiredOption('--vm <name>', 'the vm-bhyve guest whose config to fix');
  addPlanFlags(cmd)
    .addHelpText('after', HELP)
    .action(async (opts: { vm: string } & PlanFlags, c: Command) => {
      const g = globals(c);
      const host = await openHost(g.host, g.root);
      try {
        const inv = await scanHost(host);
        const plan = buildLineEndsPlan(inv, opts.vm);
        await showOrApply(host, plan, opts, g, { command: commandLine() });
      } finally {
        await host.close();
      }
    });
}

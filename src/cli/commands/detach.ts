import type { Command } from 'commander';
import { shFileVerifier } from '../../attach/guards.js';
import { buildDetachPlan } from '../../attach/plan.js';
import { buildStalePlan } from '../../attach/stale.js';
import { UsageError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import type { Host } from '../../host/types.js';
import { scanHost } from '../../inventory/inventory.js';
import { resolveGpu } from '../../inventory/resolve.js';
import { JOURNAL_DIR, type JournalEntry, listEntryIds, readEntry } from '../../plan/journal.js';
import { globals } from '../output.js';
import { addPlanFlags, commandLine, PLAN_EXIT_HELP, type PlanFlags, showOrApply } from '../plan-command.js';

const HELP = `
The inverse of attach: the GPU's functions leave pptdevs and the guest's passthruN entries (the remaining
entries are renumbered). A file that is still exactly as an attach left it gets its original bytes back;
otherwise only the GPU's entries are removed and wired_memory / loader stay. With --now, each function
goes back to the driver attach --now replaced (devctl), or the kernel picks one.

With --stale instead of a GPU: remove every stale pptdevs entry (its device is gone or is now one the
host uses, or the entry is no bus/slot/function or out of range) and nothing else, as a journaled plan.
It is the way out of attach's stale-entry refusal when no GPU is being attached.

Examples:
  bhyve-gpu detach 1/0/0 --vm xdev
  bhyve-gpu detach 1/0/0 --vm xdev --yes
  bhyve-gpu detach 2/0/0 --now --yes
  bhyve-gpu detach --stale --yes

${PLAN_EXIT_HELP}`;

/** Applied attach entries, oldest first: they tell detach the original bytes and drivers. */
async function attachEntries(host: Host): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for (const id of await listEntryIds(host, JOURNAL_DIR).catch(() => [] as string[])) {
    const e = await readEntry(host, JOURNAL_DIR, id).catch(() => undefined);
    if (e && e.state === 'applied' && /^bhyve-gpu .*\battach\b/.test(e.command)) out.push(e);
  }
  return out;
}

export function register(program: Command): void {
  const cmd = program
    .command('detach')
    .description('release a GPU: out of pptdevs and out of the vm-bhyve guest')
    .argument('[gpu]', 'bhyve ID (1/0/0), selector (pci0:1:0:0) or vendor:device (10de:1bb3)')
    .option('--vm <name>', 'vm-bhyve guest to take the GPU from')
    .option('--now', 'also give the functions back to their host drivers now (devctl)')
    .option('--stale', 'instead of a GPU: remove every stale pptdevs entry, and nothing else');
  addPlanFlags(cmd)
    .addHelpText('after', HELP)
    .action(
      async (
        spec: string | undefined,
        opts: { vm?: string; now?: boolean; stale?: boolean } & PlanFlags,
        c: Command,
      ) => {
        if (opts.stale && (spec !== undefined || opts.vm !== undefined || opts.now))
          throw new UsageError('--stale takes no GPU, --vm or --now', 'bhyve-gpu detach --stale --yes');
        if (!opts.stale && spec === undefined)
          throw new UsageError(
            'missing argument <gpu>',
            'give a GPU (bhyve-gpu scan lists them), or --stale',
          );
        const g = globals(c);
        const host = await openHost(g.host, g.root);
        try {
          const inv = await scanHost(host);
          if (opts.stale || spec === undefined) {
            const plan = buildStalePlan(inv);
            await showOrApply(host, plan, opts, g, { command: commandLine(), verify: shFileVerifier(plan) });
            return;
          }
          const gpu = resolveGpu(inv, spec);
          const plan = buildDetachPlan(inv, gpu, opts, await attachEntries(host));
          await showOrApply(host, plan, opts, g, { command: commandLine(), verify: shFileVerifier(plan) });
        } finally {
          await host.close();
        }
      },
    );
}

import type { Command } from 'commander';
import { shFileVerifier } from '../../attach/guards.js';
import { buildDetachPlan } from '../../attach/plan.js';
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

Examples:
  bhyve-gpu detach 1/0/0 --vm xdev
  bhyve-gpu detach 1/0/0 --vm xdev --yes
  bhyve-gpu detach 2/0/0 --now --yes

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
    .argument('<gpu>', 'bhyve ID (1/0/0), selector (pci0:1:0:0) or vendor:device (10de:1bb3)')
    .option('--vm <name>', 'vm-bhyve guest to take the GPU from')
    .option('--now', 'also give the functions back to their host drivers now (devctl)');
  addPlanFlags(cmd)
    .addHelpText('after', HELP)
    .action(async (spec: string, opts: { vm?: string; now?: boolean } & PlanFlags, c: Command) => {
      const g = globals(c);
      const host = await openHost(g.host, g.root);
      try {
        const inv = await scanHost(host);
        const gpu = resolveGpu(inv, spec);
        const plan = buildDetachPlan(inv, gpu, opts, await attachEntries(host));
        await showOrApply(host, plan, opts, g, { command: commandLine(), verify: shFileVerifier(plan) });
      } finally {
        await host.close();
      }
    });
}

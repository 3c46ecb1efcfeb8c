import type { Command } from 'commander';
import { checkRom } from '../../attach/guards.js';
import { bhyveArgs, bhyveConfigLines } from '../../bhyve/args.js';
import { UsageError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { scanHost } from '../../inventory/inventory.js';
import { resolveGpu } from '../../inventory/resolve.js';
import { SCHEMA_VERSION } from '../../version.js';
import { globals, note, out, printJson } from '../output.js';

const HELP = `
For raw bhyve users (no vm-bhyve): the options that pass every function of the GPU to a guest. Functions
keep their host function numbers on the chosen guest slot.

Examples:
  bhyve-gpu vm-args 1/0/0
  bhyve-gpu vm-args 10de:1e07 --slot 8 --rom /usr/local/share/roms/tu102.rom
  bhyve-gpu vm-args pci0:2:0:0 --config >> /usr/local/etc/bhyve/gpuvm.conf

Exit codes: 0 printed, 1 the host could not be scanned, 2 unknown or ambiguous GPU.`;

export function register(program: Command): void {
  program
    .command('vm-args')
    .description('print the bhyve -s options (or bhyve_config(5) lines) that pass a GPU to a guest')
    .argument('<gpu>', 'bhyve ID (1/0/0), selector (pci0:1:0:0) or vendor:device (10de:1bb3)')
    .option('--slot <n>', 'guest PCI slot (1-30)', '6')
    .option('--rom <file>', 'option ROM for the first function (rom=)')
    .option('--config', 'print bhyve_config(5) lines instead of command-line options')
    .addHelpText('after', HELP)
    .action(async (spec: string, opts: { slot: string; rom?: string; config?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const slot = Number(opts.slot);
      if (!Number.isInteger(slot) || slot < 1 || slot > 30)
        throw new UsageError(`--slot ${opts.slot}: use a guest slot from 1 to 30`);
      const host = await openHost(g.host, g.root);
      try {
        const inv = await scanHost(host);
        const gpu = resolveGpu(inv, spec);
        const romNote = opts.rom ? await checkRom(host, opts.rom) : undefined;
        if (romNote) note(`note: ${romNote}`);
        if (gpu.consoleGpu)
          note(
            `warning: ${gpu.id} is the host's console GPU: the host loses its display when a guest takes it`,
          );
        const o = { slot, ...(opts.rom ? { rom: opts.rom } : {}) };
        const args = bhyveArgs(gpu, o);
        const config = bhyveConfigLines(gpu, o);
        if (g.json) printJson({ schemaVersion: SCHEMA_VERSION, gpu: gpu.id, args, config });
        else if (opts.config) out(config.join('\n'));
        else out(args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' '));
        const notPpt = gpu.functions.filter((f) => f.state !== 'ppt-attached');
        // The advice must run as printed: --remove-stale while a stale entry would make attach refuse.
        if (notPpt.length && !gpu.consoleGpu)
          note(
            `note: ${notPpt.map((f) => f.device.bhyveId).join(' ')} not on ppt yet: bhyve-gpu attach ${gpu.id}${inv.stale.length ? ' --remove-stale' : ''} --yes, then reboot`,
          );
      } finally {
        await host.close();
      }
    });
}

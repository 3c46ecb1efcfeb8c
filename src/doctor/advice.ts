import type { GpuGroup, Inventory } from '../inventory/types.js';
import { quirkChain } from '../patch/quirks/advice.js';
import { DEFAULT_SOURCE_DIR } from '../srctree/git.js';

/**
 * Runnable advice: the argv arrays doctor and guest check attach to a check (issue 9). Every value the
 * tool knows (GPU, VM, source directory) is filled in; steps that change the host carry `--yes`.
 */
export interface Advice {
  commands?: string[][];
  noCommand?: string;
}

export const REBOOT: string[] = ['shutdown', '-r', 'now'];

/**
 * `commands` then a reboot, unless a stale pptdevs entry is still there: rebooting then would hand that
 * device (perhaps the NIC the host is reached through) to ppt. The reboot is left out, and the prose says
 * to reboot once the stale entries are gone (attach --remove-stale drops them and can reboot safely).
 */
export function thenReboot(inv: Inventory, commands: string[][]): string[][] {
  return inv.stale.length ? commands : [...commands, REBOOT];
}

export const REBOOT_AFTER_STALE =
  ' (reboot only once the stale pptdevs entries are removed: see the pptdevs check)';

/** The source → patch → build → install chain that gives the host a bhyve with the INTPIN quirk. */
export function intpinChain(src: string = DEFAULT_SOURCE_DIR): string[][] {
  return quirkChain([], ['intpin'], src);
}

/** GPUs a fix may propose: never the host console. */
export function freeGpus(inv: Inventory): GpuGroup[] {
  return inv.gpus.filter((g) => !g.consoleGpu);
}

/**
 * `bhyve-gpu attach GPU [--vm NAME] [--remove-stale] [--now] --yes`: --remove-stale while a stale entry would
 * make attach refuse. Undefined for the console GPU (attach refuses it).
 */
export function attachArgv(
  inv: Inventory,
  gpu: GpuGroup,
  options: { vm?: string | undefined; now?: boolean } = {},
): string[] | undefined {
  if (gpu.consoleGpu) return undefined;
  return [
    'bhyve-gpu',
    'attach',
    gpu.id,
    ...(options.vm ? ['--vm', options.vm] : []),
    ...(inv.stale.length ? ['--remove-stale'] : []),
    ...(options.now ? ['--now'] : []),
    '--yes',
  ];
}

/**
 * Advice that attaches "the" GPU to a VM: the GPU the VM already names, else the only GPU that is not the
 * console; otherwise no command, and why.
 */
export function attachAdvice(inv: Inventory, vm: string | undefined, named?: GpuGroup): Advice {
  const gpu = named && !named.consoleGpu ? named : undefined;
  const free = freeGpus(inv);
  const pick = gpu ?? (free.length === 1 ? free[0] : undefined);
  if (pick) {
    const argv = attachArgv(inv, pick, { vm });
    if (argv) return { commands: [argv] };
  }
  if (inv.devices === undefined) return { noCommand: 'the PCI device list was not read: no GPU to name' };
  if (free.length === 0)
    return {
      noCommand:
        inv.gpus.length > 0
          ? 'the only GPU is the host console, which bhyve-gpu never reserves: add a GPU for the guest'
          : 'no GPU on this host to attach',
    };
  return {
    noCommand: `more than one GPU could be meant: run bhyve-gpu attach with one of ${free.map((g) => g.id).join(', ')}${vm ? ` --vm ${vm}` : ''} --yes`,
  };
}

/** Why an UNKNOWN check has no command. */
export const UNKNOWN_NO_COMMAND =
  'doctor could not read this on the host: run it on the FreeBSD host as root (or record a fresh snapshot there with bhyve-gpu snapshot -o FILE)';

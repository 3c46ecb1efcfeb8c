import { spawnSync } from 'node:child_process';
import { type Command, Option } from 'commander';
import { shFileVerifier } from '../../attach/guards.js';
import { type AttachOptions, buildAttachPlan, findVmConfig } from '../../attach/plan.js';
import { idPair } from '../../bhyve/ids.js';
import { guestNonUefiLoader } from '../../conf/vm-conf.js';
import { ToolError, UsageError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { scanHost } from '../../inventory/inventory.js';
import { resolveGpu } from '../../inventory/resolve.js';
import type { GpuGroup, Inventory, StaleEntry } from '../../inventory/types.js';
import { applyPlan } from '../../plan/apply.js';
import { planToJson, renderPlan } from '../../plan/render.js';
import { isNoop } from '../../plan/types.js';
import { checkDestination, DEFAULT_SOURCE_DIR } from '../../srctree/git.js';
import { globals, note, out, printJson, style } from '../output.js';
import { commandLine } from '../plan-command.js';
import {
  choose,
  closePrompts,
  confirm,
  confirmDefaultYes,
  interactive,
  requireInteractive,
} from '../prompt.js';

const HELP = `
The guided path: scan -> pick the GPU -> pick the vm-bhyve guest -> show the whole plan (loader.conf, the
guest config, and source/patch/build/install when the GPU needs the NVIDIA INTPIN quirk) -> apply on
confirmation -> what to do after the reboot. On a terminal it asks, also whether to drop a stale pptdevs
entry in the same change and whether to switch a bhyveload/grub guest to UEFI; elsewhere every answer must
come from flags (--gpu, --vm or --no-vm, --remove-stale, --set-loader-uefi) and --yes.

Examples:
  bhyve-gpu setup
  bhyve-gpu setup --gpu 1/0/0 --vm xdev --yes
  bhyve-gpu setup --host examples/hosts/rtx2080ti-14.3.json --gpu 2/0/0 --vm cuda --remove-stale --json

Exit codes: 0 done (or plan shown with --dry-run / --json), 1 failure or refusal, 2 usage (no terminal
  and answers missing, or the build chain asked for on a remote or --root host), 4 the configuration was
  applied but the bhyve build chain failed.`;

interface SetupOptions extends Omit<AttachOptions, 'vm'> {
  gpu?: string;
  /** A guest name; false with --no-vm. */
  vm?: string | false;
  dryRun?: boolean;
  yes?: boolean;
  build: boolean;
  src: string;
  flavor?: string;
}

function candidates(inv: Inventory): GpuGroup[] {
  const free = inv.gpus.filter((g) => !g.consoleGpu);
  return free.length ? free : inv.gpus;
}

async function pickGpu(inv: Inventory, opts: SetupOptions): Promise<GpuGroup> {
  if (opts.gpu) return resolveGpu(inv, opts.gpu);
  const list = candidates(inv);
  if (list.length === 0)
    throw new ToolError('no-gpu', `no GPU found on ${inv.host.hostname}`, {
      hint: 'bhyve-gpu scan shows what was found',
    });
  if (list.length === 1 && !interactive()) return list[0] as GpuGroup;
  requireInteractive('setup needs to know which GPU', '--gpu');
  return choose(
    'Which GPU goes to the guest?',
    list.map((g) => ({
      label: `${g.id}  ${idPair(g)}  ${g.name}  (${g.functions.length} function${g.functions.length > 1 ? 's' : ''}, ${g.functions.map((f) => f.state).join('/')})`,
      value: g,
    })),
  );
}

async function pickVm(inv: Inventory, opts: SetupOptions): Promise<string | undefined> {
  if (opts.vm) return opts.vm;
  if (opts.vm === false) return undefined;
  const vmDir = inv.host.vmDir;
  const names = vmDir
    ? inv.raw.files
        .filter((f) => f.state === 'ok' && f.path.startsWith(`${vmDir}/`) && f.path.endsWith('.conf'))
        .map((f) => f.path.split('/').slice(-2)[0] as string)
    : [];
  requireInteractive('setup needs to know the guest', '--vm NAME or --no-vm');
  if (names.length === 0) {
    note(
      vmDir
        ? `no vm-bhyve guest in ${vmDir}: create one with "vm create NAME", then run setup again`
        : 'vm-bhyve is not set up (vm_dir in rc.conf): only the host is configured',
    );
    return undefined;
  }
  return choose('Which vm-bhyve guest gets it?', [
    ...names.map((n) => ({ label: n, value: n as string | undefined })),
    { label: 'none: configure the host only', value: undefined },
  ]);
}

/** "3/0/0 is now your NIC igb0": what the stale entry points at, said the way a person would. */
function staleWhat(s: StaleEntry): string {
  const d = s.device;
  if (!d) return `${s.entry.bhyveId} is no longer on the bus`;
  const name = d.driver ? `${d.driver}${d.unit ?? ''}` : (d.deviceName ?? 'a device');
  const kind =
    d.classCode === 0x02
      ? 'your NIC'
      : d.classCode === 0x01
        ? 'your disk controller'
        : d.classCode === 0x0c && d.subclass === 0x03
          ? 'your USB controller'
          : d.classCode === 0x03
            ? 'your display'
            : 'the host device';
  return `${s.entry.bhyveId} is now ${kind} ${name}`;
}

/**
 * The wizard's questions about what attach would otherwise refuse or change on its own: a stale pptdevs
 * entry (drop it in the same change?) and a guest's bhyveload/grub loader (switch it to UEFI?).
 */
async function askAboutChanges(inv: Inventory, vm: string | undefined, opts: SetupOptions): Promise<void> {
  if (!interactive()) return;
  if (!opts.removeStale && !opts.force && inv.stale.length > 0) {
    let drop = true;
    for (const s of inv.stale) {
      const lockout = s.lockout ? ' (left there, the next boot takes it away from the host)' : '';
      drop =
        (await confirmDefaultYes(`${staleWhat(s)}${lockout}; drop it from pptdevs in the same change?`)) &&
        drop;
    }
    // Kept: attach refuses next, with its reasons; no point asking about the guest first.
    if (!drop) return;
    opts.removeStale = true;
  }
  if (vm && opts.setLoaderUefi === undefined) {
    const loader = guestNonUefiLoader(findVmConfig(inv, vm).text);
    if (loader)
      opts.setLoaderUefi = await confirm(
        `${vm} boots with loader="${loader}"; GPU passthrough wants UEFI firmware. Switch it to loader="uefi"? A guest installed for ${loader} may not boot with UEFI until it has an EFI boot loader`,
      );
  }
}

function buildChain(gpu: GpuGroup, inv: Inventory, opts: SetupOptions): string[][] {
  if (gpu.intpinQuirk === 'not-needed' || inv.host.bhyve.state === 'patched') return [];
  const src = opts.src;
  return [
    ['source', '--src', src, ...(opts.flavor ? ['--flavor', opts.flavor] : [])],
    ['patch', '--src', src],
    ['build', '--src', src],
    ['install', '--src', src, '--yes'],
  ];
}

export function register(program: Command): void {
  program
    .command('setup')
    .description('guided setup: pick a GPU and a guest, show the whole plan, apply it')
    .option('--gpu <gpu>', 'the GPU (bhyve ID, selector or vendor:device)')
    .option('--vm <name>', 'the vm-bhyve guest')
    .option('--no-vm', 'configure the host only')
    .option('--rom <file>', 'option ROM for the first function')
    .option('--remove-stale', 'remove stale pptdevs entries in the same change')
    .option('--force', 'proceed despite stale entries or lock-out risks')
    .option(
      '--set-loader-uefi',
      'switch the guest\'s bhyveload/grub loader to loader="uefi" (asked on a terminal)',
    )
    .option('--no-build', 'do not run source/patch/build/install even when the GPU needs the quirk')
    .option('--src <dir>', 'where the bhyve source goes', DEFAULT_SOURCE_DIR)
    .addOption(
      new Option('--flavor <flavor>', 'source flavor for bhyve-gpu source').choices([
        'upstream',
        'stable',
        'nvidia-wip',
      ]),
    )
    .option('--dry-run', 'show the whole plan and change nothing (works without a terminal)')
    .option('-y, --yes', 'apply without asking')
    .addHelpText('after', HELP)
    .action(async (opts: SetupOptions, c: Command) => {
      const g = globals(c);
      if (opts.yes === undefined && !opts.dryRun && !interactive() && !g.json)
        throw new UsageError(
          'setup: no terminal to confirm on',
          'add --yes to apply, or --dry-run (or --json) to see the plan',
        );
      checkDestination(opts.src);
      const host = await openHost(g.host, g.root);
      try {
        const inv = await scanHost(host);
        const gpu = await pickGpu(inv, opts);
        const vm = await pickVm(inv, opts);
        await askAboutChanges(inv, vm, opts);
        const { vm: _vm, ...attachOpts } = opts;
        const plan = buildAttachPlan(inv, gpu, { ...attachOpts, ...(vm ? { vm } : {}) });
        const chain = buildChain(gpu, inv, opts);
        const next = [
          'reboot, so that ppt(4) claims the GPU at boot (vmm_load + pptdevs)',
          `bhyve-gpu doctor${vm ? ` --vm ${vm}` : ''}`,
          ...(vm
            ? [
                `vm start ${vm}; inside the guest: bhyve-gpu guest setup --run --yes, reboot it, then bhyve-gpu guest check`,
              ]
            : []),
        ];
        if (g.json) {
          printJson({
            ...planToJson(plan),
            gpu: gpu.id,
            vm,
            build: chain.map((a) => ['bhyve-gpu', ...a]),
            next,
          });
          if (!opts.yes || opts.dryRun) return;
        } else {
          out(style.bold(`GPU ${gpu.id} (${gpu.name}) -> ${vm ?? 'host only'}`));
          out(isNoop(plan) ? 'configuration: already in the desired state' : renderPlan(plan));
          if (chain.length) {
            out(
              style.bold(
                `then build the patched bhyve (the GPU needs the NVIDIA INTPIN quirk, installed bhyve: ${inv.host.bhyve.state})${opts.build ? '' : ' [skipped: --no-build]'}:`,
              ),
            );
            for (const a of chain) out(`  bhyve-gpu ${a.join(' ')}`);
          }
        }
        if (opts.dryRun) {
          note('dry run: nothing changed; run again with --yes to apply');
          return;
        }
        // Known before anything is written: the build chain needs the live host.
        if (opts.build && chain.length && (host.kind !== 'local' || g.root))
          throw new UsageError(
            'the bhyve build chain (source, patch, build, install) runs on the host itself',
            `run setup on the host, or add --no-build and later run there: ${chain.map((a) => `bhyve-gpu ${a.join(' ')}`).join(' && ')}`,
          );
        const go = opts.yes === true || (interactive() && (await confirm('Apply this plan?')));
        if (!go) {
          note('nothing changed');
          return;
        }
        if (!isNoop(plan)) {
          const r = await applyPlan(host, plan, {
            command: commandLine(),
            argv: ['bhyve-gpu', ...process.argv.slice(2)],
            verify: shFileVerifier(plan),
            onProgress: (l) => note(l),
          });
          note(r.message);
        }
        if (opts.build && chain.length) {
          for (const a of chain) {
            note(`$ bhyve-gpu ${a.join(' ')}`);
            const r = spawnSync(process.execPath, [process.argv[1] as string, ...a], { stdio: 'inherit' });
            if (r.status !== 0)
              throw new ToolError('build-chain', `bhyve-gpu ${a[0]} failed (exit ${r.status})`, {
                exitCode: 4,
                hint: 'fix the cause and run that step again; the configuration is applied',
              });
          }
        }
        if (!g.json) {
          out(style.bold('next:'));
          for (const n of next) out(`  - ${n}`);
        }
      } finally {
        closePrompts();
        await host.close();
      }
    });
}

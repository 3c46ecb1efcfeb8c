import { type Command, Option } from 'commander';
import { checkRom, shFileVerifier } from '../../attach/guards.js';
import { type AttachOptions, buildAttachPlan } from '../../attach/plan.js';
import { openHost } from '../../host/open.js';
import { scanHost } from '../../inventory/inventory.js';
import { resolveGpu } from '../../inventory/resolve.js';
import { globals } from '../output.js';
import { addPlanFlags, commandLine, PLAN_EXIT_HELP, type PlanFlags, showOrApply } from '../plan-command.js';

const HELP = `
Builds a plan, shows it (dry run) and applies it only with --yes:
  - /boot/loader.conf: every function of the GPU in pptdevs (split into pptdevs2/3 past 128 characters,
    no duplicates), vmm_load="YES";
  - with --vm: the vm-bhyve guest config gets passthruN="B/S/F=slot:func" for every function (one free
    guest slot, function 0 first), wired_memory="yes", and loader="uefi" when none is set (a bhyveload or
    grub loader is replaced only with --set-loader-uefi: such a guest may not boot with UEFI firmware);
  - with --now: devctl set driver -f <selector> ppt for each function (no reboot; detach restores the
    driver it replaced).
It refuses while a pptdevs entry is stale (device gone, or now a NIC/disk/USB controller the host uses),
when a function carries the host's network route, boot disk or console, or when the guest is running.

Examples:
  bhyve-gpu attach 1/0/0 --vm xdev                 # show the plan
  bhyve-gpu attach 10de:1bb3 --vm xdev --yes       # apply it
  bhyve-gpu attach 2/0/0 --vm cuda --remove-stale --set-loader-uefi --yes
  bhyve-gpu attach 1/0/0 --vm xdev --rom /vms/roms/p4.rom --json
  bhyve-gpu attach 1/0/0 --check                   # exit 3 when changes are pending
  bhyve-gpu attach 10de:2684 --vm win11 --guest-os windows --yes

Windows guests (--guest-os windows, or a config like vm-bhyve's windows template: utctime="no",
ahci-hd disks, e1000 NICs, a name with "win"): also hw.vmm.hide_hypervisor="1" in /boot/loader.conf when
the installed vmm.ko has the hide-hypervisor quirk, and bhyve_options="-o pci.mmio64_size=SIZE" when the
GPU's BARs need a 64-bit window over 32 GiB and the installed bhyve has the mmio64 quirk; otherwise the
plan prints the commands that add the quirk. See docs/windows.md.

${PLAN_EXIT_HELP}`;

export function register(program: Command): void {
  const cmd = program
    .command('attach')
    .description('reserve a GPU (pptdevs, vmm_load) and give all its functions to a vm-bhyve guest')
    .argument('<gpu>', 'bhyve ID (1/0/0), selector (pci0:1:0:0) or vendor:device (10de:1bb3)')
    .option('--vm <name>', 'vm-bhyve guest to give the GPU to')
    .option('--rom <file>', 'option ROM for the first function (passthruN_options="rom=FILE")')
    .option('--now', 'also bind the functions to ppt now with devctl (no reboot)')
    .option('--remove-stale', 'remove stale pptdevs entries in the same change')
    .option('--force', 'proceed despite stale entries or lock-out risks')
    .option(
      '--set-loader-uefi',
      'switch a guest\'s bhyveload/grub loader to loader="uefi" (it may then need reinstalling to boot)',
    )
    .addOption(
      new Option(
        '--guest-os <os>',
        'windows: hide the hypervisor, size the MMIO window (auto: detect from --vm)',
      )
        .choices(['auto', 'windows', 'linux', 'other'])
        .default('auto'),
    );
  addPlanFlags(cmd)
    .addHelpText('after', HELP)
    .action(async (spec: string, opts: AttachOptions & PlanFlags, c: Command) => {
      const g = globals(c);
      const host = await openHost(g.host, g.root);
      try {
        const inv = await scanHost(host);
        const gpu = resolveGpu(inv, spec);
        const romNote = opts.rom ? await checkRom(host, opts.rom) : undefined;
        const plan = buildAttachPlan(inv, gpu, opts);
        if (romNote) plan.notes.push(romNote);
        await showOrApply(host, plan, opts, g, { command: commandLine(), verify: shFileVerifier(plan) });
      } finally {
        await host.close();
      }
    });
}

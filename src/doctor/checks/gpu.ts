import { idPair } from '../../bhyve/ids.js';
import { formatBytes, windowNeeded } from '../../bhyve/mmio.js';
import { installedQuirks } from '../../inventory/gpus.js';
import type { GpuGroup } from '../../inventory/types.js';
import { STOCK_MMIO64, sizeText } from '../../patch/quirks/words.js';
import { attachArgv, intpinChain, REBOOT, REBOOT_AFTER_STALE, thenReboot } from '../advice.js';
import { type Check, type CheckResult, type DoctorContext, result } from '../types.js';

const PATCH_FIX =
  'build and install a bhyve with the NVIDIA INTPIN quirk (fetch the source for this release, patch, build, install), then restart the guest';

const CONSOLE_NO_COMMAND =
  'this GPU is the host console: bhyve-gpu never reserves it; use a serial console or another GPU for the host first';

/** attach for this GPU (with --vm when doctor checks a VM), or why none: the console is never proposed. */
function attachFix(g: GpuGroup, ctx: DoctorContext, options: { now?: boolean } = {}) {
  const argv = attachArgv(ctx.inventory, g, { vm: ctx.vm?.name, ...options });
  return argv ? { commands: [argv] } : { noCommand: CONSOLE_NO_COMMAND };
}

function reserved(g: GpuGroup, ctx: DoctorContext): CheckResult {
  const id = `gpu.${g.id}.reserved`;
  const title = `GPU ${g.id}: every function reserved (pptdevs) and on ppt`;
  const ev = g.functions.map(
    (f) =>
      `${f.device.bhyveId} ${idPair(f.device)} ${f.device.driver ?? 'none'}${f.device.unit ?? ''}: ${f.state}`,
  );
  const fix = g.consoleGpu
    ? 'do not reserve the host console'
    : `reserve every function of ${g.id} (pptdevs, vmm_load) with bhyve-gpu attach, then reboot`;
  const attach = attachFix(g, ctx);
  const attachReboot = attach.commands ? { commands: [...attach.commands, REBOOT] } : attach;
  if (ctx.inventory.host.pptdevs === undefined)
    return result(id, title, 'UNKNOWN', [...ev, 'loader.conf not available']);
  if (g.functions.every((f) => f.state === 'ppt-attached')) {
    const unlisted = g.functions.filter((f) => !f.reserved);
    if (unlisted.length)
      return result(
        id,
        title,
        'WARN',
        [
          ...ev,
          `on ppt but not in pptdevs (bound at runtime?): ${unlisted.map((f) => f.device.bhyveId).join(' ')}; lost at reboot`,
        ],
        `reserve ${g.id} in pptdevs so that it stays on ppt after a reboot`,
        attach,
      );
    return result(id, title, 'PASS', ev);
  }
  const pending = g.functions.filter((f) => f.state === 'reserved-not-attached');
  const missing = g.functions.filter((f) => !f.reserved);
  if (missing.length === 0 && pending.length > 0) {
    const late = ctx.inventory.host.vmm.kldList && !ctx.inventory.host.vmm.loaderConf;
    return result(
      id,
      title,
      late ? 'FAIL' : 'WARN',
      [
        ...ev,
        late
          ? 'vmm is loaded from kld_list: too late to claim them'
          : 'reserved in pptdevs: a reboot is pending',
      ],
      late
        ? `set vmm_load="YES" in /boot/loader.conf, then reboot${ctx.inventory.stale.length ? REBOOT_AFTER_STALE : ''}`
        : `reboot, or bind them now without a reboot (attach --now loads vmm.ko first when it is not loaded)`,
      late
        ? { commands: thenReboot(ctx.inventory, [['sysrc', '-f', '/boot/loader.conf', 'vmm_load=YES']]) }
        : attachFix(g, ctx, { now: true }),
    );
  }
  return result(
    id,
    title,
    'FAIL',
    [...ev, `not in pptdevs: ${missing.map((f) => f.device.bhyveId).join(' ')}`],
    fix,
    attachReboot,
  );
}

function interrupts(g: GpuGroup, ctx: DoctorContext): CheckResult {
  const id = `gpu.${g.id}.interrupts`;
  const title = `GPU ${g.id}: interrupts (MSI/MSI-X) and the NVIDIA INTPIN quirk`;
  if (!g.capabilitiesKnown) return result(id, title, 'UNKNOWN', ['pciconf -c capability lines not captured']);
  const ev = [`MSI: ${g.msi ? 'yes' : 'no'}, MSI-X: ${g.msix ? 'yes' : 'no'}`];
  if (!g.msi && !g.msix)
    return result(
      id,
      title,
      'WARN',
      [...ev, 'no MSI or MSI-X: the guest must use legacy INTx, which bhyve passthru does not route'],
      'pass a device with MSI or MSI-X',
      { noCommand: 'a property of the device: no command adds MSI' },
    );
  if (g.intpinQuirk === 'not-needed') return result(id, title, 'PASS', ev);
  const bhyve = ctx.inventory.host.bhyve;
  const installed = installedQuirks(ctx.inventory.host);
  const quirk = installed.includes('intpin');
  // The mirror does not set INTPIN itself (it serves bhyve's virtual header), but say it is there.
  if (installed.includes('nvidia-mirror'))
    ev.push(
      'installed bhyve traps the NVIDIA config-space mirror (BAR0 + 0x88000): the driver reads the virtual header there too',
    );
  ev.push(
    g.intpinQuirk === 'required'
      ? 'NVIDIA without MSI-X: the driver refuses a device with INTPIN 0 ("Can\'t find an IRQ for your NVIDIA card!"); stock bhyve shows INTPIN 0'
      : 'NVIDIA with MSI-X: probe passes without the quirk on current drivers; older driver branches still need it',
  );
  if (bhyve.state === 'patched' && quirk)
    return result(id, title, 'PASS', [...ev, 'installed bhyve carries the INTPIN quirk']);
  if (bhyve.state === 'unknown') return result(id, title, 'UNKNOWN', [...ev, 'installed bhyve unknown']);
  return result(
    id,
    title,
    g.intpinQuirk === 'required' ? 'FAIL' : 'WARN',
    [...ev, `installed bhyve: ${bhyve.state}`],
    PATCH_FIX,
    { commands: intpinChain() },
  );
}

/** The patch, build and install steps that give bhyve an mmio64 window of `size` (argv arrays). */
function mmio64Commands(size: number, installed: readonly string[]): string[][] {
  const src = '/usr/local/bhyve-gpu/src';
  const words = [...installed.filter((q) => !q.startsWith('mmio64=')), `mmio64=${sizeText(size)}`];
  if (!words.includes('intpin')) words.unshift('intpin');
  return [
    ['bhyve-gpu', 'patch', '--src', src, '--quirk', words.join(',')],
    ['bhyve-gpu', 'build', '--src', src],
    ['bhyve-gpu', 'install', '--src', src, '--yes'],
  ];
}

function mmio(g: GpuGroup, ctx: DoctorContext): CheckResult {
  const id = `gpu.${g.id}.mmio`;
  const installed = installedQuirks(ctx.inventory.host);
  const window = g.mmio.windows[1].capacity;
  const mmio64 = installed.find((q) => q.startsWith('mmio64='));
  const title = `GPU ${g.id}: BARs fit bhyve's guest MMIO windows`;
  if (g.bars.length === 0) return result(id, title, 'UNKNOWN', ['pciconf -b BAR lines not captured']);
  const ev = g.mmio.windows.map(
    (w) => `${w.window} window: ${formatBytes(w.used)} used of ${formatBytes(w.capacity)}`,
  );
  const big = g.bars
    .filter((b) => b.bar.is64 && b.bar.size >= 8 * 1024 ** 3)
    .map((b) => `${b.owner} ${formatBytes(b.bar.size)}`);
  if (!g.mmio.fits) {
    const over = g.mmio.windows
      .filter((w) => !w.fits)
      .map(
        (w) =>
          `${w.overflow?.owner} (${formatBytes(w.overflow?.bar.size ?? 0)}) does not fit the ${w.window} window`,
      );
    const need = windowNeeded(g.bars);
    const lowOnly = g.mmio.windows[1].fits;
    if (lowOnly)
      return result(
        id,
        title,
        'FAIL',
        [...ev, ...over],
        "the BARs below 4 GiB do not fit bhyve's 32-bit window: pass fewer functions to this guest",
        { noCommand: 'a choice of devices for this guest, not a setting' },
      );
    return {
      ...result(
        id,
        title,
        'FAIL',
        [
          ...ev,
          ...over,
          mmio64 ? `installed bhyve: ${mmio64}` : 'installed bhyve: stock 32 GiB 64-bit window',
        ],
        `give bhyve a ${formatBytes(need)} 64-bit window (patch --quirk mmio64=${sizeText(need)}, build, install), then bhyve-gpu attach sets -o pci.mmio64_size for the guest; Windows guests on UEFI also need firmware with a larger aperture (docs/patching.md)`,
      ),
      commands: mmio64Commands(need, installed),
    };
  }
  if (window > STOCK_MMIO64 && g.mmio.windows[1].used > STOCK_MMIO64 / 2)
    return result(id, title, 'PASS', [
      ...ev,
      `installed bhyve carries ${mmio64 ?? 'a larger window'}: the 64-bit window is ${formatBytes(window)} (set per guest with -o pci.mmio64_size)`,
      "UEFI guests: bhyve's firmware assigns 64-bit BARs in its own 32 GiB aperture; Linux assigns the rest from bhyve's ACPI window, Windows does not (Code 12)",
    ]);
  if (big.length)
    return result(
      id,
      title,
      'WARN',
      [...ev, `large BAR: ${big.join(', ')}: it takes most of bhyve's ${formatBytes(window)} 64-bit window`],
      'enable Above 4G decoding in the host firmware; give this guest no second large-BAR device (one 32 GiB BAR fills the whole window)',
      { noCommand: 'a firmware setting (Above 4G decoding) and a choice of devices' },
    );
  return result(id, title, 'PASS', ev);
}

function consoleGpu(g: GpuGroup): CheckResult[] {
  if (!g.consoleGpu) return [];
  const reservedFns = g.functions.filter((f) => f.reserved).map((f) => f.device.bhyveId);
  // The console reserved in pptdevs: the next boot takes the host's display away. Undo the reservation.
  if (reservedFns.length)
    return [
      result(
        `gpu.${g.id}.console`,
        `GPU ${g.id}: not the host console`,
        'FAIL',
        [
          'dmesg.boot: this GPU is the boot video device',
          `reserved in pptdevs: ${reservedFns.join(' ')}: at the next boot the host loses its console`,
        ],
        'stop reserving the console GPU before the next boot',
        { commands: [['bhyve-gpu', 'detach', g.id, '--yes']] },
      ),
    ];
  return [
    result(
      `gpu.${g.id}.console`,
      `GPU ${g.id}: not the host console`,
      'WARN',
      ['dmesg.boot: this GPU is the boot video device'],
      'pass a GPU that is not the console, or use a serial/other console before reserving it',
      { noCommand: CONSOLE_NO_COMMAND },
    ),
  ];
}

export const gpuChecks: Check = (ctx) => {
  const inv = ctx.inventory;
  if (inv.devices === undefined)
    return [
      result(
        'gpu',
        'GPUs',
        'UNKNOWN',
        inv.unknown.filter((u) => u.startsWith('pciconf')),
      ),
    ];
  if (inv.gpus.length === 0)
    return [
      result('gpu', 'GPUs', 'FAIL', ['no PCI display-class device found'], 'install a GPU in the host', {
        noCommand: 'hardware: no GPU on this host',
      }),
    ];
  return inv.gpus
    .filter((g) => !g.consoleGpu || inv.gpus.length === 1 || g.functions.some((f) => f.reserved))
    .flatMap((g) =>
      // The console GPU is shown (with its warning, or a FAIL when reserved) but never measured as a
      // passthrough candidate: no advice may complete its reservation.
      g.consoleGpu ? consoleGpu(g) : [reserved(g, ctx), interrupts(g, ctx), mmio(g, ctx)],
    );
};

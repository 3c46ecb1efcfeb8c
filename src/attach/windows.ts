/**
 * attach for a Windows guest (`--guest-os windows`, or a vm-bhyve config that looks like the windows
 * template): on top of what every guest gets (UEFI loader, every function on one slot with =slot:func,
 * wired memory, the ROM when given), the hypervisor hidden from the guest (hw.vmm.hide_hypervisor="1" in
 * /boot/loader.conf, with a vmm.ko that has the hide-hypervisor quirk) and a 64-bit MMIO window that fits
 * the GPU's BARs (bhyve_options="-o pci.mmio64_size=SIZE", with a bhyve that has the mmio64 quirk).
 * Quirk names and keys: CONTRACTS.md "Quirk profiles".
 */

import { formatBytes, MEMSIZE64, windowNeeded } from '../bhyve/mmio.js';
import { get, parseShDoc, printShDoc, set } from '../conf/shedit.js';
import { readVmBhyveConfig } from '../conf/vm-layout.js';
import { UsageError } from '../errors.js';
import { commandsLine } from '../host/shell-quote.js';
import { installedQuirks as hostQuirks } from '../inventory/gpus.js';
import type { GpuGroup, Inventory } from '../inventory/types.js';
import { quirkChain } from '../patch/quirks/advice.js';
import { MMIO64_KEY } from '../patch/quirks/mmio64.js';

export const GUEST_OSES = ['auto', 'windows', 'linux', 'other'] as const;
export type GuestOs = (typeof GUEST_OSES)[number];

export const HIDE_TUNABLE = 'hw.vmm.hide_hypervisor';

export interface WindowsDetection {
  windows: boolean;
  /** What in the config says so (shown in the plan). */
  reasons: string[];
}

/**
 * A Windows guest from its vm-bhyve config: the settings vm-bhyve's windows template writes
 * (sample-templates/windows.conf: utctime="no" because Windows keeps the RTC in local time,
 * ahci_device_limit, disk0_type="ahci-hd", network0_type="e1000", graphics and xhci_mouse) and a name
 * that says "win". Two independent signs are needed; utctime="no" alone is also a FreeBSD dual-boot habit.
 */
export function detectWindowsGuest(name: string, text: string): WindowsDetection {
  const c = readVmBhyveConfig(text);
  const signs: { weight: number; reason: string }[] = [];
  if (c.get('utctime')?.toLowerCase() === 'no')
    signs.push({
      weight: 2,
      reason: 'utctime="no" (the windows template: Windows keeps the RTC in local time)',
    });
  if (c.get('ahci_device_limit') !== undefined)
    signs.push({
      weight: 2,
      reason: `ahci_device_limit="${c.get('ahci_device_limit')}" (the windows template)`,
    });
  if (/^win|[-_.]win(dows)?[0-9]*([-_.]|$)/i.test(name))
    signs.push({ weight: 2, reason: `the guest is named "${name}"` });
  const first = (prefix: string, value: string) =>
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${prefix}${i}_type`).find((k) => c.get(k) === value);
  const ahci = first('disk', 'ahci-hd');
  if (ahci)
    signs.push({ weight: 1, reason: `${ahci}="ahci-hd" (Windows has no virtio-blk driver out of the box)` });
  const e1000 = first('network', 'e1000');
  if (e1000)
    signs.push({ weight: 1, reason: `${e1000}="e1000" (Windows has no virtio-net driver out of the box)` });
  const score = signs.reduce((s, x) => s + x.weight, 0);
  return { windows: score >= 3, reasons: signs.map((s) => s.reason) };
}

export interface WindowsPlan {
  /** Notes for the plan: why each Windows setting is there, or the command that makes it possible. */
  notes: string[];
  /** /boot/loader.conf text with the hide-hypervisor tunable, or undefined when it cannot be set yet. */
  loaderConf?: (text: string) => string;
}

export function resolveGuestOs(
  requested: GuestOs | undefined,
  vm: { name: string; text: string } | undefined,
): { os: GuestOs; reasons: string[] } {
  if (requested !== undefined && !GUEST_OSES.includes(requested))
    throw new UsageError(`--guest-os ${requested}: use one of ${GUEST_OSES.join(', ')}`);
  if (requested && requested !== 'auto') return { os: requested, reasons: [`--guest-os ${requested}`] };
  if (!vm) return { os: 'other', reasons: [] };
  const d = detectWindowsGuest(vm.name, vm.text);
  return d.windows ? { os: 'windows', reasons: d.reasons } : { os: 'other', reasons: [] };
}

/** The Windows settings for this host, GPU and (optionally) guest. */
export function planWindows(
  inv: Inventory,
  gpu: GpuGroup,
  vmName: string | undefined,
  reasons: string[],
  rom?: string,
): WindowsPlan {
  const quirks = hostQuirks(inv.host);
  const notes: string[] = [`Windows guest: ${reasons.join('; ')}`];
  if (vmName)
    notes.push(
      'loader="uefi": Windows 11 boots only from UEFI firmware (bhyve-firmware)',
      `passthruN="B/S/F=slot:func" for all ${gpu.functions.length} functions on one guest slot: they stay together with their host function numbers, as NVIDIA's Windows driver expects`,
      'wired_memory="yes": bhyve needs the guest memory wired for passthrough',
    );
  if (vmName && rom)
    notes.push(
      `passthru0_options="rom=${rom}": the GPU's option ROM (VBIOS) for the guest firmware and driver`,
    );
  const plan: WindowsPlan = { notes };
  if (quirks.includes('hide-hypervisor')) {
    plan.loaderConf = (text) => {
      const doc = parseShDoc(text, '/boot/loader.conf', { loader: true });
      if (get(doc, HIDE_TUNABLE) === '1') return text;
      set(doc, HIDE_TUNABLE, '1');
      return printShDoc(doc);
    };
    notes.push(
      `${HIDE_TUNABLE}="1": the installed vmm.ko (quirk hide-hypervisor) then clears the CPUID hypervisor bit and leaf 0x40000000, so NVIDIA's Windows driver does not stop the GPU with Code 43; takes effect at boot, or now with: sysctl ${HIDE_TUNABLE}=1`,
    );
  } else {
    notes.push(
      `the installed bhyve lacks the hide-hypervisor quirk (installed quirks: ${quirks.length ? quirks.join(', ') : 'none'}), so Windows sees "bhyve bhyve " and NVIDIA drivers before R465 stop GeForce cards with Code 43; add it, reboot, and run this attach again: ${commandsLine(quirkChain(quirks, ['hide-hypervisor']))}`,
    );
  }
  // The window itself is set by attach for every guest (src/attach/plan.ts, guestMmio64); this says what
  // it means for Windows.
  const need = windowNeeded(gpu.bars);
  if (need <= MEMSIZE64)
    notes.push(
      `no ${MMIO64_KEY}: the GPU's BARs fit bhyve's 32 GiB 64-bit window (${formatBytes(gpu.mmio.windows[1].used)} used)`,
    );
  else
    notes.push(
      `the GPU's large BARs need a ${formatBytes(need)} 64-bit window: without it Windows reports Code 12; with UEFI firmware a Windows guest sees only the firmware's 32 GiB aperture whatever bhyve's window (docs/patching.md)`,
    );
  return plan;
}

/** The Windows part of an attach plan, or undefined when the guest is not a Windows one. */
export function windowsAttach(
  inv: Inventory,
  gpu: GpuGroup,
  opts: { guestOs?: GuestOs; vm?: string; rom?: string },
  vm: { name: string; text: string } | undefined,
): WindowsPlan | undefined {
  const { os, reasons } = resolveGuestOs(opts.guestOs, vm);
  if (os !== 'windows') return undefined;
  return planWindows(inv, gpu, opts.vm, reasons, opts.rom);
}

/**
 * attach for a Windows guest (`--guest-os windows`, or a vm-bhyve config that looks like the windows
 * template): on top of what every guest gets (UEFI loader, every function on one slot with =slot:func,
 * wired memory, the ROM when given), the hypervisor hidden from the guest (hw.vmm.hide_hypervisor="1" in
 * /boot/loader.conf, with a vmm.ko that has the hide-hypervisor quirk) and a 64-bit MMIO window that fits
 * the GPU's BARs (bhyve_options="-o pci.mmio64_size=SIZE", with a bhyve that has the mmio64 quirk).
 * Quirk names and keys: CONTRACTS.md "Quirk profiles".
 */
import { formatBytes, LARGE_BAR64, MEMSIZE64 } from '../bhyve/mmio.js';
import { get, parseShDoc, printShDoc, set } from '../conf/shvars.js';
import { readVmBhyveConfig } from '../conf/vm-layout.js';
import { DEFAULT_SRC } from '../diagnose/windows.js';
import { UsageError } from '../errors.js';
import type { GpuGroup, Inventory } from '../inventory/types.js';

export const GUEST_OSES = ['auto', 'windows', 'linux', 'other'] as const;
export type GuestOs = (typeof GUEST_OSES)[number];

export const HIDE_TUNABLE = 'hw.vmm.hide_hypervisor';
export const MMIO64_KEY = 'pci.mmio64_size';

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

/** The installed bhyve's quirks (install manifest; "intpin" for a manifest from before quirk lists). */
export function installedQuirks(inv: Inventory): string[] {
  const b = inv.host.bhyve;
  if (b.state !== 'patched' || !b.manifest) return [];
  if (b.manifest.quirks) return b.manifest.quirks;
  return b.manifest.patches.some((p) => /intpin/i.test(p.name)) ? ['intpin'] : [];
}

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "256G" -> bytes; undefined when not SIZE. */
export function parseSize(text: string): number | undefined {
  const m = /^([0-9]+)([KMGT])$/i.exec(text.trim());
  return m ? Number(m[1]) * (UNITS[(m[2] as string).toUpperCase()] as number) : undefined;
}

/** bytes -> "256G" (powers of two from 1G). */
export function sizeWord(bytes: number): string {
  return bytes >= 1024 ** 4 ? `${bytes / 1024 ** 4}T` : `${bytes / 1024 ** 3}G`;
}

/**
 * The 64-bit window the GPU's large BARs need: bhyve places 64-bit BARs over 128 MiB there, largest first,
 * naturally aligned, so their sum rounded up to a power of two (at least the stock 32 GiB) holds them.
 * Undefined when the stock window already fits.
 */
export function mmio64Needed(gpu: GpuGroup): number | undefined {
  const high = gpu.bars.filter((r) => r.bar.kind === 'memory' && r.bar.is64 && r.bar.size > LARGE_BAR64);
  const total = high.reduce((s, r) => s + r.bar.size, 0);
  if (total <= MEMSIZE64 && gpu.mmio.windows[1].fits) return undefined;
  let size = MEMSIZE64;
  while (size < total) size *= 2;
  if (size === MEMSIZE64) size *= 2;
  return size;
}

/** bhyve_options with `-o pci.mmio64_size=SIZE` set: an existing value is replaced in place, else appended. */
export function withMmio64(options: string | undefined, size: string): string {
  const words = (options ?? '').split(/\s+/).filter((w) => w !== '');
  const out: string[] = [];
  let done = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const joined = w.startsWith(`-o${MMIO64_KEY}=`);
    if ((w === '-o' && words[i + 1]?.startsWith(`${MMIO64_KEY}=`)) || joined) {
      if (!joined) i++;
      if (!done) out.push('-o', `${MMIO64_KEY}=${size}`);
      done = true;
      continue;
    }
    out.push(w);
  }
  if (!done) out.push('-o', `${MMIO64_KEY}=${size}`);
  return out.join(' ');
}

/** The commands that add quirks to the installed bhyve (patch keeps the ones it has). */
export function quirkCommands(have: string[], add: string[]): string[][] {
  const words = [...new Set([...(have.length ? have : ['intpin']), ...add])];
  // A new mmio64=SIZE replaces an older one.
  const sized = words.filter((w) => !w.startsWith('mmio64=') || add.includes(w));
  return [
    ['bhyve-gpu', 'source'],
    ['bhyve-gpu', 'patch', '--src', DEFAULT_SRC, '--quirk', sized.join(',')],
    ['bhyve-gpu', 'build', '--src', DEFAULT_SRC],
    ['bhyve-gpu', 'install', '--src', DEFAULT_SRC, '--yes'],
  ];
}

const shell = (argv: string[][]) => argv.map((a) => a.join(' ')).join(' && ');

export interface WindowsPlan {
  /** Notes for the plan: why each Windows setting is there, or the command that makes it possible. */
  notes: string[];
  /** /boot/loader.conf text with the hide-hypervisor tunable, or undefined when it cannot be set yet. */
  loaderConf?: (text: string) => string;
  /** The guest config text with the MMIO window, or undefined when nothing to change. */
  vmConf?: (text: string) => string;
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
  const quirks = installedQuirks(inv);
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
      `the installed bhyve lacks the hide-hypervisor quirk (installed quirks: ${quirks.length ? quirks.join(', ') : 'none'}), so Windows sees "bhyve bhyve " and NVIDIA drivers before R465 stop GeForce cards with Code 43; add it, reboot, and run this attach again: ${shell(quirkCommands(quirks, ['hide-hypervisor']))}`,
    );
  }
  const need = mmio64Needed(gpu);
  if (need === undefined)
    notes.push(
      `no ${MMIO64_KEY}: the GPU's BARs fit bhyve's 32 GiB 64-bit window (${formatBytes(gpu.mmio.windows[1].used)} used)`,
    );
  if (need !== undefined) {
    const size = sizeWord(need);
    const bars = gpu.bars
      .filter((r) => r.bar.kind === 'memory' && r.bar.is64 && r.bar.size > LARGE_BAR64)
      .map((r) => `${r.owner} ${formatBytes(r.bar.size)}`)
      .join(', ');
    const installed = quirks.find((q) => q.startsWith('mmio64='));
    const installedSize = installed ? parseSize(installed.slice(7)) : undefined;
    if (installed === undefined) {
      notes.push(
        `the GPU's large BARs (${bars}) do not fit bhyve's 32 GiB 64-bit window (Windows: Code 12) and the installed bhyve lacks the mmio64 quirk; add it, then run this attach again: ${shell(quirkCommands(quirks, [`mmio64=${size}`]))}`,
      );
    } else if (installedSize !== undefined && installedSize >= need) {
      notes.push(
        `the GPU's large BARs (${bars}) need a ${formatBytes(need)} 64-bit window: the installed bhyve's ${installed} default already gives it (stock bhyve: 32 GiB, Windows: Code 12)`,
      );
    } else if (vmName) {
      plan.vmConf = (text) => {
        const current = readVmBhyveConfig(text).get('bhyve_options');
        const next = withMmio64(current, size);
        if (current === next) return text;
        const doc = parseShDoc(text, undefined, { vmBhyve: true });
        set(doc, 'bhyve_options', next, { vmBhyve: true });
        return printShDoc(doc);
      };
      notes.push(
        `bhyve_options "-o ${MMIO64_KEY}=${size}": the GPU's large BARs (${bars}) need a ${formatBytes(need)} 64-bit window (stock bhyve: 32 GiB; without it Windows reports Code 12)`,
      );
    } else {
      notes.push(
        `the GPU's large BARs (${bars}) need a ${formatBytes(need)} 64-bit window: run attach with --vm NAME to set ${MMIO64_KEY}`,
      );
    }
  }
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

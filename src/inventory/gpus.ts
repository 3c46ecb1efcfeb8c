import { type BarRequest, fitBars } from '../bhyve/mmio.js';
import { readBsf } from '../conf/bsf.js';
import type { PciDevice } from '../facts/types.js';
import { installedWindow, manifestQuirks } from '../patch/quirks/words.js';
import type {
  DeviceState,
  FunctionView,
  GpuGroup,
  HostFacts,
  IntpinNeed,
  PptdevsEntry,
  StaleEntry,
} from './types.js';

export const CLASS_STORAGE = 0x01;
export const CLASS_NETWORK = 0x02;
export const CLASS_DISPLAY = 0x03;
export const CLASS_BRIDGE = 0x06;
export const CLASS_SERIAL_BUS = 0x0c;
export const NVIDIA = 0x10de;

export function deviceState(d: PciDevice, reserved: boolean): DeviceState {
  if (d.driver?.startsWith('ppt')) return 'ppt-attached';
  if (reserved) return 'reserved-not-attached';
  return d.driver ? 'host-driver' : 'unclaimed';
}

const slotKey = (d: PciDevice) => `pci${d.domain}:${d.bus}:${d.slot}`;

function intpinNeed(gpu: PciDevice, msix: boolean): IntpinNeed {
  if (gpu.vendorId !== NVIDIA) return 'not-needed';
  // nv_pci_probe gives up when the device has no IRQ and no MSI-X; older branches check the IRQ alone.
  return msix ? 'recommended' : 'required';
}

/** Every display-class device grouped with all functions in its domain/bus/slot. */
export function groupGpus(devices: readonly PciDevice[], host: HostFacts): GpuGroup[] {
  // What vmm will match: canonical ids of entries the kernel receives (not those of a dropped value).
  const reserved = new Set(
    (host.pptdevs ?? []).flatMap((e) => {
      const id = readBsf(e.bhyveId);
      return id.ok && !e.lost ? [id.id] : [];
    }),
  );
  const seen = new Set<string>();
  const groups: GpuGroup[] = [];
  for (const d of devices) {
    if (d.classCode !== CLASS_DISPLAY || seen.has(slotKey(d))) continue;
    seen.add(slotKey(d));
    const fns = devices.filter((x) => slotKey(x) === slotKey(d)).sort((a, b) => a.function - b.function);
    const gpu = fns.find((x) => x.classCode === CLASS_DISPLAY) ?? d;
    const functions: FunctionView[] = fns.map((device) => ({
      device,
      reserved: reserved.has(device.bhyveId),
      state: deviceState(device, reserved.has(device.bhyveId)),
    }));
    const msi = gpu.capabilities.some((c) => c.kind === 'msi');
    const msix = gpu.capabilities.some((c) => c.kind === 'msix');
    const bars: BarRequest[] = fns.flatMap((f) =>
      f.bars.map((bar) => ({ owner: `${f.bhyveId} BAR@0x${bar.register.toString(16)}`, bar })),
    );
    const mmio = fitBars(bars, installedWindow(installedQuirks(host)));
    const consoleGpu = host.bootVideo !== undefined && `${gpu.driver}${gpu.unit}` === host.bootVideo;
    const g: GpuGroup = {
      id: fns[0]?.bhyveId ?? gpu.bhyveId,
      slotSelector: slotKey(gpu),
      vendorId: gpu.vendorId,
      deviceId: gpu.deviceId,
      name: gpu.deviceName ?? `device 0x${gpu.deviceId.toString(16)}`,
      vendorName: gpu.vendorName,
      functions,
      msi,
      msix,
      capabilitiesKnown: gpu.capabilities.length > 0,
      intpinQuirk: intpinNeed(gpu, msix),
      bars,
      mmio,
      consoleGpu,
      warnings: [],
    };
    groups.push(g);
  }
  return groups;
}

const HOST_CLASSES: Record<number, string> = {
  [CLASS_STORAGE]: 'storage controller',
  [CLASS_NETWORK]: 'network controller',
  [CLASS_BRIDGE]: 'bridge',
};

function roleOf(d: PciDevice): string | undefined {
  if (d.classCode === CLASS_SERIAL_BUS && d.subclass === 0x03) return 'USB controller';
  return HOST_CLASSES[d.classCode];
}

/** The devices whose loss locks the host out: the NICs under the default route, the console GPU. */
export function lockoutReason(d: PciDevice, host: HostFacts): string | undefined {
  const name = d.driver !== undefined && d.unit !== undefined ? `${d.driver}${d.unit}` : undefined;
  if (name && host.defaultRoute?.nics.includes(name))
    return `${name} carries the host's default route (via ${host.defaultRoute.interface})`;
  if (name && name === host.bootVideo) return `${name} is the host's console (boot video device)`;
  if (d.classCode === CLASS_STORAGE && d.driver && !d.driver.startsWith('ppt'))
    return `${name ?? d.selector} is a storage controller in use by the host (it may hold the boot disk)`;
  return undefined;
}

/**
 * pptdevs entries that no longer point at a device meant for a guest: the device is gone, or it is now a
 * NIC, storage, USB controller or bridge that the host is using (after a card was added or moved, B/S/F
 * shift and the next boot would take that device away from the host).
 */
export function findStale(
  entries: readonly PptdevsEntry[],
  devices: readonly PciDevice[],
  host: HostFacts,
): StaleEntry[] {
  const out: StaleEntry[] = [];
  for (const entry of entries) {
    // The one B/S/F reader (src/conf/bsf.ts): text vmm cannot match, or an id no PCI device can have.
    const id = readBsf(entry.bhyveId);
    if (!id.ok) {
      out.push({ entry, device: undefined, reason: `${id.message}: no device can match it`, lockout: false });
      continue;
    }
    const device = devices.find((d) => d.bhyveId === id.id && d.domain === 0);
    if (!device) {
      out.push({ entry, device, reason: `no PCI device at ${entry.bhyveId}`, lockout: false });
      continue;
    }
    if (device.driver?.startsWith('ppt')) continue;
    // A GPU's own functions (HDMI audio, USB-C, UCSI) are meant for the guest with it.
    if (devices.some((d) => d.classCode === CLASS_DISPLAY && slotKey(d) === slotKey(device))) continue;
    const role = roleOf(device);
    if (!role || !device.driver) continue;
    const lock = lockoutReason(device, host);
    out.push({
      entry,
      device,
      reason: `${entry.bhyveId} is now ${device.driver}${device.unit ?? ''} (${role}${device.deviceName ? `, ${device.deviceName}` : ''}) in use by the host`,
      lockout: lock !== undefined,
    });
  }
  return out;
}

/**
 * The quirks of the bhyve-gpu build installed on this host (empty for the base system bhyve or one that
 * freebsd-update replaced since).
 */
export function installedQuirks(host: Pick<HostFacts, 'bhyve'>): string[] {
  const b = host.bhyve;
  if (b.manifest === undefined || (b.state !== 'patched' && b.state !== 'unknown')) return [];
  return manifestQuirks(b.manifest);
}

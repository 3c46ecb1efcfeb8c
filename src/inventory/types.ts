import type { BarRequest, MmioFit } from '../bhyve/mmio.js';
import type { DmesgBootFacts, FreebsdRelease, KldFile, PciDevice } from '../facts/types.js';
import type { RawProbe } from './collect.js';

/** Richer than vm-bhyve's Yes/No. */
export type DeviceState = 'ppt-attached' | 'reserved-not-attached' | 'host-driver' | 'unclaimed';

export interface PptdevsEntry {
  /** The entry as written (a B/S/F id, or text the kernel cannot read as one). */
  bhyveId: string;
  /** pptdevs, pptdevs2, pptdevs3 */
  variable: string;
  file: string;
  line: number;
  /** Why the kernel never sees this entry (its variable is longer than the kernel environment takes). */
  lost?: string;
}

export interface FunctionView {
  device: PciDevice;
  state: DeviceState;
  reserved: boolean;
}

export type IntpinNeed = 'required' | 'recommended' | 'not-needed';

export interface GpuGroup {
  /** bhyve ID of the lowest function ("1/0/0"). */
  id: string;
  /** "pci0:1:0" (domain, bus, slot). */
  slotSelector: string;
  vendorId: number;
  deviceId: number;
  name: string;
  vendorName: string | undefined;
  functions: FunctionView[];
  msi: boolean;
  msix: boolean;
  /** Whether the capability list was read at all (pciconf -c). */
  capabilitiesKnown: boolean;
  intpinQuirk: IntpinNeed;
  bars: BarRequest[];
  mmio: MmioFit;
  /** The host console is on this GPU (dmesg "Boot video device"). */
  consoleGpu: boolean;
  warnings: string[];
}

export interface StaleEntry {
  entry: PptdevsEntry;
  device: PciDevice | undefined;
  reason: string;
  /** The host's network route or console depends on it: reserving it locks the host out. */
  lockout: boolean;
}

export interface InstallManifest {
  format: 'bhyve-gpu-install';
  version: 1;
  installedAt: string;
  source?: { repo?: string; branch?: string; commit?: string };
  patches: { name: string; sha256: string }[];
  files: { path: string; sha256: string; backup?: string }[];
  /** `freebsd-version -u` when the install ran: a later userland means freebsd-update ran since. */
  userland?: string;
  journalId?: string;
  /**
   * The quirks the installed build carries, canonical `patch --quirk` words in the order applied:
   * "intpin", "nvidia-mirror", "hide-hypervisor", "mmio64=256G". Absent in manifests written before
   * quirk profiles: read as ["intpin"] when `patches` names the INTPIN quirk.
   */
  quirks?: string[];
}

export type BhyveState = 'stock' | 'patched' | 'overwritten' | 'maybe-overwritten' | 'unknown';

export interface HostFacts {
  hostname: string;
  description: string;
  release: FreebsdRelease | undefined;
  releaseText: string | undefined;
  machine: string | undefined;
  /** `uname -s`: FreeBSD, or something else (a Linux guest, a workstation). */
  sysname: string | undefined;
  cpu: DmesgBootFacts | undefined;
  iommu: {
    table: 'DMAR' | 'IVRS' | 'none' | undefined;
    vmmIommuEnable: string | undefined;
    vmmIommuInitialized: string | undefined;
    amdviEnable: string | undefined;
  };
  vmm: {
    loaded: boolean | undefined;
    loaderConf: boolean | undefined;
    kldList: boolean | undefined;
    kld: KldFile[] | undefined;
    /** hw.vmm.hide_hypervisor (sysctl, else the loader tunable): undefined when neither says. */
    hideHypervisor?: string;
  };
  pptdevs: PptdevsEntry[] | undefined;
  loaderFiles: string[];
  defaultRoute: { interface: string; nics: string[] } | undefined;
  bootVideo: string | undefined;
  bhyve: { state: BhyveState; sha256?: string; manifest?: InstallManifest; detail: string };
  vmDir: string | undefined;
  runningVms: string[] | undefined;
}

export interface Inventory {
  host: HostFacts;
  /** Undefined when the PCI probe could not be read. */
  devices: PciDevice[] | undefined;
  gpus: GpuGroup[];
  stale: StaleEntry[];
  warnings: string[];
  /** What could not be known, and why ("pciconf -lbcv: not captured"). */
  unknown: string[];
  raw: RawProbe;
}

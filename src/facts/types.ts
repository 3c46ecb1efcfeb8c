/** Typed facts produced by the pure parsers in src/facts/. */

export interface PciBar {
  /** Config-space register offset of the BAR: 0x10, 0x14, ... */
  register: number;
  kind: 'memory' | 'io';
  base: number;
  /** Size in bytes. */
  size: number;
  is64: boolean;
  prefetchable: boolean;
}

export type PciCapability =
  | {
      kind: 'pcie';
      version?: number;
      portType?: string;
      raw: string;
      /** Function Level Reset advertised ("FLR" in the first line). */
      flr?: boolean;
      linkWidth?: number;
      maxLinkWidth?: number;
      /** GT/s as printed: "8.0". */
      linkSpeed?: string;
      maxLinkSpeed?: string;
    }
  | {
      kind: 'msi';
      messages: number;
      enabled: boolean;
      enabledMessages?: number;
      is64: boolean;
      raw: string;
      vectorMasks?: boolean;
    }
  | {
      kind: 'msix';
      tableSize: number;
      enabled: boolean;
      raw: string;
      /** BAR register (0x10..) and offset of the MSI-X table and PBA, from the continuation line. */
      tableBar?: number;
      tableOffset?: number;
      pbaBar?: number;
      pbaOffset?: number;
    }
  | { kind: 'power'; version?: number; states: string[]; current?: string; raw: string }
  | { kind: 'other'; id: number; name: string; raw: string; extended: boolean };

export interface PciDevice {
  /** "pci0:1:0:0" */
  selector: string;
  domain: number;
  bus: number;
  slot: number;
  function: number;
  /** bhyve / pptdevs form "1/0/0" (no domain). */
  bhyveId: string;
  /** Driver name ("vgapci", "ppt"); undefined when pciconf says "none". */
  driver: string | undefined;
  unit: number | undefined;
  vendorId: number;
  deviceId: number;
  subvendorId: number;
  subdeviceId: number;
  revision: number;
  /** Base class (0x03 display). */
  classCode: number;
  subclass: number;
  progIf: number;
  /** Header type byte; bit 0x80 = multifunction. */
  header: number;
  multifunction: boolean;
  vendorName?: string;
  deviceName?: string;
  className?: string;
  subclassName?: string;
  bars: PciBar[];
  capabilities: PciCapability[];
  /** Line number (1-based) of the device line in the parsed text. */
  line: number;
}

export interface ParseWarning {
  line: number;
  message: string;
}

/** What a lenient parser returns: the items that parsed, and a warning for each line it could not use. */
export interface Parsed<T> {
  value: T;
  warnings: ParseWarning[];
}

/** A FreeBSD release string such as "14.3-RELEASE-p4", taken apart. */
export type FreebsdBranch = 'RELEASE' | 'STABLE' | 'CURRENT' | 'RC' | 'BETA' | 'ALPHA' | 'PRERELEASE';

export interface FreebsdRelease {
  major: number;
  minor: number;
  branch: FreebsdBranch;
  /** Security patch level: "-p4" -> 4. */
  patch?: number;
  /** Candidate number of RC/BETA/ALPHA: "RC2" -> 2. */
  candidate?: number;
  /** The text as printed ("14.3-RELEASE-p4"). */
  text: string;
}

/** `freebsd-version -kru`: installed kernel, running kernel, userland (in that order). */
export interface FreebsdVersion {
  installedKernel?: string;
  runningKernel?: string;
  userland?: string;
  /** Release of the running kernel (else userland, else installed kernel). */
  release?: FreebsdRelease;
}

/** `uname -a` (or `uname -r`) taken apart. */
export interface UnameInfo {
  sysname?: string;
  hostname?: string;
  release: string;
  version?: string;
  machine?: string;
  /** Kernel configuration name ("GENERIC"), from the version field. */
  kernelConfig?: string;
  /** Source branch of 13+ kernels ("releng/14.3"). */
  sourceBranch?: string;
  parsedRelease?: FreebsdRelease;
}

/** One row of `kldstat` (and its modules with `kldstat -v`). */
export interface KldFile {
  id: number;
  refs: number;
  /** Load address as printed ("0xffffffff80200000"); beyond 2^53, so kept as text. Undefined when elided. */
  address: string | undefined;
  /** Size in bytes; undefined when elided. */
  size: number | undefined;
  /** "kernel", "vmm.ko". */
  name: string;
  /** Path shown by `kldstat -v` ("/boot/kernel/vmm.ko"). */
  path?: string;
  /** Modules listed under "Contains modules:" (`kldstat -v`). */
  modules: { id: number; name: string }[];
  line: number;
}

export interface VtxFeatures {
  /** `VT-x: (disabled in BIOS) ...` */
  disabledInBios: boolean;
  /** Every flag as printed: PAT, HLT, MTF, PAUSE, EPT, UG, VPID, VID, PostIntr. */
  flags: string[];
  ept: boolean;
  unrestrictedGuest: boolean;
  vpid: boolean;
  virtualInterruptDelivery: boolean;
  postedInterrupts: boolean;
  line: number;
}

export interface SvmFeatures {
  disabledInBios: boolean;
  /** Every flag as printed: NP, NRIP, VClean, AFlush, DAssist (NAsids= kept out). */
  flags: string[];
  nestedPaging: boolean;
  nripSave: boolean;
  asids?: number;
  line: number;
}

/** What `/var/run/dmesg.boot` (or `dmesg`) tells about virtualization support. */
export interface DmesgBootFacts {
  /** "FreeBSD 14.3-RELEASE releng/14.3-n271432-8c9ce319fef7 GENERIC amd64" */
  banner?: string;
  release?: FreebsdRelease;
  cpuModel?: string;
  /** From `Origin="GenuineIntel"`. */
  cpuVendor?: 'intel' | 'amd' | 'other';
  cpuOrigin?: string;
  /** Feature names from Features, Features2, AMD Features, AMD Features2, Structured Extended Features... */
  cpuFeatures: string[];
  vtx?: VtxFeatures;
  svm?: SvmFeatures;
  /** `Hypervisor: Origin = "KVMKVMKVM"`: this kernel runs as a guest. */
  hypervisor?: string;
  /** dmar0, dmar1... (Intel VT-d units attached). */
  dmarUnits: string[];
  /** ivhd0... (AMD-Vi units attached). */
  amdViUnits: string[];
  /** `vgapci0: Boot video device`. */
  bootVideo?: { driver: string; unit: number; line: number };
  /** ppt attach lines: `ppt0 mem 0xde000000-0xdeffffff,... irq 16 at device 0.0 on pci1` (parentBus: the N of pciN). */
  ppt: { unit: number; text: string; slot: number; function: number; parentBus: number; line: number }[];
}

/** One table header of `acpidump -t`. */
export interface AcpiTable {
  signature: string;
  length?: number;
  revision?: number;
  line: number;
}

/** One `KEY=value` assignment read from a loader.conf / rc.conf style file. */
export interface ShAssignment {
  key: string;
  value: string;
  line: number;
}

/** A network interface from `ifconfig -a`. */
export interface NetInterface {
  name: string;
  flags: string[];
  mtu?: number;
  /** if_bridge members (`member: igb0 flags=...`). */
  members: string[];
  /** lagg ports (`laggport: igb0 flags=...`). */
  laggPorts: string[];
  /** vlan parent (`vlan: 10 vlanproto: 802.1q vlanpri: 0 parent interface: igb0`). */
  vlanParent?: string;
  vlanId?: number;
  groups: string[];
  ether?: string;
  inet: string[];
  line: number;
}

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
  | { kind: 'pcie'; version?: number; portType?: string; raw: string }
  | { kind: 'msi'; messages: number; enabled: boolean; enabledMessages?: number; is64: boolean; raw: string }
  | { kind: 'msix'; tableSize: number; enabled: boolean; raw: string }
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

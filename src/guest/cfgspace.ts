import { ParseError } from '../errors.js';

/**
 * Decoder for a PCI function's configuration space as Linux exposes it in
 * /sys/bus/pci/devices/<addr>/config: readers without CAP_SYS_ADMIN get the 64-byte header only (128 for
 * CardBus; pci-sysfs.c), root gets 256 (conventional PCI) or 4096 (PCI Express) bytes.
 * Offsets are from the PCI Local Bus specification (type 0/1 header, capability list at 0x34).
 */

export interface PciClass {
  base: number;
  sub: number;
  progIf: number;
}

export interface PciBar {
  /** BAR register index 0..5 (a 64-bit BAR takes two registers; the index is the lower one). */
  index: number;
  kind: 'memory' | 'io';
  is64: boolean;
  prefetchable: boolean;
  /** Base address as programmed (guest physical address inside a VM). */
  base: number;
  /** Size in bytes: not in config space; filled from the sysfs `resource` file when known. */
  size?: number;
}

export interface PciCapability {
  id: number;
  offset: number;
  name: string;
}

export interface MsiCapability {
  offset: number;
  enabled: boolean;
  /** Vectors the function can request (Multiple Message Capable, as a count). */
  vectorsCapable: number;
  /** Vectors the OS granted (Multiple Message Enable, as a count). */
  vectorsEnabled: number;
  is64: boolean;
  perVectorMasking: boolean;
}

export interface MsixCapability {
  offset: number;
  enabled: boolean;
  functionMask: boolean;
  tableSize: number;
}

export interface PcieCapability {
  offset: number;
  version: number;
  /** Device/port type (0 endpoint, 1 legacy endpoint, 4 root port, ...). */
  deviceType: number;
}

export interface PowerCapability {
  offset: number;
  version: number;
}

export interface ConfigSpace {
  /** Bytes decoded (64, 256 or 4096). */
  length: number;
  vendorId: number;
  deviceId: number;
  command: number;
  status: number;
  revision: number;
  classCode: PciClass;
  /** Header layout (0 device, 1 bridge, 2 CardBus), without the multi-function bit. */
  headerType: number;
  multiFunction: boolean;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** 0x3C: the IRQ line firmware or the OS wrote. */
  interruptLine: number;
  /** 0x3D: 0 none, 1 INTA .. 4 INTD. 0 on an NVIDIA GPU in bhyve means the INTPIN quirk is missing. */
  interruptPin: number;
  bars: PciBar[];
  capabilities: PciCapability[];
  msi?: MsiCapability;
  msix?: MsixCapability;
  pcie?: PcieCapability;
  power?: PowerCapability;
  /** Things that looked wrong while decoding (capability loop, pointer out of range, ...). */
  warnings: string[];
}

const CAPABILITY_NAMES: Record<number, string> = {
  1: 'Power Management',
  5: 'MSI',
  9: 'Vendor Specific',
  16: 'PCI Express',
  17: 'MSI-X',
};

/** "INTA".."INTD" for 1..4, "none" for 0, the number otherwise. */
export function interruptPinName(pin: number): string {
  if (pin === 0) return 'none';
  if (pin >= 1 && pin <= 4) return `INT${String.fromCharCode(64 + pin)}`;
  return `invalid (${pin})`;
}

export function decodeConfigSpace(bytes: Uint8Array, source = 'config'): ConfigSpace {
  if (bytes.length < 64)
    throw new ParseError(`PCI config space is ${bytes.length} bytes, a header needs 64`, { file: source });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u8 = (o: number) => view.getUint8(o);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const warnings: string[] = [];
  const vendorId = u16(0x00);
  if (vendorId === 0xffff || vendorId === 0x0000)
    warnings.push(`vendor id 0x${vendorId.toString(16)}: the device did not answer config reads`);
  const headerByte = u8(0x0e);
  const headerType = headerByte & 0x7f;
  const space: ConfigSpace = {
    length: bytes.length,
    vendorId,
    deviceId: u16(0x02),
    command: u16(0x04),
    status: u16(0x06),
    revision: u8(0x08),
    classCode: { progIf: u8(0x09), sub: u8(0x0a), base: u8(0x0b) },
    headerType,
    multiFunction: (headerByte & 0x80) !== 0,
    interruptLine: u8(0x3c),
    interruptPin: u8(0x3d),
    bars: decodeBars(u32, headerType === 0 ? 6 : headerType === 1 ? 2 : 0),
    capabilities: [],
    warnings,
  };
  if (headerType === 0) {
    space.subsystemVendorId = u16(0x2c);
    space.subsystemId = u16(0x2e);
  }
  if (space.interruptPin > 4) warnings.push(`interrupt pin ${space.interruptPin} is out of range (0..4)`);
  if ((space.status & 0x10) !== 0) walkCapabilities(bytes, view, space);
  return space;
}

function decodeBars(u32: (o: number) => number, count: number): PciBar[] {
  const bars: PciBar[] = [];
  for (let i = 0; i < count; i++) {
    const raw = u32(0x10 + i * 4);
    if (raw === 0) continue;
    if ((raw & 1) === 1) {
      bars.push({ index: i, kind: 'io', is64: false, prefetchable: false, base: raw & 0xfffffffc });
      continue;
    }
    const type = (raw >>> 1) & 3;
    const prefetchable = (raw & 8) !== 0;
    const low = (raw & 0xfffffff0) >>> 0;
    if (type === 2 && i + 1 < count) {
      const high = u32(0x10 + (i + 1) * 4);
      bars.push({ index: i, kind: 'memory', is64: true, prefetchable, base: high * 2 ** 32 + low });
      i++;
    } else bars.push({ index: i, kind: 'memory', is64: false, prefetchable, base: low });
  }
  return bars;
}

function walkCapabilities(bytes: Uint8Array, view: DataView, space: ConfigSpace): void {
  const seen = new Set<number>();
  let pointer = view.getUint8(0x34) & 0xfc;
  // At most 48 capabilities fit in 192 bytes; the bound also stops a loop that the seen-set misses.
  for (let steps = 0; pointer !== 0 && steps < 48; steps++) {
    if (pointer < 0x40 || pointer + 1 >= bytes.length) {
      space.warnings.push(`capability pointer 0x${pointer.toString(16)} is outside the config space`);
      return;
    }
    if (seen.has(pointer)) {
      space.warnings.push(`capability list loops back to 0x${pointer.toString(16)}`);
      return;
    }
    seen.add(pointer);
    const id = view.getUint8(pointer);
    space.capabilities.push({
      id,
      offset: pointer,
      name: CAPABILITY_NAMES[id] ?? `0x${id.toString(16).padStart(2, '0')}`,
    });
    if (pointer + 4 <= bytes.length) decodeCapability(view, space, id, pointer);
    pointer = view.getUint8(pointer + 1) & 0xfc;
  }
}

function decodeCapability(view: DataView, space: ConfigSpace, id: number, offset: number): void {
  const control = view.getUint16(offset + 2, true);
  if (id === 0x05 && space.msi === undefined) {
    space.msi = {
      offset,
      enabled: (control & 1) !== 0,
      vectorsCapable: 1 << Math.min((control >>> 1) & 7, 5),
      vectorsEnabled: 1 << Math.min((control >>> 4) & 7, 5),
      is64: (control & 0x80) !== 0,
      perVectorMasking: (control & 0x100) !== 0,
    };
  } else if (id === 0x11 && space.msix === undefined) {
    space.msix = {
      offset,
      enabled: (control & 0x8000) !== 0,
      functionMask: (control & 0x4000) !== 0,
      tableSize: (control & 0x7ff) + 1,
    };
  } else if (id === 0x10 && space.pcie === undefined) {
    space.pcie = { offset, version: control & 0xf, deviceType: (control >>> 4) & 0xf };
  } else if (id === 0x01 && space.power === undefined) {
    space.power = { offset, version: control & 7 };
  }
}

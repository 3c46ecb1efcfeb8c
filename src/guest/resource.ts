import { ParseError } from '../errors.js';
import type { PciBar } from './cfgspace.js';

/**
 * One line of /sys/bus/pci/devices/<addr>/resource. The kernel prints one line per resource as
 * `0x%016llx 0x%016llx 0x%016llx` (start, end, flags): lines 0..5 are the BARs, 6 the expansion ROM,
 * 7.. bridge windows. An unused resource is all zeros.
 */
export interface SysfsResource {
  index: number;
  start: number;
  end: number;
  flags: number;
  /** end - start + 1, or 0 for an unused resource. */
  size: number;
  kind: 'io' | 'memory' | 'unused';
  prefetchable: boolean;
  is64: boolean;
}

// include/linux/ioport.h
const IORESOURCE_IO = 0x100;
const IORESOURCE_MEM = 0x200;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x100000;

const HEX = /^0x[0-9a-fA-F]{1,16}$/;

export function parseSysfsResource(text: string, source = 'resource'): SysfsResource[] {
  const out: SysfsResource[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length !== 3 || !fields.every((f) => HEX.test(f)))
      throw new ParseError(`expected "0x<start> 0x<end> 0x<flags>", got "${line.slice(0, 80)}"`, {
        file: source,
        line: i + 1,
      });
    const [start, end, flags] = fields.map((f) => BigInt(f)) as [bigint, bigint, bigint];
    const used = !(start === 0n && end === 0n);
    const size = used && end >= start ? Number(end - start + 1n) : 0;
    const f = Number(flags & 0xffffffffn);
    out.push({
      index: out.length,
      start: Number(start),
      end: Number(end),
      flags: f,
      size,
      kind: !used
        ? 'unused'
        : (f & IORESOURCE_IO) !== 0
          ? 'io'
          : (f & IORESOURCE_MEM) !== 0
            ? 'memory'
            : 'unused',
      prefetchable: (f & IORESOURCE_PREFETCH) !== 0,
      is64: (f & IORESOURCE_MEM_64) !== 0,
    });
  }
  return out;
}

/** BARs with their sizes filled from the sysfs resource lines (same index). */
export function withBarSizes(bars: PciBar[], resources: SysfsResource[]): PciBar[] {
  return bars.map((bar) => {
    const r = resources[bar.index];
    return r !== undefined && r.size > 0 ? { ...bar, size: r.size } : bar;
  });
}

/** "16M", "256M", "32G": the way lspci prints BAR sizes. */
export function formatSize(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && value % 1024 === 0 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value}${units[unit]}`;
}

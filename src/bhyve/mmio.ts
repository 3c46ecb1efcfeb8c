import type { PciBar } from '../facts/types.js';

/**
 * bhyve's guest PCI memory windows (usr.sbin/bhyve/pci_emul.c): 32-bit BARs, and 64-bit BARs of at most
 * 128 MiB, go below 4 GiB in [0xC0000000, 0xE0000000) (the ECAM base); larger 64-bit BARs go in the 64-bit
 * window of PCI_EMUL_MEMSIZE64 = 32 GiB, whose base is aligned to its size. BARs are naturally aligned and
 * (in current bhyve) allocated largest first; ROM BARs are left to the firmware.
 */
export const MEMBASE32 = 0xc000_0000;
export const MEMLIMIT32 = 0xe000_0000;
export const MEMSIZE64 = 32 * 1024 ** 3;
export const LARGE_BAR64 = 128 * 1024 ** 2;

export interface BarRequest {
  /** Who owns the BAR, for messages: "1/0/0 BAR1". */
  owner: string;
  bar: PciBar;
}

export interface WindowUse {
  window: '32-bit' | '64-bit';
  capacity: number;
  used: number;
  fits: boolean;
  /** The first BAR that did not fit, when one did not. */
  overflow?: BarRequest;
}

export interface MmioFit {
  fits: boolean;
  windows: [WindowUse, WindowUse];
}

function pack(requests: BarRequest[], base: number, limit: number): { used: number; overflow?: BarRequest } {
  let cursor = base;
  const sorted = [...requests].sort((a, b) => b.bar.size - a.bar.size);
  for (const r of sorted) {
    const size = Math.max(r.bar.size, 16);
    const start = Math.ceil(cursor / size) * size;
    if (start + size > limit) return { used: cursor - base, overflow: r };
    cursor = start + size;
  }
  return { used: cursor - base };
}

/**
 * Would these BARs (of every passthru function in one guest) fit bhyve's windows? `window64` is the 64-bit
 * window size: 32 GiB stock, the installed mmio64 quirk's default otherwise.
 */
export function fitBars(requests: BarRequest[], window64: number = MEMSIZE64): MmioFit {
  const mem = requests.filter((r) => r.bar.kind === 'memory' && r.bar.size > 0);
  const high = mem.filter((r) => r.bar.is64 && r.bar.size > LARGE_BAR64);
  const low = mem.filter((r) => !(r.bar.is64 && r.bar.size > LARGE_BAR64));
  const lowPack = pack(low, MEMBASE32, MEMLIMIT32);
  const highPack = pack(high, 0, window64);
  const w32: WindowUse = {
    window: '32-bit',
    capacity: MEMLIMIT32 - MEMBASE32,
    used: lowPack.used,
    fits: lowPack.overflow === undefined,
    ...(lowPack.overflow ? { overflow: lowPack.overflow } : {}),
  };
  const w64: WindowUse = {
    window: '64-bit',
    capacity: window64,
    used: highPack.used,
    fits: highPack.overflow === undefined,
    ...(highPack.overflow ? { overflow: highPack.overflow } : {}),
  };
  return { fits: w32.fits && w64.fits, windows: [w32, w64] };
}

/** "256 MiB", "32 GiB", "16 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  if (v >= 1024 && i < units.length - 1) {
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${v.toFixed(1)} ${units[i]}`;
  }
  return `${v} ${units[i]}`;
}

/** The smallest 64-bit window (a power of two, at least the stock 32 GiB) that holds these 64-bit BARs. */
export function windowNeeded(requests: readonly BarRequest[]): number {
  const big = requests.filter((r) => r.bar.kind === 'memory' && r.bar.is64 && r.bar.size > LARGE_BAR64);
  const total = big.reduce((n, r) => n + r.bar.size, 0);
  let size = MEMSIZE64;
  while (size < total) size *= 2;
  return size;
}

import { UsageError } from '../../errors.js';

/**
 * The quirk words `bhyve-gpu patch --quirk LIST` takes (names fixed in CONTRACTS.md) and the SIZE of
 * `mmio64=SIZE`. The canonical word of each quirk is what the patch record and the install manifest store.
 */
export type QuirkName = 'intpin' | 'nvidia-mirror' | 'hide-hypervisor' | 'mmio64';

export type QuirkSpec =
  | { name: 'intpin' | 'nvidia-mirror' | 'hide-hypervisor'; word: string }
  | { name: 'mmio64'; word: string; size: number; sizeText: string };

export const QUIRK_NAMES: readonly QuirkName[] = ['intpin', 'nvidia-mirror', 'hide-hypervisor', 'mmio64'];

const GiB = 1024 ** 3;
/** bhyve's compile-time 64-bit window (PCI_EMUL_MEMSIZE64): the smallest size the mmio64 quirk accepts. */
export const STOCK_MMIO64 = 32 * GiB;
/** The largest window: the guest's physical address space is at most 48 bits (256 TiB) under EPT/NPT. */
export const MAX_MMIO64 = 64 * 1024 * GiB;

const UNITS: Record<string, number> = { G: GiB, T: 1024 * GiB };

/** "256G" -> bytes; undefined when the text is not a number with a G or T suffix. */
export function parseSizeText(text: string): number | undefined {
  const m = /^(\d{1,6})([GT])$/i.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNITS[(m[2] ?? '').toUpperCase()] ?? 0);
}

/** Bytes -> "256G" / "1T" (the canonical SIZE of a quirk word). */
export function sizeText(bytes: number): string {
  const t = 1024 * GiB;
  return bytes % t === 0 ? `${bytes / t}T` : `${bytes / GiB}G`;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isInteger(Math.log2(n));
}

/** Check an mmio64 SIZE: a power of two from 32G (stock) to 64T. The message says what is wrong. */
export function checkMmio64Size(text: string): { ok: true; size: number } | { ok: false; message: string } {
  const size = parseSizeText(text);
  if (size === undefined)
    return { ok: false, message: `mmio64=${text}: SIZE is a number with G or T, e.g. 64G, 256G, 1T` };
  if (!isPowerOfTwo(size))
    return {
      ok: false,
      message: `mmio64=${text}: SIZE must be a power of two (bhyve aligns the window to its size)`,
    };
  if (size < STOCK_MMIO64)
    return { ok: false, message: `mmio64=${text}: SIZE must be at least 32G, the stock window` };
  if (size > MAX_MMIO64)
    return {
      ok: false,
      message: `mmio64=${text}: SIZE must be at most 64T (the guest has at most 48 physical address bits)`,
    };
  return { ok: true, size };
}

/**
 * Parse `--quirk LIST` ("intpin,nvidia-mirror,mmio64=256G"). Order is kept, duplicates are a usage error,
 * and so is an unknown word or a bad SIZE.
 */
export function parseQuirkList(list: string): QuirkSpec[] {
  const specs: QuirkSpec[] = [];
  const words = list
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
  if (words.length === 0)
    throw new UsageError(
      '--quirk: give at least one quirk (intpin, nvidia-mirror, hide-hypervisor, mmio64=SIZE)',
    );
  for (const word of words) {
    const [name, value] = word.split('=', 2) as [string, string | undefined];
    if (name === 'mmio64') {
      if (value === undefined)
        throw new UsageError('--quirk mmio64 needs a size: mmio64=SIZE, e.g. mmio64=256G');
      const checked = checkMmio64Size(value);
      if (!checked.ok) throw new UsageError(`--quirk ${checked.message}`);
      const text = sizeText(checked.size);
      specs.push({ name: 'mmio64', word: `mmio64=${text}`, size: checked.size, sizeText: text });
    } else if (name === 'intpin' || name === 'nvidia-mirror' || name === 'hide-hypervisor') {
      if (value !== undefined) throw new UsageError(`--quirk ${word}: ${name} takes no value`);
      specs.push({ name, word: name });
    } else {
      throw new UsageError(
        `--quirk ${word}: unknown quirk (known: intpin, nvidia-mirror, hide-hypervisor, mmio64=SIZE)`,
      );
    }
    const last = specs[specs.length - 1] as QuirkSpec;
    if (specs.filter((s) => s.name === last.name).length > 1)
      throw new UsageError(`--quirk: ${last.name} is given twice`);
  }
  return specs;
}

/**
 * The quirks an install manifest records: its `quirks`, or ["intpin"] for a manifest written before quirk
 * profiles whose `patches` names the INTPIN quirk.
 */
export function manifestQuirks(manifest: { quirks?: string[]; patches: { name: string }[] }): string[] {
  if (manifest.quirks !== undefined) return manifest.quirks;
  return manifest.patches.some((p) => /intpin/i.test(p.name)) ? ['intpin'] : [];
}

/** The 64-bit window size an installed quirk list gives bhyve: the mmio64 default, else the stock 32 GiB. */
export function installedWindow(quirks: readonly string[]): number {
  for (const q of quirks) {
    const m = /^mmio64=(.+)$/.exec(q);
    if (m) {
      const size = parseSizeText(m[1] ?? '');
      if (size !== undefined) return size;
    }
  }
  return STOCK_MMIO64;
}

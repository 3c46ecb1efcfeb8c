/**
 * The one reader of bhyve's `bus/slot/function` ids ("1/0/0"), shared by the CLI argument parser
 * (src/bhyve/ids.ts `parseBhyveId`) and the config readers (src/conf/loader-files.ts `parseBsf`, the
 * passthruN reader in vm-layout.ts). Callers report a failure their own way (a usage error for an argument,
 * a problem attached to a file entry).
 *
 * Decimal, bus 0-255, slot 0-31, function 0-7; leading zeros read as the number ("01/0/0" is 1/0/0, as
 * the kernel's `sscanf("%d/%d/%d")` in vmm.c reads it).
 */

export interface BsfParts {
  bus: number;
  slot: number;
  func: number;
  /** Canonical text, e.g. "1/0/0". */
  id: string;
}

export type BsfRead = ({ ok: true } & BsfParts) | { ok: false; kind: 'syntax' | 'range'; message: string };

const SHAPE = /^(\d{1,3})\/(\d{1,2})\/(\d{1,2})$/;

/** Reads `B/S/F`; the text is taken as it is (callers trim user input themselves). */
export function readBsf(text: string): BsfRead {
  const m = SHAPE.exec(text);
  if (!m) return { ok: false, kind: 'syntax', message: `"${text}" is not bus/slot/function` };
  const [bus, slot, func] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (bus > 255 || slot > 31 || func > 7)
    return {
      ok: false,
      kind: 'range',
      message: `"${text}" is out of range (bus 0-255, slot 0-31, function 0-7)`,
    };
  return { ok: true, bus, slot, func, id: `${bus}/${slot}/${func}` };
}

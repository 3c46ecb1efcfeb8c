import { readBsf } from '../conf/bsf.js';
import { UsageError } from '../errors.js';
import type { PciDevice } from '../facts/types.js';

/** A PCI address: pciconf selector "pci0:1:0:0" <-> bhyve/pptdevs "1/0/0". */
export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

export function toBhyveId(a: PciAddress): string {
  return `${a.bus}/${a.slot}/${a.function}`;
}

export function toSelector(a: PciAddress): string {
  return `pci${a.domain}:${a.bus}:${a.slot}:${a.function}`;
}

function checkRanges(a: PciAddress, text: string): PciAddress {
  if (a.bus > 255 || a.slot > 31 || a.function > 7)
    throw new UsageError(`${text}: out of range (bus 0-255, slot 0-31, function 0-7)`);
  return a;
}

/** Parse "1/0/0" (bhyve, pptdevs) with the shared B/S/F reader; out of range is a usage error. */
export function parseBhyveId(text: string): PciAddress | undefined {
  const r = readBsf(text.trim());
  if (r.ok) return { domain: 0, bus: r.bus, slot: r.slot, function: r.func };
  if (r.kind === 'range') throw new UsageError(`${text}: out of range (bus 0-255, slot 0-31, function 0-7)`);
  return undefined;
}

/** Parse "pci0:1:0:0" or "pci1:0:0" (no domain) or "0:1:0:0". */
export function parseSelector(text: string): PciAddress | undefined {
  const m = /^(?:pci)?(?:(\d+):)?(\d{1,3}):(\d{1,2}):(\d)$/.exec(text.trim());
  if (!m) return undefined;
  return checkRanges(
    { domain: Number(m[1] ?? 0), bus: Number(m[2]), slot: Number(m[3]), function: Number(m[4]) },
    text,
  );
}

export type GpuSpec =
  | { kind: 'address'; address: PciAddress; text: string }
  | { kind: 'ids'; vendorId: number; deviceId: number; text: string };

/** `<gpu>` on the command line: a bhyve ID (1/0/0), a selector (pci0:1:0:0) or vendor:device (10de:1bb3). */
export function parseGpuSpec(text: string): GpuSpec {
  const t = text.trim();
  const ids = /^(?:0x)?([0-9a-fA-F]{4}):(?:0x)?([0-9a-fA-F]{4})$/.exec(t);
  if (ids)
    return {
      kind: 'ids',
      vendorId: Number.parseInt(ids[1] as string, 16),
      deviceId: Number.parseInt(ids[2] as string, 16),
      text: t,
    };
  const a =
    parseBhyveId(t) ?? (t.startsWith('pci') || t.split(':').length >= 3 ? parseSelector(t) : undefined);
  if (a) return { kind: 'address', address: a, text: t };
  throw new UsageError(
    `cannot read GPU "${text}"`,
    'give a bhyve ID (1/0/0), a pciconf selector (pci0:1:0:0) or vendor:device (10de:1bb3); `bhyve-gpu scan` lists them',
  );
}

export function sameAddress(a: PciAddress, b: PciAddress): boolean {
  return a.domain === b.domain && a.bus === b.bus && a.slot === b.slot && a.function === b.function;
}

/** The devices a spec names (several for vendor:device when more than one card of a model is installed). */
export function matchSpec(spec: GpuSpec, devices: readonly PciDevice[]): PciDevice[] {
  if (spec.kind === 'ids')
    return devices.filter((d) => d.vendorId === spec.vendorId && d.deviceId === spec.deviceId);
  return devices.filter((d) => sameAddress(d, spec.address));
}

export const hex4 = (n: number): string => n.toString(16).padStart(4, '0');
export const idPair = (d: { vendorId: number; deviceId: number }): string =>
  `${hex4(d.vendorId)}:${hex4(d.deviceId)}`;

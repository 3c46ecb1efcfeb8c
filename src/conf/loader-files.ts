/**
 * Loader configuration files, their read order, and bhyve `bus/slot/function` ids (see loader-conf.ts).
 */
import { UsageError } from '../errors.js';
import { type BsfParts, readBsf } from './bsf.js';
import { assignments, parseShDoc, type ShDoc } from './shedit.js';

export const LOADER_CONF = '/boot/loader.conf';
export const LOADER_CONF_DIR = '/boot/loader.conf.d';
export const LOADER_CONF_LOCAL = '/boot/loader.conf.local';
export const PPTDEVS_VARIABLES = ['pptdevs', 'pptdevs2', 'pptdevs3'] as const;
export type PptdevsVariable = (typeof PPTDEVS_VARIABLES)[number];
/** The longest value a loader environment variable may hold (vmm(4)). */
export const PPTDEVS_VALUE_LIMIT = 128;

export interface ConfFile {
  path: string;
  text: string;
}

/** A host PCI function in bhyve's `bus/slot/function` form, decimal (read by src/conf/bsf.ts). */
export type Bsf = BsfParts;

/** Parses `B/S/F` (decimal; bus 0-255, slot 0-31, function 0-7); returns a reason string on failure. */
export function parseBsf(text: string): Bsf | string {
  const r = readBsf(text);
  return r.ok ? { bus: r.bus, slot: r.slot, func: r.func, id: r.id } : r.message;
}

/** Like parseBsf but throws a UsageError: for ids given by the user. */
export function requireBsf(text: string): Bsf {
  const r = parseBsf(text.trim());
  if (typeof r === 'string')
    throw new UsageError(r, 'give a bhyve ID such as 1/0/0 (`bhyve-gpu scan` lists them)');
  return r;
}

/** The loader configuration files in the order the loader reads them, given the names in /boot/loader.conf.d. */
export function loaderConfFiles(confDirListing: readonly string[] = []): string[] {
  const dropIns = confDirListing
    .map((n) => n.replace(/^.*\//, ''))
    .filter((n) => n.endsWith('.conf') && !n.startsWith('.'))
    .sort()
    .map((n) => `${LOADER_CONF_DIR}/${n}`);
  return [LOADER_CONF, ...dropIns, LOADER_CONF_LOCAL];
}

export interface Parsed {
  path: string;
  doc: ShDoc;
}

export function parseAll(files: readonly ConfFile[]): Parsed[] {
  return files.map((f) => ({ path: f.path, doc: parseShDoc(f.text, f.path, { loader: true }) }));
}

/** The last assignment of `key` across files in read order. */
export function lastAssignment(
  parsed: readonly Parsed[],
  key: string,
): { path: string; line: number; value: string } | undefined {
  let found: { path: string; line: number; value: string } | undefined;
  for (const p of parsed) {
    const all = assignments(p.doc, key);
    const last = all[all.length - 1];
    if (last) found = { path: p.path, line: last.line, value: last.value };
  }
  return found;
}

/**
 * Edits of a vm-bhyve guest config (`$vm_dir/<guest>/<guest>.conf`) for GPU passthrough, as pure functions.
 *
 * `planGuestPassthru` adds one `passthruN="B/S/F=slot:func"` per host function of the GPU (function 0 first,
 * N contiguous after the existing entries, because vm-bhyve stops at the first missing number), all on one
 * free guest slot with guest function = host function (some drivers need that, vm-bhyve#203), plus
 * `wired_memory="yes"`, `loader="uefi"` unless the loader is already a UEFI one, and
 * `passthruN_options="rom=<file>"` for function 0 when a ROM is given. The explicit `=slot:func` form keeps
 * the GPU's functions together even where vm-bhyve's own rule would merge them with another device on the
 * same host bus. A second run changes nothing (`changed: false`, "already in the desired state").
 *
 * `removeGuestPassthru` drops the entries of the given host ids and renumbers the rest contiguously by
 * renaming their keys in place; `loader` and `wired_memory` are left alone (the apply journal restores them).
 *
 * All writes go through the lossless editor in vmBhyve mode: values with `#` or `"` are refused because
 * vm-bhyve cuts lines at `#` and deletes `"`; a key that vm-bhyve would read differently from sysrc (it is
 * duplicated, or indented so vm-bhyve ignores it) is rewritten as a single line at the end.
 */
import { ToolError, UsageError } from '../errors.js';
import { parseBsf, requireBsf } from './loader-files.js';
import {
  type AssignmentNode,
  assignments,
  parseShDoc,
  printShDoc,
  removeNodes,
  renameNode,
  type ShDoc,
  set,
  unset,
} from './shedit.js';
import {
  type GuestSlotUse,
  guestLayout,
  isUefiLoader,
  type PassthruEntry,
  passthruList,
  readVmBhyveConfig,
  slotSetting,
  yesno,
} from './vm-layout.js';

export type { GuestSlotUse, PassthruEntry } from './vm-layout.js';

/** passthru0..N of a guest config, as vm-bhyve reads them. */
export function passthruEntries(text: string): PassthruEntry[] {
  return passthruList(readVmBhyveConfig(text));
}

/** Best effort: the guest PCI slots vm-bhyve's layout takes for this config. */
export function usedGuestSlots(text: string): GuestSlotUse[] {
  return guestLayout(readVmBhyveConfig(text));
}

export interface HostFunction {
  bhyveId: string;
  function: number;
}

export interface GuestPlan {
  text: string;
  changed: boolean;
  /** The guest slot the GPU is on (undefined when it was already listed without `=slot:func`). */
  slot: number | undefined;
  /** passthruN keys that hold the GPU's functions. */
  keys: string[];
  notes: string[];
  warnings: string[];
  /** The guest's loader when it is not a UEFI one (bhyveload, grub): switched only with `setLoaderUefi`. */
  nonUefiLoader?: string;
}

const UEFI_LOADERS = ['uefi', 'uefi-csm', 'uefi-devel', 'uefi-custom'];

/** The guest config's loader when it is set and not a UEFI one ("bhyveload", "grub"), else undefined. */
export function guestNonUefiLoader(text: string): string | undefined {
  const loader = readVmBhyveConfig(text).get('loader');
  return loader && !UEFI_LOADERS.includes(loader) && !isUefiLoader(loader) ? loader : undefined;
}

/** The canonical host id of an entry ("01/0/0" reads as "1/0/0"), or its text when it is not B/S/F. */
function hostId(entry: PassthruEntry): string {
  const r = parseBsf(entry.host);
  return typeof r === 'string' ? entry.host : r.id;
}

/** Sets a key so that vm-bhyve (first match, unindented lines only) and sysrc (last match) agree. */
function setForVmBhyve(doc: ShDoc, key: string, value: string): void {
  const all = assignments(doc, key);
  const indented = all.some((a) => !a.prefix.startsWith(key));
  const other = doc.nodes.some((n) => n.kind === 'other' && n.key === key);
  if (all.length > 1 || indented || other) unset(doc, key);
  set(doc, key, value, { vmBhyve: true });
}

function withRom(options: string | undefined, rom: string): string {
  const parts = (options ?? '').split(',').filter((p) => p !== '' && !p.startsWith('rom='));
  return [`rom=${rom}`, ...parts].join(',');
}

/** Chooses a bus-0 guest slot that no device of the layout uses. */
function freeSlot(used: readonly GuestSlotUse[], start: number): number {
  const taken = new Set(used.filter((u) => u.bus === 0).map((u) => u.slot));
  for (let slot = Math.max(start, 1); slot < 31; slot++) if (!taken.has(slot)) return slot;
  throw new ToolError('guest-no-slot', 'no free guest PCI slot on bus 0 for the GPU');
}

export function planGuestPassthru(
  text: string,
  functions: readonly HostFunction[],
  opts: { rom?: string; setLoaderUefi?: boolean } = {},
): GuestPlan {
  if (functions.length === 0) throw new ToolError('guest-no-functions', 'no GPU functions to pass through');
  const wanted = [...functions]
    .map((f) => {
      if (!Number.isInteger(f.function) || f.function < 0 || f.function > 7) {
        throw new UsageError(`${f.bhyveId}: function ${f.function} is not 0-7`);
      }
      return { id: requireBsf(f.bhyveId).id, function: f.function };
    })
    .filter((w, i, all) => all.findIndex((x) => x.id === w.id) === i)
    .sort((a, b) => a.function - b.function);
  if (opts.rom !== undefined && (opts.rom.includes('#') || opts.rom.includes('"'))) {
    throw new ToolError(
      'conf-vm-bhyve-value',
      `ROM path ${opts.rom}: vm-bhyve cannot read a value containing '#' or '"'`,
    );
  }
  const notes: string[] = [];
  const warnings: string[] = [];
  let working = text;
  const existing = passthruEntries(working);
  let present = wanted.filter((w) => existing.some((e) => hostId(e) === w.id));
  const implicit = existing.some((e) => wanted.some((w) => w.id === hostId(e)) && e.guest === undefined);
  const inPlace =
    implicit && present.length === wanted.length
      ? explicitInPlace(text, existing, wanted, functions, opts)
      : undefined;
  if (inPlace) return inPlace;
  if (present.length > 0 && (present.length < wanted.length || implicit)) {
    notes.push(
      implicit
        ? 'the GPU was listed without =slot:func; re-adding it with an explicit guest slot'
        : 'some functions of the GPU were already listed; re-adding all of them together',
    );
    working = removeGuestPassthru(
      working,
      present.map((p) => p.id),
    ).text;
    present = [];
  }
  const doc = parseShDoc(working, undefined, { vmBhyve: true });
  for (const w of doc.warnings) warnings.push(`line ${w.line}: ${w.message}`);
  const before = readVmBhyveConfig(working);
  if (!yesno(before.get('wired_memory'))) setForVmBhyve(doc, 'wired_memory', 'yes');
  const loader = before.get('loader');
  const nonUefi = guestNonUefiLoader(working);
  // An unset loader becomes "uefi"; replacing bhyveload or grub is the caller's explicit choice (setLoaderUefi),
  // since a guest installed for them may not boot with UEFI firmware.
  if (
    !UEFI_LOADERS.includes(loader ?? '') &&
    !isUefiLoader(loader) &&
    (!loader || opts.setLoaderUefi !== false)
  ) {
    if (loader)
      warnings.push(
        `loader "${loader}" changed to "uefi": the guest must boot with UEFI firmware (bhyve-firmware)`,
      );
    setForVmBhyve(doc, 'loader', 'uefi');
  }
  // The layout as vm-bhyve will see it after the loader change (UEFI moves disks and adds fbuf).
  const config = readVmBhyveConfig(printShDoc(doc));
  let entries = passthruList(config);
  const keys: string[] = [];
  let slot: number | undefined;
  if (present.length === wanted.length && present.length > 0) {
    const mine = entries.filter((e) => wanted.some((w) => w.id === hostId(e)));
    slot = mine[0]?.guest?.slot;
    keys.push(...mine.map((e) => `passthru${e.index}`));
  } else {
    const stray = doc.nodes.find(
      (n) =>
        n.kind === 'assignment' && /^passthru\d+$/.test(n.key) && Number(n.key.slice(8)) > entries.length,
    ) as AssignmentNode | undefined;
    if (stray) {
      warnings.push(
        `${stray.key} follows a gap in the passthru numbers; vm-bhyve ignores it, and filling the gap will activate it`,
      );
    }
    const placeholder: PassthruEntry[] = wanted.map((w, i) => ({
      index: entries.length + i,
      value: w.id,
      host: w.id,
      guest: { slot: 0, func: w.function },
      options: undefined,
      problem: undefined,
    }));
    // Layout as it will be once the GPU is listed (any passthru moves the later devices one slot on).
    const mine = new Set(placeholder.map((p) => `passthru${p.index}`));
    const layout = guestLayout(config, [...entries, ...placeholder]).filter((u) => !mine.has(u.device));
    slot = freeSlot(layout, slotSetting(config, 'start_slot', 4));
    wanted.forEach((w, i) => {
      const key = `passthru${entries.length + i}`;
      setForVmBhyve(doc, key, `${w.id}=${slot}:${w.function}`);
      keys.push(key);
    });
    entries = passthruList(readVmBhyveConfig(printShDoc(doc)));
  }
  if (opts.rom !== undefined && keys[0] !== undefined) {
    const optionsKey = `${keys[0]}_options`;
    const current = readVmBhyveConfig(printShDoc(doc)).get(optionsKey);
    const next = withRom(current, opts.rom);
    if (current !== next) setForVmBhyve(doc, optionsKey, next);
  }
  const out = printShDoc(doc);
  const changed = out !== text;
  if (!changed) notes.push('already in the desired state');
  return { text: out, changed, slot, keys, notes, warnings, ...(nonUefi ? { nonUefiLoader: nonUefi } : {}) };
}

/**
 * Every function of the GPU is already listed, some without `=slot:func`: give each entry its explicit
 * guest slot where it stands (same keys, same lines), so the diff shows only the values that change.
 */
function explicitInPlace(
  text: string,
  existing: readonly PassthruEntry[],
  wanted: readonly { id: string; function: number }[],
  functions: readonly HostFunction[],
  opts: { rom?: string },
): GuestPlan | undefined {
  const removed = removeGuestPassthru(
    text,
    wanted.map((w) => w.id),
  ).text;
  // Entries the removal cannot reach (after a gap, unreadable lines): take the general path instead.
  if (passthruEntries(removed).some((e) => wanted.some((w) => w.id === hostId(e)))) return undefined;
  const fresh = planGuestPassthru(removed, functions, opts);
  const doc = parseShDoc(text, undefined, { vmBhyve: true });
  const keys: string[] = [];
  for (const e of existing) {
    const w = wanted.find((x) => x.id === hostId(e));
    if (!w) continue;
    keys.push(`passthru${e.index}`);
    setForVmBhyve(doc, `passthru${e.index}`, `${w.id}=${fresh.slot}:${w.function}`);
  }
  const before = readVmBhyveConfig(removed);
  const after = readVmBhyveConfig(fresh.text);
  for (const key of ['wired_memory', 'loader']) {
    const value = after.get(key);
    if (value !== undefined && value !== before.get(key)) setForVmBhyve(doc, key, value);
  }
  const first = existing.find((e) => hostId(e) === wanted[0]?.id);
  if (opts.rom !== undefined && first) {
    const optionsKey = `passthru${first.index}_options`;
    const current = readVmBhyveConfig(text).get(optionsKey);
    const next = withRom(current, opts.rom);
    if (current !== next) setForVmBhyve(doc, optionsKey, next);
  }
  const out = printShDoc(doc);
  return {
    text: out,
    changed: out !== text,
    slot: fresh.slot,
    keys,
    notes: ['the GPU was listed without =slot:func; each entry now names its guest slot'],
    warnings: fresh.warnings,
  };
}

export interface GuestRemoval {
  text: string;
  changed: boolean;
  removed: string[];
}

/** Removes the passthru entries of `bhyveIds` and renumbers the remaining ones contiguously. */
export function removeGuestPassthru(text: string, bhyveIds: readonly string[]): GuestRemoval {
  const ids = new Set(bhyveIds.map((t) => requireBsf(t).id));
  const entries = passthruEntries(text);
  const doc = parseShDoc(text, undefined, { vmBhyve: true });
  const nodesOf = (index: number): AssignmentNode[] => [
    ...assignments(doc, `passthru${index}`),
    ...assignments(doc, `passthru${index}_options`),
  ];
  const groups = entries.map((e) => ({ entry: e, nodes: nodesOf(e.index) }));
  const removed: string[] = [];
  let next = 0;
  for (const g of groups) {
    if (ids.has(hostId(g.entry))) {
      removed.push(`passthru${g.entry.index}`);
      removeNodes(doc, (n) => g.nodes.includes(n as AssignmentNode));
      continue;
    }
    if (g.entry.index !== next) {
      for (const n of g.nodes)
        renameNode(n, n.key.endsWith('_options') ? `passthru${next}_options` : `passthru${next}`);
    }
    next += 1;
  }
  const out = printShDoc(doc);
  return { text: out, changed: out !== text, removed };
}

export type VmDir = { kind: 'zfs'; dataset: string } | { kind: 'path'; path: string };

/** vm_dir from rc.conf: `zfs:pool/dataset` or a path; resolving a dataset's mountpoint is the caller's job. */
export function vmDirFromRcConf(rcText: string): VmDir | undefined {
  const doc = parseShDoc(rcText, '/etc/rc.conf');
  const all = assignments(doc, 'vm_dir');
  const value = all[all.length - 1]?.value.trim();
  if (!value) return undefined;
  if (value.startsWith('zfs:')) {
    const dataset = value.slice(4);
    return dataset ? { kind: 'zfs', dataset } : undefined;
  }
  return { kind: 'path', path: value };
}

/**
 * How vm-bhyve reads a guest config and lays out guest PCI slots (churchers/vm-bhyve, freebsd/vm-bhyve
 * lib/vm-config and lib/vm-run), reproduced as pure functions so the tool can pick a free guest slot.
 *
 * Reading (`config::load` / `config::get`): only lines that start with a lowercase letter count; each line is
 * cut at its first `#`, trailing spaces are dropped and every `"` is deleted; the FIRST line whose text
 * before `=` equals the key wins (sysrc(8), used by vm-bhyve to write, edits the LAST one). A CRLF line
 * keeps its CR (`loader="uefi"` reads as "uefi\r"): doctor fails such a config and `vm-fix` rewrites it.
 *
 * Layout (`vm::run`): hostbridge on slot 0 (unless `hostbridge=no*`), lpc on 31, the install ISO on
 * `install_slot` (3). A counter starts at `start_slot` (4) on bus 0 and walks, in order, disks, networks,
 * virtio-rnd, passthru, fbuf, xhci mouse, sound, virtio-console. Disks share one slot by function except
 * under UEFI, where each takes a slot; networks share one slot by function; passthru `B/S/F` entries share
 * a slot while the text before the first `/` (the host bus) stays the same; `B/S/F=S:F` entries go to
 * `S:F` on the current bus and do not move the counter. Any passthru entry advances the counter once after
 * the list. At slot 31 the counter moves to bus 1 (and vm-bhyve adds `-Y`).
 */

import { readBsf } from './bsf.js';
import { vmBhyveLines } from './views.js';

export interface VmBhyveConfig {
  get(key: string): string | undefined;
}

/**
 * Reads config text the way vm-bhyve's config::load/config::get do (the vm-bhyve view of the one parse,
 * src/conf/views.ts): a CR of a CRLF line stays in the value, as it does for vm-bhyve.
 */
export function readVmBhyveConfig(text: string): VmBhyveConfig {
  const lines = vmBhyveLines(text);
  return {
    get(key: string): string | undefined {
      for (const l of lines) {
        const eq = l.indexOf('=');
        const name = eq < 0 ? l : l.slice(0, eq);
        if (name === key) return eq < 0 ? '' : l.slice(eq + 1);
      }
      return undefined;
    },
  };
}

/** util::yesno: yes/true/on/1, any case. */
export function yesno(value: string | undefined): boolean {
  return value !== undefined && /^(yes|true|on|1)$/i.test(value);
}

/** vm-bhyve treats a loader as UEFI when the text before its last `-` is "uefi". */
export function isUefiLoader(loader: string | undefined): boolean {
  if (loader === undefined) return false;
  const dash = loader.lastIndexOf('-');
  return (dash < 0 ? loader : loader.slice(0, dash)) === 'uefi';
}

/** A numeric slot setting, or its default when unset or not a slot number (vm-bhyve would fail then). */
export function slotSetting(config: VmBhyveConfig, key: string, fallback: number): number {
  const value = config.get(key);
  return value !== undefined && /^\d{1,2}$/.test(value) && Number(value) <= 31 ? Number(value) : fallback;
}

export interface PassthruEntry {
  /** N in passthruN. */
  index: number;
  value: string;
  /** Host id text (before the first `=`). */
  host: string;
  /** Forced guest slot:function (after the last `=`), when given. */
  guest: { slot: number; func: number } | undefined;
  options: string | undefined;
  /** Why the entry looks wrong, when it does. */
  problem: string | undefined;
}

/** passthru0..N as vm-bhyve reads them: stops at the first missing or empty number. */
export function passthruList(config: VmBhyveConfig): PassthruEntry[] {
  const out: PassthruEntry[] = [];
  for (let index = 0; ; index++) {
    const value = config.get(`passthru${index}`);
    if (value === undefined || value === '') break;
    const options = config.get(`passthru${index}_options`) || undefined;
    if (!value.includes('=')) {
      const id = readBsf(value);
      out.push({
        index,
        value,
        host: value,
        guest: undefined,
        options,
        problem: id.ok ? undefined : id.message,
      });
      continue;
    }
    const host = value.slice(0, value.indexOf('='));
    const forced = value.slice(value.lastIndexOf('=') + 1);
    const m = /^(\d{1,2}):(\d)$/.exec(forced);
    const guest = m ? { slot: Number(m[1]), func: Number(m[2]) } : undefined;
    const id = readBsf(host);
    const problem = !id.ok
      ? id.message
      : guest === undefined || guest.slot > 31 || guest.func > 7
        ? `"${forced}" is not a guest slot:function (slot 0-31, function 0-7)`
        : undefined;
    out.push({ index, value, host, guest, options, problem });
  }
  return out;
}

export interface GuestSlotUse {
  bus: number;
  slot: number;
  func: number;
  device: string;
}

/** Where vm-bhyve will put each guest device. `passthru` overrides the config's passthru list. */
export function guestLayout(
  config: VmBhyveConfig,
  passthru: readonly PassthruEntry[] = passthruList(config),
): GuestSlotUse[] {
  const used: GuestSlotUse[] = [];
  const uefi = isUefiLoader(config.get('loader'));
  const hostbridge = config.get('hostbridge') ?? 'standard';
  if (!hostbridge.startsWith('no')) used.push({ bus: 0, slot: 0, func: 0, device: 'hostbridge' });
  used.push({ bus: 0, slot: 31, func: 0, device: 'lpc' });
  used.push({ bus: 0, slot: slotSetting(config, 'install_slot', 3), func: 0, device: 'install media' });
  let bus = 0;
  let slot = slotSetting(config, 'start_slot', 4);
  let func = 0;
  let maxslots = 31;
  const wrap = (): void => {
    if (slot >= maxslots) {
      slot = 0;
      bus += 1;
      maxslots = 32;
    }
  };
  const nextFunc = (): void => {
    if (func >= 8) {
      func = 0;
      slot += 1;
    }
    wrap();
  };
  let disks = 0;
  while (config.get(`disk${disks}_name`) && config.get(`disk${disks}_type`)) {
    nextFunc();
    used.push({ bus, slot, func, device: `disk${disks}` });
    if (uefi) slot += 1;
    else func += 1;
    wrap();
    disks += 1;
  }
  if (disks > 0 && !uefi) {
    slot += 1;
    func = 0;
  }
  wrap();
  let nets = 0;
  while (config.get(`network${nets}_type`)) {
    nextFunc();
    used.push({ bus, slot, func, device: `network${nets}` });
    func += 1;
    nets += 1;
  }
  if (nets > 0) {
    slot += 1;
    func = 0;
  }
  wrap();
  const single = (device: string): void => {
    used.push({ bus, slot, func: 0, device });
    slot += 1;
    wrap();
  };
  if (yesno(config.get('virt_random'))) single('virtio-rnd');
  let lastBus: string | undefined;
  let pfunc = 0;
  for (const p of passthru) {
    if (p.guest) {
      used.push({ bus, slot: p.guest.slot, func: p.guest.func, device: `passthru${p.index}` });
      continue;
    }
    const hostBus = p.host.split('/')[0] as string;
    if (lastBus !== undefined && lastBus !== hostBus) {
      slot += 1;
      pfunc = 0;
    }
    wrap();
    used.push({ bus, slot, func: pfunc, device: `passthru${p.index}` });
    lastBus = hostBus;
    pfunc += 1;
  }
  if (passthru.length > 0) slot += 1;
  wrap();
  if (uefi && yesno(config.get('graphics'))) single('fbuf');
  if (yesno(config.get('xhci_mouse'))) single('xhci');
  if (yesno(config.get('sound'))) single('hda');
  if (config.get('virt_console0')) single('virtio-console');
  return used;
}

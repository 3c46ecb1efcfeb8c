/**
 * `pciconf -l[l][b][c][v]` output -> PciDevice[]. Reads both generations of the device line:
 * FreeBSD <= 12 `class=0x030000 card=0x11d810de chip=0x1bb310de rev=0xa1 hdr=0x00` and 13+
 * `class=0x030000 rev=0xa1 hdr=0x00 vendor=0x10de device=0x1bb3 subvendor=0x10de subdevice=0x11d8`,
 * plus the terse `-ll` table. Lenient: lines it cannot use become warnings, never exceptions.
 */
import {
  continueCapability,
  looksLikeCapability,
  parseBarLine,
  parseCapabilityLine,
} from './pciconf-caps.js';
import type { Parsed, ParseWarning, PciCapability, PciDevice } from './types.js';

const DEVICE_LINE =
  /^([A-Za-z][\w.]{0,31}?)(\d{1,6})@pci(\d{1,4}):(\d{1,3}):(\d{1,2}):(\d{1,2}):?(?:\s+(.*))?$/;
const HEX_PAIR = /^(\w+)=(0x[0-9a-fA-F]+)$/;
const VERBOSE_LINE = /^(vendor|device|class|subclass)\s*=\s*(.*)$/;

/** Only the devices; see parsePciconfDetailed for the warnings. */
export function parsePciconf(text: string): PciDevice[] {
  return parsePciconfDetailed(text).value;
}

export function parsePciconfDetailed(text: string): Parsed<PciDevice[]> {
  const devices: PciDevice[] = [];
  const warnings: ParseWarning[] = [];
  const seen = new Map<string, number>();
  let current: PciDevice | undefined;
  let capability: PciCapability | undefined;
  const lines = text.split(/\r?\n/);

  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const raw = lines[index]!;
    const line = raw.trim();
    const warn = (message: string): void => {
      warnings.push({ line: lineNumber, message });
    };
    if (line === '' || line === '--' || line === '...') continue;

    const deviceMatch = DEVICE_LINE.exec(line);
    if (deviceMatch) {
      capability = undefined;
      current = undefined;
      let rest = deviceMatch[7] ?? '';
      // A device line wrapped by a mail client or terminal: the next lines hold only key=0x.. pairs.
      while (index + 1 < lines.length && isHexPairs(lines[index + 1]!.trim())) {
        index++;
        rest = `${rest} ${lines[index]!.trim()}`;
      }
      const device = buildDevice(deviceMatch, rest, lineNumber, warn);
      if (!device) continue;
      const earlier = seen.get(device.selector);
      if (earlier !== undefined) warn(`${device.selector} listed again (first at line ${earlier})`);
      else seen.set(device.selector, lineNumber);
      devices.push(device);
      current = device;
      continue;
    }

    const verbose = VERBOSE_LINE.exec(line);
    if (verbose && !/=\s*0x[0-9a-fA-F]+$/.test(line)) {
      capability = undefined;
      if (!current) {
        warn(`"${verbose[1]}" line outside a device`);
        continue;
      }
      let text = verbose[2]!.trim();
      // A quoted name wrapped onto the next line: join until the closing quote.
      if (text.startsWith("'") && !/.'$/.test(text) && index + 1 < lines.length) {
        const next = lines[index + 1]!.trim();
        if (next.endsWith("'") && !next.includes('=')) {
          text = `${text} ${next}`;
          index++;
        }
      }
      const value = unquote(text);
      if (verbose[1] === 'vendor') current.vendorName = value;
      else if (verbose[1] === 'device') current.deviceName = value;
      else if (verbose[1] === 'class') current.className = value;
      else current.subclassName = value;
      continue;
    }

    if (/^bar\s*\[/.test(line)) {
      capability = undefined;
      let bar = parseBarLine(line);
      // A bar line wrapped after a comma: try it joined with the next line.
      if (!bar && index + 1 < lines.length) {
        bar = parseBarLine(`${line} ${lines[index + 1]!.trim()}`);
        if (bar) index++;
      }
      if (!bar) warn('unreadable bar line');
      else if (!current) warn('bar line outside a device');
      else current.bars.push(bar);
      continue;
    }

    if (looksLikeCapability(line)) {
      capability = undefined;
      const cap = parseCapabilityLine(line);
      if (!cap) warn('unreadable capability line');
      else if (!current) warn('capability line outside a device');
      else {
        current.capabilities.push(cap);
        capability = cap;
      }
      continue;
    }

    if (capability && /^\s/.test(raw) && !line.includes('@pci')) {
      continueCapability(capability, line);
      continue;
    }
    if (/@pci\d|\bclass=0x|\bchip=0x/.test(line) && !/\bpnpinfo\b/.test(line)) warn('unreadable device line');
    // Anything else (prompts, dmesg, devinfo, VPD lines) is noise around the listing.
  }
  return { value: devices, warnings };
}

/**
 * Capability lines with no device line above them (`pciconf -lc | grep MSI`), in order.
 * Continuation lines fold into the capability before them.
 */
export function parsePciCapabilityLines(text: string): PciCapability[] {
  const caps: PciCapability[] = [];
  let last: PciCapability | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const cap = looksLikeCapability(line) ? parseCapabilityLine(line) : undefined;
    if (cap) caps.push(cap);
    else if (last && /^\s/.test(raw) && line !== '') continueCapability(last, line);
    last = cap ?? (line === '' ? undefined : last);
  }
  return caps;
}

function isHexPairs(line: string): boolean {
  if (line === '' || DEVICE_LINE.test(line)) return false;
  return line.split(/\s+/).every((token) => HEX_PAIR.test(token));
}

function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith("'") && v.endsWith("'") ? v.slice(1, -1) : v;
}

function buildDevice(
  m: RegExpExecArray,
  rest: string,
  line: number,
  warn: (message: string) => void,
): PciDevice | undefined {
  const [domain, bus, slot, func] = [m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number];
  if (bus > 255 || slot > 31 || func > 7) {
    warn(`selector pci${domain}:${bus}:${slot}:${func} out of range`);
    return undefined;
  }
  const fields = readFields(rest);
  if (!fields) {
    warn(`device line without readable class/vendor/device ids: ${m[0].slice(0, 80)}`);
    return undefined;
  }
  const driver = m[1] === 'none' ? undefined : m[1]!;
  return {
    selector: `pci${domain}:${bus}:${slot}:${func}`,
    domain,
    bus,
    slot,
    function: func,
    bhyveId: `${bus}/${slot}/${func}`,
    driver,
    unit: driver === undefined ? undefined : Number(m[2]),
    vendorId: fields.vendor,
    deviceId: fields.device,
    subvendorId: fields.subvendor,
    subdeviceId: fields.subdevice,
    revision: fields.rev,
    classCode: (fields.class >> 16) & 0xff,
    subclass: (fields.class >> 8) & 0xff,
    progIf: fields.class & 0xff,
    header: fields.hdr,
    multifunction: (fields.hdr & 0x80) !== 0,
    bars: [],
    capabilities: [],
    line,
  };
}

interface IdFields {
  class: number;
  rev: number;
  hdr: number;
  vendor: number;
  device: number;
  subvendor: number;
  subdevice: number;
}

/** The ids after the selector: key=0x.. pairs (either generation) or the seven `-ll` columns. */
function readFields(rest: string): IdFields | undefined {
  const tokens = rest.trim().split(/\s+/);
  const terse = tokens.length >= 7 && tokens.slice(0, 7).every((t) => /^[0-9a-fA-F]+$/.test(t));
  if (terse) {
    const [cls, rev, hdr, vendor, device, subvendor, subdevice] = tokens
      .slice(0, 7)
      .map((t) => Number.parseInt(t, 16));
    return checked({
      class: cls!,
      rev: rev!,
      hdr: hdr!,
      vendor: vendor!,
      device: device!,
      subvendor: subvendor!,
      subdevice: subdevice!,
    });
  }
  const pairs = new Map<string, number>();
  for (const token of tokens) {
    const p = HEX_PAIR.exec(token);
    if (p && p[2]!.length <= 10) pairs.set(p[1]!, Number.parseInt(p[2]!, 16));
  }
  const cls = pairs.get('class');
  const chip = pairs.get('chip');
  const card = pairs.get('card');
  const vendor = pairs.get('vendor') ?? (chip === undefined ? undefined : chip & 0xffff);
  const device = pairs.get('device') ?? (chip === undefined ? undefined : chip >>> 16);
  if (cls === undefined || vendor === undefined || device === undefined) return undefined;
  return checked({
    class: cls,
    rev: pairs.get('rev') ?? 0,
    hdr: pairs.get('hdr') ?? 0,
    vendor,
    device,
    subvendor: pairs.get('subvendor') ?? (card === undefined ? 0 : card & 0xffff),
    subdevice: pairs.get('subdevice') ?? (card === undefined ? 0 : card >>> 16),
  });
}

/** Ids wider than their register (a garbled paste) make the line unusable. */
function checked(f: IdFields): IdFields | undefined {
  const ok =
    f.class <= 0xffffff &&
    f.rev <= 0xff &&
    f.hdr <= 0xff &&
    [f.vendor, f.device, f.subvendor, f.subdevice].every((id) => id <= 0xffff);
  return ok ? f : undefined;
}

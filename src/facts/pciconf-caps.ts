/**
 * The `-b` (BAR) and `-c` (capability) lines of `pciconf -l` output, as printed by
 * usr.sbin/pciconf/pciconf.c list_bars() and cap.c list_caps()/list_ecaps().
 */
import type { PciBar, PciCapability } from './types.js';

const BAR_LINE =
  /^bar\s*\[\s*([0-9a-fA-F]{1,2})\s*\]\s*=\s*type\s+(\S.*?),\s*range\s+(-?\d+),\s*base\s+(0[xX][0-9a-fA-F]{1,16}|0),\s*size\s+(\d+),\s*(enabled|disabled)\s*$/;

/** `bar   [10] = type Memory, range 32, base 0xde000000, size 16777216, enabled` (line already trimmed). */
export function parseBarLine(line: string): PciBar | undefined {
  const m = BAR_LINE.exec(line);
  if (!m) return undefined;
  const type = m[2]!.trim();
  const io = /^I\/O/i.test(type);
  if (!io && !/Memory$/i.test(type)) return undefined;
  const size = Number(m[5]);
  const base = Number(BigInt(m[4]!));
  if (!Number.isSafeInteger(size)) return undefined;
  return {
    register: Number.parseInt(m[1]!, 16),
    kind: io ? 'io' : 'memory',
    base,
    size,
    is64: m[3] === '64',
    prefetchable: /^Prefetchable/i.test(type),
  };
}

const CAP_LINE = /^cap\s+([0-9a-fA-F]{2})\[([0-9a-fA-F]{1,3})\]\s*=\s*(.*)$/;
const ECAP_LINE = /^ecap\s+([0-9a-fA-F]{4})\[([0-9a-fA-F]{1,4})\]\s*=\s*(.*)$/;

/** True when a trimmed line starts like a capability line (so a failure to parse it deserves a warning). */
export function looksLikeCapability(line: string): boolean {
  return /^e?cap\s/.test(line);
}

/** `cap 05[68] = MSI supports 1 message, 64 bit enabled with 1 message` or `ecap 0001[100] = AER ...`. */
export function parseCapabilityLine(line: string): PciCapability | undefined {
  const ext = ECAP_LINE.exec(line);
  if (ext) {
    const text = ext[3]!.trim();
    return {
      kind: 'other',
      id: Number.parseInt(ext[1]!, 16),
      name: capabilityName(text),
      raw: text,
      extended: true,
    };
  }
  const m = CAP_LINE.exec(line);
  if (!m) return undefined;
  const id = Number.parseInt(m[1]!, 16);
  const text = m[3]!.trim();
  return describeCapability(id, text);
}

function describeCapability(id: number, text: string): PciCapability {
  if (id === 0x01) {
    const m = /^powerspec\s+(\d+)\s+supports\s+(.*?)\s+current\s+(D\d)/.exec(text);
    if (m) {
      return {
        kind: 'power',
        version: Number(m[1]),
        states: m[2]!.split(/\s+/).filter((s) => /^D\d$/.test(s)),
        current: m[3]!,
        raw: text,
      };
    }
  }
  if (id === 0x05) {
    const m =
      /^MSI supports (\d+) messages?(, 64 bit)?(, vector masks)?\s*(?:enabled with (\d+) messages?)?/.exec(
        text,
      );
    if (m) {
      const cap: PciCapability = {
        kind: 'msi',
        messages: Number(m[1]),
        enabled: m[4] !== undefined,
        is64: m[2] !== undefined,
        vectorMasks: m[3] !== undefined,
        raw: text,
      };
      if (m[4] !== undefined) cap.enabledMessages = Number(m[4]);
      return cap;
    }
  }
  if (id === 0x11) {
    const m = /^MSI-X supports (\d+) messages?(, enabled)?/.exec(text);
    if (m) return { kind: 'msix', tableSize: Number(m[1]), enabled: m[2] !== undefined, raw: text };
  }
  if (id === 0x10) {
    const m = /^PCI-Express (\d+) (.*?)(?= MSI \d| max data|$)/.exec(text);
    if (m) {
      const cap: PciCapability = { kind: 'pcie', version: Number(m[1]), portType: m[2]!.trim(), raw: text };
      cap.flr = /\bFLR\b/.test(text);
      return cap;
    }
  }
  return { kind: 'other', id, name: capabilityName(text), raw: text, extended: false };
}

/** A short name for a capability: the words before its first number, colon, parenthesis or key=value. */
function capabilityName(text: string): string {
  const words: string[] = [];
  for (const word of text.split(/\s+/)) {
    if (word === '' || /^\d/.test(word) || word.startsWith('(') || word.includes('=')) break;
    if (word.endsWith(':')) {
      words.push(word.slice(0, -1));
      break;
    }
    words.push(word);
  }
  return words.join(' ') || text;
}

/** Fold a continuation line (deeper-indented text under a `cap` line) into the capability before it. */
export function continueCapability(cap: PciCapability, text: string): void {
  cap.raw = `${cap.raw}\n${text}`;
  if (cap.kind === 'msix') {
    const m =
      /Table in map (0x[0-9a-fA-F]+)\[(0x[0-9a-fA-F]+)\], PBA in map (0x[0-9a-fA-F]+)\[(0x[0-9a-fA-F]+)\]/.exec(
        text,
      );
    if (m) {
      cap.tableBar = Number.parseInt(m[1]!, 16);
      cap.tableOffset = Number.parseInt(m[2]!, 16);
      cap.pbaBar = Number.parseInt(m[3]!, 16);
      cap.pbaOffset = Number.parseInt(m[4]!, 16);
    }
  } else if (cap.kind === 'pcie') {
    const link = /link x(\d+)\(x(\d+)\)(?: speed ([\d.]+|undef)\(([\d.]+|undef)\))?/.exec(text);
    if (link) {
      cap.linkWidth = Number(link[1]);
      cap.maxLinkWidth = Number(link[2]);
      if (link[3] !== undefined) cap.linkSpeed = link[3];
      if (link[4] !== undefined) cap.maxLinkSpeed = link[4];
    }
  }
}

import { isIPv4, isIPv6 } from 'node:net';

/**
 * Network identities in a snapshot (IPv4/IPv6 addresses, MAC addresses, the hostname and its domain),
 * replaced by placeholders from the documentation ranges, the same placeholder for the same value in
 * every file and command output, so that a redacted snapshot still replays: interface names are kept
 * (the default-route NIC is found by name), addresses stay well-formed addresses.
 *
 * Two passes: `learn` every text first (so that no placeholder can equal a real value that appears
 * elsewhere), then `redact` each one.
 */

const MAC = /(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])/g;
const IPV4 = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]*\d)/g;
/** Candidates only: checked with isIPv6 (which rejects times like 10:00:00 and MAC addresses). */
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?![\w:])/g;

/** Kept as they are: they identify no one. */
function keepIPv4(a: string): boolean {
  const o = a.split('.').map(Number);
  if (o[0] === 127 || o[0] === 0) return true;
  if (a === '255.255.255.255') return true;
  // A dotted netmask (255.255.255.0): contiguous ones.
  const bits = o.reduce((n, x) => n * 256 + x, 0);
  const inverted = 0xffffffff - bits;
  return o[0] === 255 && (inverted & (inverted + 1)) === 0;
}

function keepIPv6(a: string): boolean {
  const low = a.toLowerCase();
  return low === '::' || low === '::1' || low === 'fe80::1' || low.startsWith('ff');
}

function keepMac(m: string): boolean {
  const low = m.toLowerCase();
  return low === '00:00:00:00:00:00' || low === 'ff:ff:ff:ff:ff:ff';
}

export interface NetworkRedactionCount {
  ipv4: number;
  ipv6: number;
  mac: number;
  hostname: boolean;
  domain: boolean;
}

export class NetworkRedactor {
  private readonly ipv4 = new Map<string, string>();
  private readonly ipv6 = new Map<string, string>();
  private readonly mac = new Map<string, string>();
  private readonly seen = new Set<string>();
  private hostName: string | undefined;
  private domainName: string | undefined;
  private frozen = false;

  /** The host's name as `uname -n` / rc.conf `hostname=` give it: `gpubox` or `gpubox.lan.example.org`. */
  setHostname(name: string | undefined): void {
    const value = name?.trim();
    if (!value || value === 'localhost' || value === 'unknown') return;
    const [short, ...rest] = value.split('.');
    // A one- or two-letter name would hit unrelated words; the domain alone still goes.
    if (short && short.length >= 3) this.hostName ??= short;
    if (rest.length > 0) this.domainName ??= rest.join('.');
  }

  /** First pass: remember every value, so placeholders never collide with a real one. */
  learn(text: string): void {
    if (this.frozen) throw new Error('NetworkRedactor: learn after redact');
    for (const m of text.matchAll(MAC)) this.seen.add(m[0].toLowerCase());
    const noMac = text.replace(MAC, ' ');
    for (const m of noMac.matchAll(IPV4)) this.seen.add(m[0]);
    for (const m of noMac.matchAll(IPV6)) this.seen.add(m[0].toLowerCase());
    for (const m of text.matchAll(/\bhostname="?([A-Za-z0-9.-]+)"?/g)) this.setHostname(m[1]);
  }

  private placeholder(map: Map<string, string>, key: string, make: (n: number) => string): string {
    const known = map.get(key);
    if (known !== undefined) return known;
    let n = map.size + 1;
    let value = make(n);
    while (this.seen.has(value.toLowerCase())) value = make(++n + 1000);
    map.set(key, value);
    return value;
  }

  private ipv4For(a: string): string {
    return this.placeholder(this.ipv4, a, (n) => {
      // 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737), then 10.255.x.y.
      const nets = ['192.0.2', '198.51.100', '203.0.113'];
      if (n <= 254 * nets.length) return `${nets[Math.floor((n - 1) / 254)]}.${((n - 1) % 254) + 1}`;
      return `10.255.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
    });
  }

  private ipv6For(a: string): string {
    const linkLocal = a.toLowerCase().startsWith('fe80:');
    return this.placeholder(this.ipv6, a.toLowerCase(), (n) =>
      linkLocal ? `fe80::${n.toString(16)}:0` : `2001:db8::${n.toString(16)}`,
    );
  }

  private macFor(m: string): string {
    return this.placeholder(this.mac, m.toLowerCase(), (n) => {
      const hex = n.toString(16).padStart(6, '0');
      return `02:00:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
    });
  }

  /** Second pass: the text with every network identity replaced. */
  redact(text: string): string {
    this.frozen = true;
    let t = text.replace(MAC, (m) => (keepMac(m) ? m : this.macFor(m)));
    // A zone (fe80::1%igb0) is outside the match and stays: it is an interface name.
    t = t.replace(IPV6, (m) => (!isIPv6(m) || keepIPv6(m) ? m : this.ipv6For(m)));
    t = t.replace(IPV4, (m) => (!isIPv4(m) || keepIPv4(m) ? m : this.ipv4For(m)));
    if (this.domainName) t = replaceWord(t, this.domainName, 'example.invalid');
    if (this.hostName) t = replaceWord(t, this.hostName, 'redacted-host');
    return t;
  }

  counts(): NetworkRedactionCount {
    return {
      ipv4: this.ipv4.size,
      ipv6: this.ipv6.size,
      mac: this.mac.size,
      hostname: this.hostName !== undefined,
      domain: this.domainName !== undefined,
    };
  }
}

/** Replace `word` where it stands alone (not inside a longer name or path component). */
function replaceWord(text: string, word: string, by: string): string {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`, 'g'), by);
}

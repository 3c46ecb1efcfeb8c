/** FreeBSD `ifconfig -a` output -> interfaces, and resolution of bridge/lagg/vlan to the NICs under them. */
import type { NetInterface } from './types.js';

const HEAD = /^([A-Za-z][\w.-]*): flags=[0-9a-fA-F]+<([^>]*)>(?:.*?\bmtu (\d+))?/;

/** Indented lines under an interface that matter here, and what each sets. */
const DETAIL_LINES: [RegExp, (iface: NetInterface, m: RegExpExecArray) => void][] = [
  [/^member: (\S+)/, (i, m) => i.members.push(m[1]!)],
  [/^laggport: (\S+)/, (i, m) => i.laggPorts.push(m[1]!)],
  [
    /^vlan: (\d+)\b.*\bparent interface: (\S+)/,
    (i, m) => {
      i.vlanId = Number(m[1]);
      i.vlanParent = m[2]!;
    },
  ],
  [/^groups: (.*)$/, (i, m) => i.groups.push(...m[1]!.split(/\s+/).filter((g) => g !== ''))],
  [
    /^ether ([0-9a-fA-F:]{17})/,
    (i, m) => {
      i.ether = m[1]!;
    },
  ],
  [/^inet (\d+\.\d+\.\d+\.\d+)/, (i, m) => i.inet.push(m[1]!)],
];

export function parseIfconfig(text: string): NetInterface[] {
  const interfaces: NetInterface[] = [];
  let current: NetInterface | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const head = HEAD.exec(raw);
    if (head) {
      current = {
        name: head[1]!,
        flags: head[2]!.split(',').filter((f) => f !== ''),
        members: [],
        laggPorts: [],
        groups: [],
        inet: [],
        line: index + 1,
      };
      if (head[3] !== undefined) current.mtu = Number(head[3]);
      interfaces.push(current);
      return;
    }
    if (!current || !/^\s/.test(raw)) {
      if (raw.trim() !== '') current = undefined;
      return;
    }
    const iface = current;
    const t = raw.trim();
    for (const [pattern, apply] of DETAIL_LINES) {
      const m = pattern.exec(t);
      if (m) {
        apply(iface, m);
        break;
      }
    }
  });
  return interfaces;
}

/** Cloned, software-only interfaces: never a physical NIC. */
const VIRTUAL = /^(lo|tap|tun|epair|bridge|lagg|vlan|gif|gre|wg|pflog|pfsync|enc|vxlan|stf|ipsec|ovpn|vm-)/;
const VIRTUAL_GROUPS = new Set([
  'lo',
  'tap',
  'tun',
  'epair',
  'bridge',
  'lagg',
  'vlan',
  'wg',
  'gif',
  'gre',
  'vxlan',
]);

/**
 * The physical NICs beneath `name`: a bridge resolves through its members, a lagg through its ports,
 * a vlan through its parent (recursively); a physical NIC resolves to itself; tap/epair/lo and unknown names to
 * nothing. Order follows the listing; no duplicates.
 */
export function physicalInterfaces(interfaces: NetInterface[], name: string): string[] {
  const byName = new Map(interfaces.map((i) => [i.name, i]));
  const found: string[] = [];
  const visit = (n: string, seen: Set<string>): void => {
    if (seen.has(n)) return;
    seen.add(n);
    const iface = byName.get(n);
    if (!iface) return;
    const below = [
      ...iface.members,
      ...iface.laggPorts,
      ...(iface.vlanParent === undefined ? [] : [iface.vlanParent]),
    ];
    if (below.length > 0) {
      for (const b of below) visit(b, seen);
      return;
    }
    const virtual = VIRTUAL.test(n) || iface.groups.some((g) => VIRTUAL_GROUPS.has(g));
    if (!virtual && !found.includes(n)) found.push(n);
  };
  visit(name, new Set());
  return found;
}

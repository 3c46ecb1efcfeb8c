import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseIfconfig } from '../../src/facts/ifconfig.js';
import { parseRouteGet } from '../../src/facts/route.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import { parseSnapshot } from '../../src/host/snapshot-format.js';
import { collect } from '../../src/inventory/collect.js';
import { toSnapshot } from '../../src/inventory/record.js';
import { NetworkRedactor } from '../../src/inventory/redact-network.js';
import { cli, example, setCommand, tempDir } from '../helpers/snap.js';

// Real-shaped FreeBSD 14.3 outputs (written for this test): a host on a home LAN with IPv6.
const IFCONFIG = `igb0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500
\toptions=4e527bb<RXCSUM,TXCSUM,VLAN_MTU,VLAN_HWTAGGING,JUMBO_MTU,VLAN_HWCSUM,TSO4,TSO6,LRO,WOL_MAGIC,VLAN_HWFILTER,VLAN_HWTSO,RXCSUM_IPV6,TXCSUM_IPV6,HWSTATS,MEXTPG>
\tether 3c:ec:ef:10:22:99
\tinet 192.168.178.20 netmask 0xffffff00 broadcast 192.168.178.255
\tinet6 fe80::3eec:efff:fe10:2299%igb0 prefixlen 64 scopeid 0x1
\tinet6 2a02:8071:5180:2a00:3eec:efff:fe10:2299 prefixlen 64 autoconf
\tmedia: Ethernet autoselect (1000baseT <full-duplex>)
\tstatus: active
\tnd6 options=23<PERFORMNUD,ACCEPT_RTADV,AUTO_LINKLOCAL>
lo0: flags=1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP> metric 0 mtu 16384
\toptions=680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>
\tinet 127.0.0.1 netmask 0xff000000
\tinet6 ::1 prefixlen 128
\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x2
\tgroups: lo
\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>
bridge0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500
\tether 58:9c:fc:00:a1:07
\tid 00:00:00:00:00:00 priority 32768 hellotime 2 fwddelay 15
\tmember: tap0 flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>
\tgroups: bridge vm-switch viid-4c918@
`;

const NETSTAT = `Routing tables

Internet:
Destination        Gateway            Flags         Netif Expire
default            192.168.178.1      UGS            igb0
127.0.0.1          link#2             UH              lo0
192.168.178.0/24   link#1             U              igb0
192.168.178.20     link#2             UHS             lo0

Internet6:
Destination                       Gateway                       Flags         Netif Expire
::/96                             ::1                           URS             lo0
default                           fe80::7eff:4dff:fe2a:1b00%igb0 UG             igb0
::1                               link#2                        UHS             lo0
2a02:8071:5180:2a00::/64          link#1                        U              igb0
2a02:8071:5180:2a00:3eec:efff:fe10:2299 link#2                  UHS             lo0
fe80::%igb0/64                    link#1                        U              igb0
fe80::3eec:efff:fe10:2299%igb0    link#2                        UHS             lo0
ff02::/16                         ::1                           UGRS            lo0
`;

const ROUTE = `   route to: default
destination: default
       mask: default
    gateway: 192.168.178.1
        fib: 0
  interface: igb0
      flags: <UP,GATEWAY,DONE,STATIC>
 recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire
       0         0         0         0      1500         1         0
`;

const RC_CONF = `hostname="gpubox.lab.acme-systems.net"
ifconfig_igb0="inet 192.168.178.20/24"
ifconfig_igb0_ipv6="inet6 accept_rtadv"
defaultrouter="192.168.178.1"
sshd_enable="YES"
vm_enable="YES"
vm_dir="zfs:zroot/vm"
`;

const DMESG = `Copyright (c) 1992-2025 The FreeBSD Project.
FreeBSD 14.3-RELEASE-p4 GENERIC amd64
CPU: Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz (3600.00-MHz K8-class CPU)
real memory  = 34359738368 (32768 MB)
igb0: <Intel(R) I210 Flashless (Copper)> port 0x3000-0x301f mem 0xa1200000-0xa121ffff,0xa1220000-0xa1223fff irq 17 at device 0.0 on pci3
igb0: Ethernet address: 3c:ec:ef:10:22:99
Timecounters tick every 1.000 msec
`;

const HOSTNAME = 'gpubox.lab.acme-systems.net\n';

function redactAll(texts: string[], hostname: string): string[] {
  const r = new NetworkRedactor();
  r.setHostname(hostname);
  for (const t of texts) r.learn(t);
  return texts.map((t) => r.redact(t));
}

describe('network redaction', () => {
  it('replaces addresses, MACs, hostname and domain the same way in every output, keeping the shape', () => {
    const [ifc, net, route, rc, dmesg, host] = redactAll(
      [IFCONFIG, NETSTAT, ROUTE, RC_CONF, DMESG, HOSTNAME],
      'gpubox.lab.acme-systems.net',
    ) as [string, string, string, string, string, string];
    const all = [ifc, net, route, rc, dmesg, host].join('\n');
    for (const secret of [
      '192.168.178.20',
      '192.168.178.1',
      '192.168.178.0',
      '3c:ec:ef:10:22:99',
      '58:9c:fc:00:a1:07',
      '2a02:8071',
      'fe80::3eec',
      'fe80::7eff',
      'gpubox',
      'acme-systems',
    ])
      assert.equal(all.includes(secret), false, `${secret} is gone`);
    // Interface names, loopback, netmasks, flags and unrelated numbers are kept.
    assert.deepEqual(
      parseIfconfig(ifc).map((i) => i.name),
      ['igb0', 'lo0', 'bridge0'],
    );
    assert.match(ifc, /inet 127\.0\.0\.1 netmask 0xff000000/);
    assert.match(ifc, /inet6 ::1 prefixlen 128/);
    assert.match(ifc, /inet6 fe80::1%lo0/);
    assert.match(ifc, /id 00:00:00:00:00:00 priority/);
    assert.match(net, /ff02::\/16/);
    assert.match(dmesg, /3\.60GHz \(3600\.00-MHz/);
    assert.match(dmesg, /Timecounters tick every 1\.000 msec/);
    assert.match(dmesg, /FreeBSD 14\.3-RELEASE-p4 GENERIC amd64/);
    // Same value -> same placeholder everywhere.
    const inet = parseIfconfig(ifc).find((i) => i.name === 'igb0')?.inet[0];
    assert.match(inet ?? '', /^192\.0\.2\.\d+$/);
    assert.match(rc, new RegExp(`ifconfig_igb0="inet ${inet?.replace(/\./g, '\\.')}/24"`));
    assert.match(net, new RegExp(`^${inet?.replace(/\./g, '\\.')} +link#2 +UHS +lo0$`, 'm'));
    const gateway = parseRouteGet(route).gateway;
    assert.equal(parseRouteGet(route).interface, 'igb0');
    assert.match(rc, new RegExp(`defaultrouter="${gateway?.replace(/\./g, '\\.')}"`));
    assert.match(net, new RegExp(`^default +${gateway?.replace(/\./g, '\\.')} +UGS +igb0$`, 'm'));
    const mac = parseIfconfig(ifc).find((i) => i.name === 'igb0')?.ether;
    assert.match(mac ?? '', /^02:00:00:/);
    assert.match(dmesg, new RegExp(`igb0: Ethernet address: ${mac}`));
    const v6 = /inet6 (2001:db8::[0-9a-f]+) prefixlen 64 autoconf/.exec(ifc)?.[1];
    assert.ok(v6, ifc);
    assert.match(net, new RegExp(`^${v6} link#2`, 'm'));
    assert.match(net, /^fe80::[0-9a-f]+:0%igb0\/64 /m);
    assert.equal(host, 'redacted-host.example.invalid\n');
    assert.match(rc, /^hostname="redacted-host\.example\.invalid"$/m);
  });

  it('never hands out a placeholder that is a real address elsewhere in the snapshot', () => {
    const [a, b] = redactAll(['inet 10.0.0.5 netmask 0xffffff00', 'gateway: 192.0.2.1'], 'box');
    const first = /inet (\S+)/.exec(a ?? '')?.[1];
    const second = /gateway: (\S+)/.exec(b ?? '')?.[1];
    assert.notEqual(first, second);
    assert.notEqual(first, '192.0.2.1', 'the real 192.0.2.1 is not reused for 10.0.0.5');
  });

  it('a recorded host replays the same after redaction (default-route NIC, stale pptdevs), and --no-redact keeps all', async () => {
    const snap = setCommand(example('rtx2080ti-14.3'), ['ifconfig', '-a'], IFCONFIG);
    setCommand(snap, ['route', '-n', 'get', 'default'], ROUTE);
    snap.files['/etc/rc.conf'] = `${RC_CONF}kld_list="vmm nmdm"\n`;
    const raw = await collect(new SnapshotHost(snap));
    const meta = { hostname: 'gpubox', capturedAt: '2026-11-30T10:00:00Z' };
    const dir = tempDir();
    const write = (name: string, redact: boolean) => {
      const { snapshot, redacted } = toSnapshot(raw, meta, { redact });
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(snapshot));
      return { path, redacted };
    };
    const plain = write('plain.json', false);
    const red = write('redacted.json', true);
    assert.match(
      red.redacted.join('\n'),
      /network identities: \d+ IPv4 addresses, .*MAC address.*the hostname, the domain/,
    );
    const text = readFileSync(red.path, 'utf8');
    assert.equal(/gpubox|acme-systems|192\.168\.178|3c:ec:ef/.test(text), false);
    assert.match(readFileSync(plain.path, 'utf8'), /192\.168\.178\.20/);
    parseSnapshot(text, red.path);

    const scan = (path: string) => JSON.parse(cli(['scan', '--host', path, '--json']).stdout);
    const before = scan(plain.path);
    const after = scan(red.path);
    // The stale entry is still found to be the NIC that carries the default route (a lockout).
    assert.deepEqual(after.stale, before.stale);
    assert.equal(after.stale[0].lockout, true);
    assert.match(after.stale[0].reason, /3\/0\/0 is now igb0/);
    assert.equal(after.host.hostname, 'redacted-host');
    const doctor = (path: string) =>
      JSON.parse(cli(['doctor', '--host', path, '--json']).stdout).checks.map(
        (c: { id: string; status: string }) => `${c.id} ${c.status}`,
      );
    assert.deepEqual(doctor(red.path), doctor(plain.path));
  });
});

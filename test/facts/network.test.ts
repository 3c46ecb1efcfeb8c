import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIfconfig, physicalInterfaces } from '../../src/facts/ifconfig.js';
import { parseRouteGet } from '../../src/facts/route.js';
import { fixture } from '../helpers/corpus.js';

describe('parseRouteGet', () => {
  it('reads gateway, interface and flags of the default route', () => {
    assert.deepEqual(parseRouteGet(fixture('facts', 'route-n-get-default-fbsd14.txt')), {
      destination: 'default',
      gateway: '192.0.2.1',
      interface: 'em0',
      flags: ['UP', 'GATEWAY', 'DONE', 'STATIC'],
    });
  });

  it('no default route: empty', () => {
    assert.deepEqual(parseRouteGet('route: route has not been found\n'), {});
  });
});

describe('parseIfconfig / physicalInterfaces', () => {
  const ifaces = parseIfconfig(fixture('facts', 'ifconfig-a-bridge-lagg-vlan-fbsd14.txt'));

  it('lists every interface with flags, mtu, members, lagg ports, vlan parent', () => {
    assert.deepEqual(
      ifaces.map((i) => i.name),
      ['igb0', 'igb1', 'em0', 'lo0', 'lagg0', 'lagg0.20', 'vm-public', 'bridge0', 'tap0'],
    );
    const lagg = ifaces.find((i) => i.name === 'lagg0')!;
    assert.deepEqual(lagg.laggPorts, ['igb0', 'igb1']);
    const vlan = ifaces.find((i) => i.name === 'lagg0.20')!;
    assert.equal(vlan.vlanParent, 'lagg0');
    assert.equal(vlan.vlanId, 20);
    const bridge = ifaces.find((i) => i.name === 'vm-public')!;
    assert.deepEqual(bridge.members, ['tap0', 'lagg0.20']);
    assert.deepEqual(bridge.groups, ['bridge', 'vm-switch', 'viid-4c918@']);
    const em0 = ifaces.find((i) => i.name === 'em0')!;
    assert.deepEqual(em0.inet, ['192.0.2.10']);
    assert.equal(em0.mtu, 1500);
    assert.equal(em0.ether, '3c:ec:ef:11:22:33');
    assert.ok(em0.flags.includes('UP'));
    assert.equal(ifaces.find((i) => i.name === 'lo0')!.mtu, 16384);
  });

  it('resolves bridge -> vlan -> lagg -> NICs, skipping tap', () => {
    assert.deepEqual(physicalInterfaces(ifaces, 'vm-public'), ['igb0', 'igb1']);
    assert.deepEqual(physicalInterfaces(ifaces, 'bridge0'), ['em0']);
    assert.deepEqual(physicalInterfaces(ifaces, 'em0'), ['em0']);
    assert.deepEqual(physicalInterfaces(ifaces, 'tap0'), []);
    assert.deepEqual(physicalInterfaces(ifaces, 'lo0'), []);
    assert.deepEqual(physicalInterfaces(ifaces, 'nosuch0'), []);
  });

  it('a member loop does not hang', () => {
    const looped = parseIfconfig(
      'bridge0: flags=8843<UP> metric 0 mtu 1500\n\tmember: bridge1 flags=143<LEARNING>\nbridge1: flags=8843<UP> metric 0 mtu 1500\n\tmember: bridge0 flags=143<LEARNING>\n\tmember: ix0 flags=143<LEARNING>\nix0: flags=8843<UP> metric 0 mtu 9000\n',
    );
    assert.deepEqual(physicalInterfaces(looped, 'bridge0'), ['ix0']);
  });
});

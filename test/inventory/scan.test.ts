import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitBars, LARGE_BAR64, MEMSIZE64 } from '../../src/bhyve/mmio.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import { scanHost } from '../../src/inventory/inventory.js';
import { corpusFile } from '../helpers/corpus.js';
import { cli, commandOut, example, setCommand, writeSnapshot } from '../helpers/snap.js';

const GiB = 1024 ** 3;

describe('scan on the bundled example hosts', () => {
  it('Tesla P4 host: one GPU on ppt, needs the INTPIN quirk, fits the MMIO windows', async () => {
    const inv = await scanHost(new SnapshotHost(example('tesla-p4-15.0')));
    assert.equal(inv.host.releaseText, '15.0-RELEASE-p2');
    assert.equal(inv.host.iommu.table, 'DMAR');
    assert.equal(inv.host.vmm.loaded, true);
    assert.equal(inv.host.vmm.loaderConf, true);
    assert.deepEqual(
      inv.host.pptdevs?.map((e) => e.bhyveId),
      ['1/0/0'],
    );
    assert.equal(inv.gpus.length, 1);
    const g = inv.gpus[0];
    assert.ok(g);
    assert.equal(g.id, '1/0/0');
    assert.equal(g.functions[0]?.state, 'ppt-attached');
    assert.equal(g.msi, true);
    assert.equal(g.msix, false);
    assert.equal(g.intpinQuirk, 'required');
    assert.equal(g.mmio.fits, true);
    assert.deepEqual(
      g.bars.map((b) => b.bar.size),
      [16 * 1024 ** 2, 256 * 1024 ** 2, 32 * 1024 ** 2],
    );
    assert.equal(inv.stale.length, 0);
    assert.deepEqual(inv.host.defaultRoute, {
      interface: 'bridge0',
      nics: ['tap0', 'em0'].filter((n) => inv.host.defaultRoute?.nics.includes(n)),
    });
    assert.ok(inv.host.defaultRoute?.nics.includes('em0'));
  });

  it('RTX 2080 Ti host: 4 functions grouped, console iGPU, stale pptdevs on the route NIC, kld_list', async () => {
    const inv = await scanHost(new SnapshotHost(example('rtx2080ti-14.3')));
    const nv = inv.gpus.find((g) => g.vendorId === 0x10de);
    assert.ok(nv);
    assert.deepEqual(
      nv.functions.map((f) => f.device.bhyveId),
      ['2/0/0', '2/0/1', '2/0/2', '2/0/3'],
    );
    assert.deepEqual(
      nv.functions.map((f) => f.state),
      ['host-driver', 'host-driver', 'host-driver', 'unclaimed'],
    );
    const intel = inv.gpus.find((g) => g.vendorId === 0x8086);
    assert.equal(intel?.consoleGpu, true);
    assert.equal(nv.consoleGpu, false);
    assert.equal(inv.host.vmm.kldList, true);
    assert.equal(inv.host.vmm.loaderConf, false);
    assert.equal(inv.stale.length, 1);
    assert.equal(inv.stale[0]?.entry.bhyveId, '3/0/0');
    assert.equal(inv.stale[0]?.device?.driver, 'igb');
    assert.equal(inv.stale[0]?.lockout, true);
    assert.match(inv.warnings.join('\n'), /kld_list/);
  });

  it('scan --json prints one document with the documented top-level keys', () => {
    const r = cli(['scan', '--host', 'examples/hosts/rtx2080ti-14.3.json', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc).sort(), [
      'devices',
      'gpus',
      'host',
      'schemaVersion',
      'stale',
      'warnings',
    ]);
    assert.equal(doc.devices.length, 13);
    const gpu = doc.gpus.find((g: { id: string }) => g.id === '2/0/0');
    assert.equal(gpu.functions.length, 4);
    assert.equal(gpu.functions[1].driver, 'hdac0');
  });
});

describe('scan on snapshots built from real pciconf output', () => {
  it('reads the Tesla P10 / MI50 listing (-vl, no BARs) and says BARs are unknown', async () => {
    const snap = setCommand(
      example('tesla-p4-15.0'),
      ['pciconf', '-lbcv'],
      corpusFile('pciconf', 'cloudatlas-pciconf-vl-tesla-p10-mi50.txt').body,
    );
    const r = cli(['scan', '--host', writeSnapshot(snap), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const ids = doc.gpus.map((g: { id: string; vendorDevice: string }) => `${g.id} ${g.vendorDevice}`);
    assert.deepEqual(ids, ['1/0/0 10de:1b39', '4/0/0 1002:66a1']);
    assert.equal(doc.gpus[0].functions[0].driver, 'vgapci0');
    assert.equal(doc.gpus[0].bars.length, 0);
  });

  it('a missing PCI probe is "unknown", not a crash', async () => {
    const snap = example('tesla-p4-15.0');
    snap.commands = snap.commands.filter((c) => c.argv[0] !== 'pciconf');
    const inv = await scanHost(new SnapshotHost(snap));
    assert.equal(inv.devices, undefined);
    assert.match(inv.unknown.join('\n'), /pciconf -lbcv: not captured/);
    const r = cli(['doctor', '--host', writeSnapshot(snap)]);
    assert.match(r.stdout, /UNKNOWN/);
  });

  it('a bad snapshot file gets a clear error naming the field, exit 1', () => {
    const snap = example('tesla-p4-15.0') as unknown as Record<string, unknown>;
    snap.version = 2;
    const r = cli(['scan', '--host', writeSnapshot(snap as never)]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /field "version"/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  });
});

describe('MMIO window fit', () => {
  const bar = (size: number, is64 = true) => ({
    register: 0x14,
    kind: 'memory' as const,
    base: 0,
    size,
    is64,
    prefetchable: true,
  });
  it('one 32 GiB BAR fills the 64-bit window; a second one does not fit', () => {
    assert.equal(fitBars([{ owner: 'a', bar: bar(32 * GiB) }]).fits, true);
    const two = fitBars([
      { owner: 'a', bar: bar(32 * GiB) },
      { owner: 'b', bar: bar(32 * GiB) },
    ]);
    assert.equal(two.fits, false);
    assert.equal(two.windows[1].overflow?.owner, 'b');
  });
  it('a 64 GiB BAR never fits; BARs up to 128 MiB go below 4 GiB', () => {
    assert.equal(fitBars([{ owner: 'a', bar: bar(64 * GiB) }]).fits, false);
    const small = fitBars([{ owner: 'a', bar: bar(LARGE_BAR64) }]);
    assert.equal(small.windows[0].used, LARGE_BAR64);
    assert.equal(small.windows[1].used, 0);
    assert.equal(MEMSIZE64, 32 * GiB);
  });
  it('scan warns when a GPU has a 64 GiB BAR1', async () => {
    const snap = example('tesla-p4-15.0');
    const text = commandOut(snap, ['pciconf', '-lbcv']).replace(
      'base 0x6000000000, size 268435456',
      'base 0x6000000000, size 68719476736',
    );
    setCommand(snap, ['pciconf', '-lbcv'], text);
    const inv = await scanHost(new SnapshotHost(snap));
    assert.equal(inv.gpus[0]?.mmio.fits, false);
    assert.match(inv.gpus[0]?.warnings.join('\n') ?? '', /64-bit MMIO window/);
  });
});

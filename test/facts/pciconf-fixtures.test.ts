import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePciconfDetailed } from '../../src/facts/pciconf.js';
import { fixture } from '../helpers/corpus.js';
import { bySelector, cap } from './pci-assert.js';

describe('parsePciconf on the project fixtures (pciconf -lbcv, FreeBSD 14/15)', () => {
  it('Tesla P4 host: GP104GL at 1/0/0 with its three BARs, MSI 1 message, no MSI-X', () => {
    const r = parsePciconfDetailed(fixture('facts', 'pciconf-lbcv-tesla-p4-fbsd15.txt'));
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(
      r.value.map((d) => `${d.driver}${d.unit}`),
      ['hostb0', 'pcib1', 'xhci0', 'ahci0', 'em0', 'vgapci0', 'igb0', 'nvme0'],
    );
    const p4 = bySelector(r.value, 'pci0:1:0:0');
    assert.equal(p4.bhyveId, '1/0/0');
    assert.deepEqual(
      [p4.vendorId, p4.deviceId, p4.subvendorId, p4.subdeviceId],
      [0x10de, 0x1bb3, 0x10de, 0x11d8],
    );
    assert.deepEqual([p4.classCode, p4.subclass, p4.progIf, p4.revision], [0x03, 0x02, 0x00, 0xa1]);
    assert.equal(p4.multifunction, false);
    assert.equal(p4.deviceName, 'GP104GL [Tesla P4]');
    assert.equal(p4.className, 'display');
    assert.equal(p4.subclassName, '3D');
    assert.deepEqual(
      p4.bars.map((b) => [b.register, b.kind, b.size, b.is64, b.prefetchable]),
      [
        [0x10, 'memory', 16 * 2 ** 20, false, false],
        [0x14, 'memory', 256 * 2 ** 20, true, true],
        [0x1c, 'memory', 32 * 2 ** 20, true, true],
      ],
    );
    assert.equal(p4.bars[1]!.base, 0xc0000000);
    const msi = cap(p4, 'msi');
    assert.deepEqual([msi.messages, msi.enabled, msi.enabledMessages, msi.is64], [1, true, 1, true]);
    assert.equal(
      p4.capabilities.some((c) => c.kind === 'msix'),
      false,
    );
    const pcie = cap(p4, 'pcie');
    assert.deepEqual(
      [pcie.portType, pcie.linkWidth, pcie.linkSpeed, pcie.flr],
      ['legacy endpoint', 16, '8.0', false],
    );
    const ahci = bySelector(r.value, 'pci0:0:23:0');
    assert.deepEqual(ahci.bars[2], {
      register: 0x18,
      kind: 'io',
      base: 0xf090,
      size: 8,
      is64: false,
      prefetchable: false,
    });
    const igb = bySelector(r.value, 'pci0:3:0:0');
    assert.equal(cap(igb, 'pcie').flr, true);
    assert.deepEqual([cap(igb, 'msix').tableSize, cap(igb, 'msix').pbaOffset], [5, 0x2000]);
    assert.equal(bySelector(r.value, 'pci0:0:20:0').multifunction, true);
  });

  it('RTX 2080 Ti: four functions on ppt0..ppt3 at 2/0/0..2/0/3, MSI-X on the USB function', () => {
    const r = parsePciconfDetailed(fixture('facts', 'pciconf-lbcv-rtx2080ti-4func-ppt-fbsd14.txt'));
    assert.deepEqual(r.warnings, []);
    const gpu = r.value.filter((d) => d.vendorId === 0x10de);
    assert.deepEqual(
      gpu.map((d) => [d.driver, d.unit, d.bhyveId, d.deviceId, d.multifunction]),
      [
        ['ppt', 0, '2/0/0', 0x1e04, true],
        ['ppt', 1, '2/0/1', 0x10f7, true],
        ['ppt', 2, '2/0/2', 0x1ad6, true],
        ['ppt', 3, '2/0/3', 0x1ad7, true],
      ],
    );
    assert.deepEqual(
      gpu[0]!.bars.map((b) => [b.register, b.kind, b.size]),
      [
        [0x10, 'memory', 16777216],
        [0x14, 'memory', 268435456],
        [0x1c, 'memory', 33554432],
        [0x24, 'io', 128],
      ],
    );
    const usbMsix = cap(gpu[2]!, 'msix');
    assert.deepEqual(
      [usbMsix.tableSize, usbMsix.enabled, usbMsix.tableBar, usbMsix.pbaOffset],
      [8, false, 0x1c, 0x800],
    );
    assert.equal(gpu[3]!.subclassName, undefined);
    assert.deepEqual([gpu[3]!.classCode, gpu[3]!.subclass], [0x0c, 0x80]);
    const igpu = bySelector(r.value, 'pci0:0:2:0');
    assert.equal(igpu.driver, 'vgapci');
    assert.equal(cap(igpu, 'pcie').portType, 'root endpoint');
  });

  it('EPYC host: 32 GiB and 128 GiB BAR1 sizes are exact, bases above 4 GiB', () => {
    const r = parsePciconfDetailed(fixture('facts', 'pciconf-lbcv-epyc-v100-32g-a100-80g-fbsd15.txt'));
    assert.deepEqual(r.warnings, []);
    const v100 = bySelector(r.value, 'pci0:33:0:0');
    assert.equal(v100.bars[1]!.size, 32 * 2 ** 30);
    assert.equal(v100.bars[1]!.base, 0x38000000000);
    const a100 = bySelector(r.value, 'pci0:65:0:0');
    assert.equal(a100.bars[1]!.size, 137438953472);
    assert.equal(cap(a100, 'msix').tableOffset, 0xb90000);
    assert.equal(cap(a100, 'pcie').maxLinkSpeed, '16.0');
    const iommu = bySelector(r.value, 'pci0:0:0:2');
    assert.equal(iommu.driver, undefined);
    assert.equal(iommu.subclassName, undefined);
    const sriov = bySelector(r.value, 'pci0:66:0:0').capabilities.find(
      (c) => c.kind === 'other' && c.name === 'SR-IOV',
    );
    assert.ok(sriov && /VF Device ID 0x1520/.test(sriov.raw));
    assert.equal(bySelector(r.value, 'pci0:0:1:1').header, 0x81);
  });
});

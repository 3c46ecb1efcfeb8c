import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePciCapabilityLines, parsePciconf, parsePciconfDetailed } from '../../src/facts/pciconf.js';
import { corpus, corpusFile } from '../helpers/corpus.js';
import { bySelector, cap } from './pci-assert.js';

describe('parsePciconf on the corpus', () => {
  it('parses every pciconf corpus file without throwing, each device with a valid selector', () => {
    for (const file of corpus('pciconf')) {
      const r = parsePciconfDetailed(file.body);
      for (const d of r.value) {
        assert.match(d.selector, /^pci\d+:\d+:\d+:\d+$/, file.name);
        assert.equal(d.bhyveId, `${d.bus}/${d.slot}/${d.function}`);
        assert.ok(d.line >= 1);
      }
      for (const w of r.warnings) assert.ok(w.line >= 1 && typeof w.message === 'string');
    }
  });

  it('decodes the old card=/chip= format (chip = device<<16|vendor)', () => {
    const [alc, ppt] = parsePciconf(
      corpusFile('pciconf', 'freebsd-wiki-old-format-card-chip-alc-ppt.txt').body,
    );
    assert.ok(alc && ppt);
    assert.equal(alc.driver, 'alc');
    assert.equal(alc.unit, 0);
    assert.equal(alc.vendorId, 0x1969);
    assert.equal(alc.deviceId, 0x1083);
    assert.equal(alc.subvendorId, 0x1458);
    assert.equal(alc.subdeviceId, 0xe000);
    assert.equal(alc.revision, 0xc0);
    assert.equal(alc.classCode, 0x02);
    assert.equal(alc.vendorName, 'Atheros Communications');
    assert.equal(ppt.driver, 'ppt');
    assert.equal(ppt.bhyveId, '2/0/0');
  });

  it('reads the GTX 750 old-format pair, the HDA function without a device name', () => {
    const devices = parsePciconf(
      corpusFile('pciconf', 'chyves-issue3-gtx750-ppt0-ppt1-fbsd11-oldfmt.txt').body,
    );
    assert.equal(devices.length, 2);
    const vga = bySelector(devices, 'pci0:1:0:0');
    assert.equal(vga.deviceId, 0x1381);
    assert.equal(vga.subvendorId, 0x3842);
    assert.equal(vga.subdeviceId, 0x2751);
    assert.equal(vga.deviceName, 'GM107 [GeForce GTX 750]');
    const hda = bySelector(devices, 'pci0:1:0:1');
    assert.equal(hda.deviceId, 0x0fbc);
    assert.equal(hda.deviceName, undefined);
    assert.equal(hda.subclassName, 'HDA');
  });

  it('reads new-format lines, none0 = no driver, and class/subclass/progIf', () => {
    const devices = parsePciconf(corpusFile('pciconf', 'fbsd-rtx3090-none0-no-driver.txt').body);
    const gpu = bySelector(devices, 'pci0:2:0:0');
    assert.equal(gpu.driver, undefined);
    assert.equal(gpu.unit, undefined);
    assert.deepEqual(
      [gpu.vendorId, gpu.deviceId, gpu.subvendorId, gpu.subdeviceId],
      [0x10de, 0x2204, 0x1458, 0x403c],
    );
    const nvme = bySelector(devices, 'pci0:1:0:0');
    assert.deepEqual([nvme.classCode, nvme.subclass, nvme.progIf], [0x01, 0x08, 0x02]);
    assert.equal(nvme.className, 'mass storage');
  });

  it('reads the pciconf -ll terse table, with 3-digit buses', () => {
    const devices = parsePciconf(corpusFile('pciconf', 'chelsio-builder-pciconf-ll-ppt-bus136.txt').body);
    assert.equal(devices.length, 4);
    const first = devices[0]!;
    assert.equal(first.selector, 'pci0:136:0:4');
    assert.equal(first.bhyveId, '136/0/4');
    assert.deepEqual(
      [first.vendorId, first.deviceId, first.subvendorId, first.subdeviceId],
      [0x1425, 0x640d, 0x1425, 0],
    );
    assert.equal(first.classCode, 0x02);
    assert.equal(devices[2]!.driver, undefined);
  });

  it('tolerates whitespace-collapsed pastes', () => {
    const devices = parsePciconf(
      corpusFile('pciconf', 'signal-rx9060xt-before-pptdevs-whitespace-collapsed.txt').body,
    );
    assert.deepEqual(
      devices.map((d) => `${d.driver}${d.unit}`),
      ['pcib2', 'pcib3', 'vgapci0', 'hdac0'],
    );
    const vga = bySelector(devices, 'pci0:3:0:0');
    assert.equal(vga.deviceName, 'Navi 44 [Radeon RX 9060 XT]');
    assert.equal(vga.subclassName, 'VGA');
    assert.equal(bySelector(devices, 'pci0:1:0:0').header, 0x01);
  });

  it('keeps duplicate units as published, and warns about a selector listed twice', () => {
    const devices = parsePciconf(corpusFile('pciconf', 'cloudatlas-pciconf-vl-ppt-tesla-p10-mi50.txt').body);
    assert.deepEqual(
      devices.map((d) => [d.driver, d.unit, d.bhyveId]),
      [
        ['ppt', 0, '1/0/0'],
        ['ppt', 0, '4/0/0'],
      ],
    );
    const r = parsePciconfDetailed(corpusFile('pciconf', 'cneira-igb0-then-ppt0-oldfmt-82580.txt').body);
    assert.equal(r.value.length, 2);
    assert.ok(r.warnings.some((w) => w.line === 2 && /subclass/.test(w.message)));
    assert.ok(r.warnings.some((w) => /listed again/.test(w.message)));
  });

  it('reads -c capabilities: MSI with 16 messages, PCIe continuation lines, extended caps', () => {
    const [ppt] = parsePciconf(corpusFile('pciconf', 'jrogers-pciconf-lvc-ppt0-bcm43602-full-caps.txt').body);
    assert.ok(ppt);
    const msi = cap(ppt, 'msi');
    assert.equal(msi.messages, 16);
    assert.equal(msi.is64, true);
    assert.equal(msi.enabled, true);
    assert.equal(msi.enabledMessages, 1);
    const pcie = cap(ppt, 'pcie');
    assert.equal(pcie.version, 2);
    assert.equal(pcie.portType, 'endpoint');
    assert.equal(pcie.linkWidth, 1);
    assert.equal(pcie.maxLinkSpeed, '2.5');
    assert.match(pcie.raw, /max read 1024/);
    const power = cap(ppt, 'power');
    assert.deepEqual(power.states, ['D0', 'D1', 'D2', 'D3']);
    assert.equal(power.current, 'D0');
    const ext = ppt.capabilities
      .filter((c) => c.kind === 'other' && c.extended)
      .map((c) => (c as { name: string }).name);
    assert.deepEqual(ext, [
      'AER',
      'Serial',
      'Power Budgeting',
      'VC',
      'LTR',
      'Resizable BAR',
      'L1 PM Substates',
    ]);
  });

  it('reads -b BARs and MSI-X table location from the ixl listing (-lbvc)', () => {
    const r = parsePciconfDetailed(
      corpusFile('pciconf', 'smartos-issue901-fbsd12-guest-pciconf-lvbc-ixl.txt').body,
    );
    const ixl = bySelector(r.value, 'pci0:0:8:0');
    assert.deepEqual(ixl.bars[0], {
      register: 0x10,
      kind: 'memory',
      base: 0xc1000000,
      size: 16777216,
      is64: true,
      prefetchable: true,
    });
    assert.equal(ixl.bars[1]!.size, 32768);
    const msix = cap(ixl, 'msix');
    assert.equal(msix.tableSize, 8);
    assert.equal(msix.enabled, true);
    assert.equal(msix.tableBar, 0x1c);
    assert.equal(msix.pbaOffset, 0x1000);
    const msi = cap(ixl, 'msi');
    assert.equal(msi.vectorMasks, true);
    assert.equal(msi.enabled, false);
    // The second device's bar line is cut by the source ("size 16777216," then "..."): a warning, not a crash.
    assert.ok(r.warnings.some((w) => /bar/.test(w.message)));
  });

  it('counts MSI messages from grep-filtered -c lines', () => {
    const caps = parsePciCapabilityLines(corpusFile('pciconf', 'cloudatlas-pciconf-lc-msi-grep.txt').body);
    assert.equal(caps.length, 30);
    const msix = caps.filter((c) => c.kind === 'msix');
    assert.deepEqual(
      msix.map((c) => (c.kind === 'msix' ? c.tableSize : 0)),
      [9, 5, 5, 5, 5, 9],
    );
    const eight = caps.find((c) => c.kind === 'msi' && c.messages === 8 && c.enabled);
    assert.ok(eight && eight.kind === 'msi' && eight.enabledMessages === 1);
  });

  it('ignores devinfo lines (no devices, no crash)', () => {
    const r = parsePciconfDetailed(corpusFile('pciconf', 'jrogers-macbook-devinfo-rv-pci-excerpt.txt').body);
    assert.equal(r.value.length, 0);
    assert.equal(r.warnings.length, 0);
  });

  it('rejoins a device line wrapped after its ids', () => {
    const text =
      'vgapci0@pci0:1:0:0:\tclass=0x030000 rev=0xa1 hdr=0x00 vendor=0x10de\n' +
      'device=0x1bb3 subvendor=0x10de subdevice=0x11d8\n' +
      "    vendor     = 'NVIDIA Corporation'\n";
    const [d] = parsePciconf(text);
    assert.ok(d);
    assert.equal(d.deviceId, 0x1bb3);
    assert.equal(d.subdeviceId, 0x11d8);
    assert.equal(d.vendorName, 'NVIDIA Corporation');
  });

  it('rejoins a wrapped device name and a wrapped bar line', () => {
    const text =
      'ppt0@pci0:1:0:0:\tclass=0x060400 rev=0x25 hdr=0x01 vendor=0x1002 device=0x1478 subvendor=0x1eae subdevice=0x1478\n' +
      "    device     = 'Navi 10 XL Upstream Port of PCI\n" +
      "Express Switch'\n" +
      '    bar   [10] = type Memory, range 32, base 0xfcd00000,\n' +
      'size 16384, enabled\n';
    const r = parsePciconfDetailed(text);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.value[0]!.deviceName, 'Navi 10 XL Upstream Port of PCI Express Switch');
    assert.equal(r.value[0]!.bars[0]!.size, 16384);
  });

  it('skips a prompt and a truncated device line with a numbered warning', () => {
    const r = parsePciconfDetailed(
      'root@host:~ # pciconf -lv\nvgapci0@pci0:1:0:0:\tclass=0x030000 rev=0xa1\nppt0@pci0:2:0:0:\tclass=0x030000 chip=0x1bb310de\n',
    );
    assert.equal(r.value.length, 1);
    assert.equal(r.value[0]!.driver, 'ppt');
    assert.equal(r.value[0]!.deviceId, 0x1bb3);
    assert.deepEqual(
      r.warnings.map((w) => w.line),
      [2],
    );
  });
});

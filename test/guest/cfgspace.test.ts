import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/errors.js';
import { decodeConfigSpace, interruptPinName } from '../../src/guest/cfgspace.js';
import { formatSize, parseSysfsResource, withBarSizes } from '../../src/guest/resource.js';
import { parseSnapshot } from '../../src/host/snapshot-format.js';
import { corpusFile, fixture } from '../helpers/corpus.js';
import { buildConfig } from './fixture-builder.js';

const P4 = '/sys/bus/pci/devices/0000:00:06.0';

function p4(kind: 'healthy' | 'intpin-missing') {
  const snap = parseSnapshot(fixture('guest', `bhyve-ubuntu-p4-${kind}.json`));
  const config = snap.files[`${P4}/config`] as { base64: string };
  return {
    config: decodeConfigSpace(Buffer.from(config.base64, 'base64')),
    resource: snap.files[`${P4}/resource`] as string,
  };
}

/** "Memory at c2000000 (32-bit, non-prefetchable) [size=16M]" lines of a real lspci -v. */
function lspciRegions(text: string) {
  return [
    ...text.matchAll(
      /Memory at ([0-9a-f]+) \((32|64)-bit, (non-prefetchable|prefetchable)\) \[size=(\w+)\]/g,
    ),
  ].map((m) => ({
    base: Number.parseInt(m[1] as string, 16),
    is64: m[2] === '64',
    prefetchable: m[3] === 'prefetchable',
    size: m[4],
  }));
}

describe('decodeConfigSpace on the Tesla P4 guest fixtures', () => {
  it('reads ids, class, revision, subsystem and the capability chain', () => {
    const { config } = p4('healthy');
    assert.equal(config.vendorId, 0x10de);
    assert.equal(config.deviceId, 0x1bb3);
    assert.equal(config.revision, 0xa1);
    assert.deepEqual(config.classCode, { base: 0x03, sub: 0x02, progIf: 0 });
    assert.equal(config.headerType, 0);
    assert.equal(config.subsystemVendorId, 0x10de);
    assert.equal(config.subsystemId, 0x11d8);
    assert.deepEqual(
      config.capabilities.map((c) => [c.offset, c.name]),
      [
        [0x60, 'Power Management'],
        [0x68, 'MSI'],
        [0x78, 'PCI Express'],
      ],
    );
    assert.equal(config.power?.version, 3);
    assert.equal(config.pcie?.deviceType, 0);
    assert.equal(config.msix, undefined);
    assert.deepEqual(config.warnings, []);
  });

  it('tells INTPIN 0 / MSI disabled from INTPIN 1 / MSI enabled', () => {
    const missing = p4('intpin-missing').config;
    assert.equal(missing.interruptPin, 0);
    assert.equal(interruptPinName(missing.interruptPin), 'none');
    assert.equal(missing.msi?.enabled, false);
    const healthy = p4('healthy').config;
    assert.equal(healthy.interruptPin, 1);
    assert.equal(interruptPinName(healthy.interruptPin), 'INTA');
    assert.equal(healthy.interruptLine, 10);
    assert.equal(healthy.msi?.enabled, true);
  });

  it('matches the real lspci -v of a Tesla P4 in bhyve: BARs and "MSI: Count=1/1 64bit+"', () => {
    const real = corpusFile('guest-lspci', 'cloudatlas-bhyve-tesla-p4-lspci-v-no-driver.txt').body;
    const { config, resource } = p4('intpin-missing');
    const bars = withBarSizes(config.bars, parseSysfsResource(resource));
    assert.deepEqual(
      bars.map((b) => ({
        base: b.base,
        is64: b.is64,
        prefetchable: b.prefetchable,
        size: formatSize(b.size ?? 0),
      })),
      lspciRegions(real),
    );
    const msi = /MSI: Enable([+-]) Count=(\d+)\/(\d+) Maskable([+-]) 64bit([+-])/.exec(real);
    assert.ok(msi);
    assert.equal(config.msi?.enabled, msi[1] === '+');
    assert.equal(config.msi?.vectorsEnabled, Number(msi[2]));
    assert.equal(config.msi?.vectorsCapable, Number(msi[3]));
    assert.equal(config.msi?.perVectorMasking, msi[4] === '+');
    assert.equal(config.msi?.is64, msi[5] === '+');
  });
});

describe('decodeConfigSpace on odd input', () => {
  it('throws a ParseError below 64 bytes', () => {
    assert.throws(() => decodeConfigSpace(new Uint8Array(63)), ParseError);
    assert.throws(() => decodeConfigSpace(new Uint8Array(0)), ParseError);
  });

  it('decodes a 64-byte header and reports capabilities it cannot reach', () => {
    const bytes = buildConfig({
      vendor: 0x10de,
      device: 0x1eb8,
      classCode: 0x030200,
      msi: { enabled: true },
    });
    const header = decodeConfigSpace(bytes.slice(0, 64));
    assert.equal(header.deviceId, 0x1eb8);
    assert.deepEqual(header.capabilities, []);
    assert.match(header.warnings[0] ?? '', /outside the config space/);
  });

  it('stops on a capability loop', () => {
    const bytes = buildConfig({
      vendor: 0x10de,
      device: 0x1bb3,
      classCode: 0x030200,
      msi: { enabled: false },
    });
    bytes[0x79] = 0x60; // PCIe cap points back to PM
    const c = decodeConfigSpace(bytes);
    assert.equal(c.capabilities.length, 3);
    assert.match(c.warnings.join(), /loops back to 0x60/);
  });

  it('decodes MSI-X, I/O and 64-bit BARs from a hand-laid header', () => {
    const bytes = buildConfig({
      vendor: 0x10de,
      device: 0x2331,
      classCode: 0x030200,
      bars: [0xfb00000c, 0x000000ff, 0x0000e001],
    });
    const v = new DataView(bytes.buffer);
    v.setUint16(0x06, 0x0010, true);
    v.setUint8(0x34, 0xb0);
    v.setUint8(0xb0, 0x11);
    v.setUint8(0xb1, 0x00);
    v.setUint16(0xb2, 0x8000 | 8, true); // enabled, 9 entries
    const c = decodeConfigSpace(bytes);
    assert.deepEqual(c.msix, { offset: 0xb0, enabled: true, functionMask: false, tableSize: 9 });
    assert.deepEqual(c.bars, [
      { index: 0, kind: 'memory', is64: true, prefetchable: true, base: 0xff_fb00_0000 },
      { index: 2, kind: 'io', is64: false, prefetchable: false, base: 0xe000 },
    ]);
  });

  it('never throws anything but ParseError on random bytes', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 500; i++) {
      const bytes = Uint8Array.from(
        { length: [16, 64, 100, 256, 4096][i % 5] as number },
        () => next() & 0xff,
      );
      try {
        const c = decodeConfigSpace(bytes);
        assert.ok(c.capabilities.length <= 48);
      } catch (e) {
        assert.ok(e instanceof ParseError, String(e));
      }
    }
  });
});

describe('parseSysfsResource', () => {
  it('reads start/end/flags triples and sizes', () => {
    const res = parseSysfsResource(p4('healthy').resource);
    assert.equal(res.length, 13);
    assert.deepEqual(
      res.slice(0, 4).map((r) => [r.kind, r.size, r.is64, r.prefetchable]),
      [
        ['memory', 16 << 20, false, false],
        ['memory', 256 << 20, true, true],
        ['unused', 0, false, false],
        ['memory', 32 << 20, true, true],
      ],
    );
  });

  it('reports the line of a malformed entry', () => {
    assert.throws(
      () => parseSysfsResource('0x0 0x0 0x0\nnot a resource line\n', 'res'),
      (e: unknown) => e instanceof ParseError && e.line === 2,
    );
  });
});

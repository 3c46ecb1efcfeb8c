import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKldLoaded, parseKldstat, parseKldstatDetailed } from '../../src/facts/kldstat.js';
import { corpusFile, fixture } from '../helpers/corpus.js';

describe('parseKldstat', () => {
  it('reads plain kldstat rows (FreeBSD 12.2): no vmm.ko loaded', () => {
    const files = parseKldstat(corpusFile('host-dmesg', 'hellosystem-issue182-kldstat-fbsd122.txt').body);
    assert.equal(files.length, 15);
    assert.deepEqual(files[0], {
      id: 1,
      refs: 66,
      address: '0xffffffff80200000',
      size: 0x2448d90,
      name: 'kernel',
      modules: [],
      line: 3,
    });
    assert.equal(files[14]!.name, 'linux.ko');
    assert.equal(isKldLoaded(files, 'vmm'), false);
    assert.equal(isKldLoaded(files, 'zfs'), true);
  });

  it('reads kldstat -v: vmm.ko with its path and the pci/ppt module', () => {
    const files = parseKldstat(
      corpusFile('host-dmesg', 'iohyve-issue287-kldstat-v-vmm-pci-ppt-mod-load-error6.txt').body,
    );
    const vmm = files.find((f) => f.name === 'vmm.ko');
    assert.ok(vmm);
    assert.equal(vmm.id, 7);
    assert.equal(vmm.size, 0x3571f0);
    assert.equal(vmm.path, '/boot/kernel/vmm.ko');
    assert.deepEqual(vmm.modules, [{ id: 10, name: 'pci/ppt' }]);
    assert.equal(isKldLoaded(files, 'pci/ppt'), true);
  });

  it('keeps an elided row (address "...") with a warning', () => {
    const r = parseKldstatDetailed(
      corpusFile('bhyve-errors', 'vmbhyve-issue199-unable-to-load-vmm-kldstat.txt').body,
    );
    const vmm = r.value.find((f) => f.name === 'vmm.ko');
    assert.ok(vmm);
    assert.equal(vmm.address, undefined);
    assert.equal(vmm.size, undefined);
    assert.equal(r.warnings.length, 1);
  });

  it('reads the project fixture (kldstat -v, tabs as kldstat prints them)', () => {
    const files = parseKldstat(fixture('facts', 'kldstat-v-vmm-ppt-fbsd14.txt'));
    assert.deepEqual(
      files.map((f) => f.name),
      ['kernel', 'zfs.ko', 'vmm.ko', 'nmdm.ko', 'if_bridge.ko'],
    );
    assert.deepEqual(
      files[2]!.modules.map((m) => m.name),
      ['vmm', 'pci/ppt'],
    );
    assert.equal(files[0]!.path, '/boot/kernel/kernel');
    assert.equal(isKldLoaded(files, 'vmm.ko'), true);
    assert.equal(isKldLoaded(files, 'nvidia'), false);
  });
});

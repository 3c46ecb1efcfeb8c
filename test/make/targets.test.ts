import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseShlibMajor, rebuildSet } from '../../src/make/targets.js';

const dirs = (files: string[], options = {}) => rebuildSet(files, options).map((s) => s.dir);

describe('rebuildSet', () => {
  it('rebuilds only bhyve for the 15.0 D51892 change (bhyve-only)', () => {
    const steps = rebuildSet(['usr.sbin/bhyve/pci_passthru_quirks.c', 'usr.sbin/bhyve/amd64/Makefile.inc'], {
      jobs: 8,
    });
    assert.deepEqual(
      steps.map((s) => [s.dir, s.argv, s.installs]),
      [['usr.sbin/bhyve', ['make', '-j8'], ['/usr/sbin/bhyve']]],
    );
  });

  it('rebuilds include, libvmmapi, vmm.ko and the bhyve tools for the forum patch (x86.c, pcireg.h)', () => {
    const steps = rebuildSet(
      ['sys/amd64/vmm/x86.c', 'sys/dev/pci/pcireg.h', 'usr.sbin/bhyve/pci_passthru.c'],
      { jobs: 4, libvmmapiMajor: 6 },
    );
    assert.deepEqual(
      steps.map((s) => s.dir),
      [
        'include',
        'lib/libvmmapi',
        'sys/modules/vmm',
        'usr.sbin/bhyve',
        'usr.sbin/bhyvectl',
        'usr.sbin/bhyveload',
      ],
    );
    assert.deepEqual(steps[1]?.installs, [
      '/usr/lib/libvmmapi.so.6',
      '/usr/lib/libvmmapi.a',
      '/usr/include/vmmapi.h',
    ]);
    assert.deepEqual(steps[2]?.installs, ['/boot/kernel/vmm.ko']);
    assert.match(steps[0]?.reason ?? '', /pcireg\.h/);
    assert.ok(steps.every((s) => s.argv[0] === 'make' && s.argv[1] === '-j4'));
  });

  it('leaves include out when only .c files under sys/ changed', () => {
    assert.deepEqual(dirs(['sys/amd64/vmm/x86.c']), [
      'lib/libvmmapi',
      'sys/modules/vmm',
      'usr.sbin/bhyve',
      'usr.sbin/bhyvectl',
      'usr.sbin/bhyveload',
    ]);
    assert.deepEqual(dirs(['lib/libvmmapi/vmmapi.c'])[0], 'lib/libvmmapi');
  });

  it('builds the kernel only with kernel, GENERIC unless a kernconf is given', () => {
    assert.ok(!dirs(['sys/amd64/vmm/x86.c']).includes('.'));
    const generic = rebuildSet(['usr.sbin/bhyve/pci_passthru.c'], { kernel: true, jobs: 2 });
    assert.deepEqual(
      generic.map((s) => s.name),
      ['kernel', 'bhyve'],
    );
    assert.deepEqual(generic[0]?.argv, ['make', '-j2', 'buildkernel', 'KERNCONF=GENERIC']);
    assert.equal(generic[0]?.dir, '.');
    const own = rebuildSet(['sys/amd64/vmm/x86.c'], { kernel: true, kernconf: 'BHF' });
    assert.deepEqual(
      own.map((s) => s.name),
      ['libvmmapi', 'vmm.ko', 'kernel', 'bhyve', 'bhyvectl', 'bhyveload'],
    );
    assert.deepEqual(own[2]?.argv, ['make', '-j1', 'buildkernel', 'KERNCONF=BHF']);
  });

  it('ignores files that need no build and accepts ./ and /usr/src/ prefixes', () => {
    assert.deepEqual(dirs(['share/man/man8/bhyve.8', 'README.md']), []);
    assert.deepEqual(dirs(['./usr.sbin/bhyvectl/bhyvectl.c']), ['usr.sbin/bhyvectl']);
    assert.deepEqual(dirs(['/usr/src/usr.sbin/bhyveload/bhyveload.c']), ['usr.sbin/bhyveload']);
    assert.deepEqual(dirs(['usr.sbin/bhyve2/x.c']), [], 'a sibling directory is not bhyve');
  });
});

describe('parseShlibMajor', () => {
  it('reads SHLIB_MAJOR from a bsd.lib.mk Makefile', () => {
    assert.equal(parseShlibMajor('PACKAGE=libvmmapi\nLIB=\tvmmapi\nSHLIB_MAJOR=\t6\nSRCS=\tvmmapi.c\n'), 6);
    assert.equal(parseShlibMajor('LIB=\tvmmapi\nSRCS=\tvmmapi.c\n'), undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findFirstError, matchErrorLine } from '../../src/make/first-error.js';

describe('first build error', () => {
  it('reads clang and gcc diagnostics with file, line and column', () => {
    assert.deepEqual(matchErrorLine("pci_passthru_quirks.c:93:2: error: use of undeclared identifier 'pi'"), {
      kind: 'compiler',
      file: 'pci_passthru_quirks.c',
      line: 93,
      column: 2,
      message: "use of undeclared identifier 'pi'",
      text: "pci_passthru_quirks.c:93:2: error: use of undeclared identifier 'pi'",
    });
    const fatal = matchErrorLine("/usr/src/sys/amd64/vmm/x86.c:31:10: fatal error: 'foo.h' file not found");
    assert.equal(fatal?.file, '/usr/src/sys/amd64/vmm/x86.c');
    assert.equal(fatal?.message, "'foo.h' file not found");
    assert.equal(matchErrorLine('x.c:7: error: old gcc without a column')?.column, undefined);
    assert.equal(matchErrorLine('x.c:7:3: warning: unused variable'), undefined);
    assert.equal(matchErrorLine('x.c:7:3: note: declared here'), undefined);
  });

  it('reads bmake and GNU make failure lines', () => {
    const bmake = matchErrorLine('*** [pci_passthru.o] Error code 1');
    assert.deepEqual(
      [bmake?.kind, bmake?.file, bmake?.message],
      ['make', 'pci_passthru.o', '*** [pci_passthru.o] Error code 1'],
    );
    const gnu = matchErrorLine('make[1]: *** [Makefile:2: broken] Error 1');
    assert.deepEqual([gnu?.file, gnu?.line], ['Makefile', 2]);
    assert.equal(matchErrorLine('*** Error code 1')?.kind, 'make');
  });

  it('prefers the first compiler or linker error over the make line after it', () => {
    const log = [
      '--- pci_passthru.o ---',
      "pci_passthru.c:120:1: error: expected ';' after expression",
      "pci_passthru.c:130:5: error: use of undeclared identifier 'x'",
      '*** [pci_passthru.o] Error code 1',
    ].join('\n');
    assert.equal(findFirstError(log)?.line, 120);
    assert.equal(
      findFirstError('ld: error: undefined symbol: vm_get_config\n*** Error code 1')?.kind,
      'linker',
    );
    assert.equal(findFirstError('make: *** [Makefile:5: all] Error 2')?.kind, 'make');
    assert.equal(findFirstError('all good\n'), undefined);
    const subdir = findFirstError(
      '===> usr.sbin/bhyve (all)\npci_passthru.c:9:1: error: x\n*** Error code 1',
    );
    assert.equal(subdir?.directory, 'usr.sbin/bhyve');
  });
});

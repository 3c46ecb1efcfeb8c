import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DiagnoseReport } from '../../src/diagnose/types.js';
import { byId, firstRoot, heldout, notInfo } from '../helpers/heldout.js';

/**
 * Third round of held-out real logs (issue 11): bhyve/FreeBSD host output (vm-bhyve logs, bhyve stderr,
 * pciconf), AMD GPUs in guests and mixed forum pastes. Each fixture is written by the project in the shape
 * of the real output (prefixes, indentation, `...` cuts, shell prompts), not copied.
 */
function run(name: string): DiagnoseReport {
  return heldout('heldout3', name);
}

describe('diagnose on held-out log classes, round 3', () => {
  it('puts amdgpu\'s "Unable to locate a BIOS ROM" before the "Fatal error during GPU init" it causes', () => {
    const r = run('amdgpu-no-vbios-journal.txt');
    const first = firstRoot(r);
    assert.equal(first.id, 'guest.amdgpu.no-vbios');
    assert.ok(first.noCommand);
    const init = byId(r, 'guest.gpu.init-failed');
    assert.equal(init?.rootCause, false);
    assert.deepEqual(init?.causedBy, ['guest.amdgpu.no-vbios']);
  });

  it('reads a pasted amdgpu PSP failure (code fence, "...", prompt and lsmod) as the GPU init failure only', () => {
    const r = run('amdgpu-psp-paste.txt');
    assert.equal(firstRoot(r).id, 'guest.gpu.init-failed');
    assert.deepEqual(notInfo(r), ['guest.gpu.init-failed']);
  });

  it('reports a GPU that never came back after a vfio bus reset (reset bug) on a KVM host', () => {
    const r = run('vfio-reset-giving-up-journal.txt');
    const first = firstRoot(r);
    assert.equal(first.id, 'host.vfio.reset-failed');
    assert.equal(first.evidence.length, 2);
    assert.equal(byId(r, 'guest.pci.d3cold'), undefined);
  });

  it('reports bhyve\'s "Failed to emulate instruction" as the cause of the exit status in the vm-bhyve log', () => {
    const r = run('vmbhyve-emulate-instruction.txt');
    assert.equal(firstRoot(r).id, 'host.bhyve.emulate-instruction-failed');
    const exit = byId(r, 'host.vmbhyve.exit-status');
    assert.equal(exit?.rootCause, false);
    assert.deepEqual(exit?.causedBy, ['host.bhyve.emulate-instruction-failed']);
    assert.equal(r.findings.filter((f) => f.id.startsWith('host.bhyve.assert')).length, 0);
  });

  for (const name of [
    'healthy-bhyve-amdgpu-guest-syslog.txt',
    'healthy-freebsd-host-ppt.txt',
    'healthy-vbox-vmwgfx-hostlog.txt',
  ]) {
    it(`gives no error on ${name.replace(/^healthy-|\.txt$/g, '')}`, () => {
      const r = run(name);
      assert.deepEqual(notInfo(r), []);
    });
  }
});

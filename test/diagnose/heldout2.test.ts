import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DiagnoseReport } from '../../src/diagnose/types.js';
import { assertCauseFirst, byId, firstRoot, heldout, notInfo } from '../helpers/heldout.js';

/**
 * Second round of held-out real logs (issue 11), weighted to healthy logs from many environments and to
 * failure classes round 1 did not meet. Each fixture is written by the project in the shape of the real
 * output (prefixes, spacing, continuation lines), not copied.
 */
function run(name: string): DiagnoseReport {
  return heldout('heldout2', name);
}

describe('diagnose on held-out log classes, round 2', () => {
  it('reports a module refused by Secure Boot (EKEYREJECTED) in a journal', () => {
    const r = run('secureboot-key-rejected-journal.txt');
    const first = firstRoot(r);
    assert.equal(first.id, 'guest.kmod.key-rejected');
    assert.equal(first.severity, 'error');
    assert.ok(first.noCommand);
    assert.deepEqual(notInfo(r), ['guest.kmod.key-rejected']);
  });

  it('does not read the "module verification failed ... tainting kernel" line of a loaded module as a key failure', () => {
    const r = run('healthy-gce-dmesg.txt');
    assert.equal(byId(r, 'guest.kmod.key-rejected'), undefined);
  });

  it('puts unknown symbols before the installer "Unable to load the kernel module" they explain', () => {
    const r = run('unknown-symbol-installer.txt');
    const first = firstRoot(r);
    assert.equal(first.id, 'guest.nvidia.unknown-symbol');
    assert.equal(first.evidence.length, 4);
    const inst = byId(r, 'guest.nvidia.installer-load-failed');
    assert.equal(inst?.rootCause, false);
    assert.deepEqual(inst?.causedBy, ['guest.nvidia.unknown-symbol']);
  });

  it('reads the 340-era wrap ("not supported by the 340.108" / "NVIDIA Linux driver release.") as a branch mismatch', () => {
    const r = run('unsupported-337-wrap-dmesg.txt');
    assertCauseFirst(r, 'guest.nvidia.unsupported-release', [
      'guest.nvidia.probe-failed',
      'guest.nvidia.no-gpu',
    ]);
  });

  it('gives the BIOS advice lines after "Can\'t find an IRQ" no findings of their own', () => {
    const r = run('noirq-advice-dmesg.txt');
    assert.equal(r.environment?.platform, 'bhyve');
    assert.equal(firstRoot(r).id, 'guest.nvidia.no-irq');
    assert.deepEqual(notInfo(r), ['guest.nvidia.no-irq', 'guest.nvidia.probe-failed']);
  });

  it('knows an Azure/Hyper-V guest by its hv_vmbus lines and gives its healthy boot no error', () => {
    const r = run('healthy-azure-hyperv-dmesg.txt');
    assert.equal(r.environment?.platform, 'hyperv');
    assert.match(r.environment?.evidence.join('\n') ?? '', /hv_vmbus/);
    assert.deepEqual(notInfo(r), []);
    assert.ok(byId(r, 'guest.nvidia.driver-loaded'));
  });

  it('reads a Google Compute Engine DMI line as KVM and gives its healthy boot no error', () => {
    const r = run('healthy-gce-dmesg.txt');
    assert.equal(r.environment?.platform, 'kvm');
    assert.deepEqual(notInfo(r), []);
    assert.ok(byId(r, 'guest.nvidia.driver-loaded'));
  });

  for (const name of ['healthy-nvidia-smi-q.txt', 'healthy-xorg-nvidia.txt', 'healthy-vmbhyve-start.txt']) {
    it(`gives no error on a healthy ${name.replace(/^healthy-|\.txt$/g, '')}`, () => {
      const r = run(name);
      assert.deepEqual(notInfo(r), []);
    });
  }
});

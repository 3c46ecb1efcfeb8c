import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diagnoseText } from '../../src/diagnose/engine.js';
import type { DiagnoseReport } from '../../src/diagnose/types.js';
import { fixture } from '../helpers/corpus.js';
import { assertCauseFirst, byId, firstRoot, heldout } from '../helpers/heldout.js';

/**
 * Classes of logs found failing on held-out real logs (issue 11): each fixture is written by the project in
 * the shape of the real output (prefixes, spacing, continuation lines), not copied. The first finding must
 * be the root cause the original thread established; healthy logs must give no error.
 */
function run(name: string): DiagnoseReport {
  return heldout('heldout', name);
}

describe('diagnose on held-out log classes', () => {
  it('reads the pre-400 two-line "not supported by the N NVIDIA Linux" text as a driver-branch mismatch', () => {
    const r = run('unsupported-old-format-dmesg.txt');
    assertCauseFirst(r, 'guest.nvidia.unsupported-release', [
      'guest.nvidia.probe-failed',
      'guest.nvidia.no-gpu',
    ]);
  });

  it('puts the open module refusing a GPU without GSP before the probe failure it causes', () => {
    const r = run('open-module-no-gsp-journal.txt');
    const first = firstRoot(r);
    assert.match(first.id, /^guest\.nvrm\.unsupported\./);
    assert.match(first.evidence[0]?.text ?? '', /not supported by open|required GPU/);
    const probe = byId(r, 'guest.nvidia.probe-failed');
    assert.equal(probe?.rootCause, false);
    assert.deepEqual(probe?.causedBy, [first.id]);
    // every other error follows from the mismatch
    for (const f of r.findings.slice(1)) if (f.severity === 'error') assert.equal(f.rootCause, false, f.id);
  });

  it('reports a GSP boot refused with WPR2 already up as the cause of RmInitAdapter 0x62', () => {
    const r = run('gsp-wpr2-dmesg.txt');
    assertCauseFirst(r, 'guest.nvidia.gsp-wpr2-up', ['guest.nvidia.rm-init-failed']);
    assert.equal(byId(r, 'guest.nvidia.gsp-init-failed')?.rootCause, false);
    assert.equal(byId(r, 'guest.nvidia.drm-init-failed')?.rootCause, false);
  });

  it('reports a GSP-RM image that could not be prepared as the cause of RmInitAdapter', () => {
    const r = run('gsp-nomem-dmesg.txt');
    assert.equal(firstRoot(r).id, 'guest.nvidia.gsp-init-failed');
    assert.equal(byId(r, 'guest.nvidia.rm-init-failed')?.rootCause, false);
  });

  it('reads the Xorg nouveau "(EE) Unknown chipset: NVxxx" line as the cause of "no screens found"', () => {
    const r = run('xorg-nouveau-unknown-chipset.txt');
    assert.equal(r.inputs[0]?.kind, 'xorg');
    assert.equal(firstRoot(r).id, 'guest.nouveau.unknown-chipset');
    assert.equal(firstRoot(r).evidence[0]?.count, 2);
    for (const id of ['xorg.nvidia.init-failed', 'xorg.no-screens'])
      assert.equal(byId(r, id)?.rootCause, false, id);
  });

  it('reports a loaded NVIDIA module with no NVIDIA GPU in a KVM guest', () => {
    const r = run('no-nvidia-gpu-dmesg.txt');
    assert.equal(r.environment?.platform, 'kvm');
    assert.equal(firstRoot(r).id, 'guest.nvidia.no-gpu');
  });

  it('decodes RmInitAdapter in a VMware journal with a "Hardware name:" line and drops bhyve host steps', () => {
    const r = run('vmware-rminit-journal.txt');
    assert.equal(r.environment?.platform, 'vmware');
    const first = firstRoot(r);
    assert.equal(first.id, 'guest.nvidia.rm-init-failed');
    assert.equal(first.decoded?.stageCode, '0x26');
    assert.match(first.noCommand ?? '', /VMware/);
  });

  it('puts a KVM host vfio-pci "BAR n: can\'t reserve" before the guest RmInitAdapter it causes', () => {
    const r = diagnoseText(
      ['kvm-host-vfio-reserve-journal.txt', 'kvm-guest-rminit-dmesg.txt'].map((name) => ({
        name,
        text: fixture('diagnose', 'heldout', name),
      })),
    );
    const first = firstRoot(r);
    assert.equal(first.id, 'host.vfio.bar-reserve-conflict');
    assert.equal(first.evidence[0]?.count, 2);
    assert.ok(first.noCommand);
    const rm = byId(r, 'guest.nvidia.rm-init-failed');
    assert.equal(rm?.rootCause, false);
    assert.deepEqual(rm?.causedBy, ['host.vfio.bar-reserve-conflict']);
    assert.equal(r.environment?.platform, 'kvm');
  });

  it('gives no error on the PCI window and ROM lines healthy VMware guests print', () => {
    const r = run('healthy-pci-window-noise-dmesg.txt');
    assert.equal(r.environment?.platform, 'vmware');
    assert.deepEqual(
      r.findings.filter((f) => f.severity !== 'info').map((f) => f.id),
      [],
    );
  });

  it('gives no error on a healthy KVM guest boot that prints the chipset setup message', () => {
    const r = run('healthy-kvm-guest-dmesg.txt');
    assert.equal(r.environment?.platform, 'kvm');
    assert.deepEqual(
      r.findings.filter((f) => f.severity !== 'info').map((f) => f.id),
      [],
    );
    assert.ok(byId(r, 'guest.nvidia.driver-loaded'));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDmesgBoot } from '../../src/facts/dmesg-boot.js';
import { corpusFile, fixture } from '../helpers/corpus.js';

describe('parseDmesgBoot', () => {
  it('Xeon E-2274G: VT-x with EPT and UG, no VID/PostIntr', () => {
    const f = parseDmesgBoot(corpusFile('host-dmesg', 'cloudatlas-xeon-e2274g-dmesg-vtx-features.txt').body);
    assert.equal(f.cpuModel, 'Intel(R) Xeon(R) E-2274G CPU @ 4.00GHz');
    assert.equal(f.cpuVendor, 'intel');
    assert.ok(f.cpuFeatures.includes('VMX'));
    assert.ok(f.cpuFeatures.includes('SGXLC'));
    assert.ok(f.vtx);
    assert.deepEqual(f.vtx.flags, ['PAT', 'HLT', 'MTF', 'PAUSE', 'EPT', 'UG', 'VPID']);
    assert.equal(f.vtx.ept, true);
    assert.equal(f.vtx.unrestrictedGuest, true);
    assert.equal(f.vtx.postedInterrupts, false);
    assert.equal(f.vtx.disabledInBios, false);
    assert.equal(f.hypervisor, undefined);
  });

  it('FreeBSD 10.2 guest on KVM: VT-x disabled in BIOS, hypervisor KVMKVMKVM, banner', () => {
    const f = parseDmesgBoot(corpusFile('host-dmesg', 'dchdo-fbsd102-guest-on-kvm-vtx-disabled.txt').body);
    assert.equal(f.vtx?.disabledInBios, true);
    assert.deepEqual(f.vtx?.flags, ['PAT', 'HLT', 'PAUSE', 'EPT', 'UG']);
    assert.equal(f.hypervisor, 'KVMKVMKVM');
    assert.ok(f.cpuFeatures.includes('HV'));
    assert.equal(f.release?.text, '10.2-RELEASE');
    assert.match(f.banner ?? '', /^FreeBSD 10\.2-RELEASE #0 r286666/);
  });

  it('Xeon E7 on 11-CURRENT: four dmar units, VID and posted interrupts, boot video vgapci0', () => {
    const f = parseDmesgBoot(corpusFile('host-dmesg', 'fbsd11-current-xeon-e7-dmar-remap-dmesg.txt').body);
    assert.deepEqual(f.dmarUnits, ['dmar0', 'dmar1', 'dmar2', 'dmar3']);
    assert.equal(f.vtx?.virtualInterruptDelivery, true);
    assert.equal(f.vtx?.postedInterrupts, true);
    assert.equal(f.bootVideo?.driver, 'vgapci');
    assert.equal(f.bootVideo?.unit, 0);
    assert.equal(f.release?.branch, 'CURRENT');
    assert.deepEqual(f.amdViUnits, []);
  });

  it('quoted-printable mail archive: "Origin =3D" still yields the hypervisor', () => {
    const f = parseDmesgBoot(
      corpusFile('host-dmesg', 'nested-kvm-fbsd121-sysctl-hw-vmm-vid-and-dmesg-qp.txt').body,
    );
    assert.equal(f.hypervisor, 'KVMKVMKVM');
    assert.ok(f.vtx);
  });

  it('a grep with a prompt: just the VT-x line', () => {
    const f = parseDmesgBoot(corpusFile('host-dmesg', 'cloudatlas-xcloud-dmesg-grep-popcnt-ug.txt').body);
    assert.equal(f.vtx?.unrestrictedGuest, true);
    assert.ok(f.cpuFeatures.includes('POPCNT'));
    assert.equal(f.banner, undefined);
  });

  it('AMD fixture: SVM nested paging, ASIDs, AMD-Vi ivhd0, ppt attach lines, boot video', () => {
    const f = parseDmesgBoot(fixture('facts', 'dmesg-boot-amd-ryzen-svm-ivhd-ppt-fbsd143.txt'));
    assert.equal(f.cpuVendor, 'amd');
    assert.equal(f.cpuModel, 'AMD Ryzen 9 5950X 16-Core Processor');
    assert.ok(f.cpuFeatures.includes('SVM'));
    assert.ok(f.svm);
    assert.deepEqual(f.svm.flags, ['NP', 'NRIP', 'VClean', 'AFlush', 'DAssist']);
    assert.equal(f.svm.nestedPaging, true);
    assert.equal(f.svm.asids, 32768);
    assert.equal(f.svm.disabledInBios, false);
    assert.equal(f.vtx, undefined);
    assert.deepEqual(f.amdViUnits, ['ivhd0']);
    assert.deepEqual(f.dmarUnits, []);
    assert.deepEqual(
      f.ppt.map((p) => [p.unit, p.parentBus, p.slot, p.function]),
      [
        [0, 1, 0, 0],
        [1, 1, 0, 1],
      ],
    );
    assert.deepEqual(f.bootVideo, { driver: 'vgapci', unit: 0, line: 54 });
    assert.equal(f.release?.text, '14.3-RELEASE');
  });

  it('SVM disabled in BIOS; the last boot in the text wins', () => {
    const text =
      'FreeBSD 14.2-RELEASE releng/14.2-n269506-c8918d6c7412 GENERIC amd64\n  SVM: (disabled in BIOS) NP,NRIP,NAsids=32768\n' +
      'FreeBSD 14.3-RELEASE releng/14.3-n271432-8c9ce319fef7 GENERIC amd64\n  Origin="AuthenticAMD"  Id=0xa20f10\n';
    const f = parseDmesgBoot(text);
    assert.equal(f.release?.minor, 3);
    assert.equal(f.svm, undefined);
    const first = parseDmesgBoot(text.split('\n').slice(0, 2).join('\n'));
    assert.equal(first.svm?.disabledInBios, true);
    assert.equal(first.svm?.nestedPaging, true);
  });
});

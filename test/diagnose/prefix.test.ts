import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectKind, stripPrefix } from '../../src/diagnose/prefix.js';
import { corpusFile, fixture } from '../helpers/corpus.js';

const MESSAGE = 'NVRM: GPU 0000:00:06.0: RmInitAdapter failed! (0x31:0xffff:2767)';

describe('log prefixes', () => {
  it('strips every supported prefix down to the kernel message', () => {
    const lines = [
      `[    3.441376] ${MESSAGE}`,
      `[Tue Sep  9 02:26:34 2025] ${MESSAGE}`,
      `Feb 09 15:47:06 debian kernel: ${MESSAGE}`,
      `Feb  9 15:47:06 debian kernel: [    3.441376] ${MESSAGE}`,
      `2025-02-09T15:47:06+0100 debian kernel: ${MESSAGE}`,
      `kern:    info: [2024-08-11T12:19:05.867315943Z]: ${MESSAGE}`,
      `kern  :err   : [    3.441376] ${MESSAGE}`,
      `<3>[    3.441376] ${MESSAGE}`,
      `[  +0.000421] ${MESSAGE}`,
      `[Nov30 09:04] ${MESSAGE}`,
      `kernel: ${MESSAGE}`,
      `> ${MESSAGE}`,
      `               ${MESSAGE}`,
      `${MESSAGE}\r`,
    ];
    for (const line of lines) assert.equal(stripPrefix(line), MESSAGE, line);
  });

  it('strips vm-bhyve.log timestamps, also with a locale month name', () => {
    assert.equal(stripPrefix('Jul 24 23:47:31: starting bhyve (run 1)'), 'starting bhyve (run 1)');
    assert.equal(stripPrefix('12月 16 19:13:18: bhyve exited with status 4'), 'bhyve exited with status 4');
    assert.equal(stripPrefix('Jul 24 23:47:31:  [cpu: 4]'), '[cpu: 4]');
  });

  it('leaves text without a prefix alone', () => {
    assert.equal(
      stripPrefix('bhyve: passthru requires guest memory to be wired'),
      'bhyve: passthru requires guest memory to be wired',
    );
    assert.equal(
      stripPrefix('|   0  Tesla P4                       Off |'),
      '|   0  Tesla P4                       Off |',
    );
    assert.equal(stripPrefix(''), '');
  });
});

describe('input kind detection', () => {
  const lines = (category: string, name: string) => corpusFile(category, name).body.split('\n');
  it('reads dmesg -H output (a clock line, then relative times) as dmesg', () => {
    assert.equal(
      detectKind([`[Nov30 09:04] ${MESSAGE}`, `[  +0.000421] ${MESSAGE}`, `[  +0.200771] x`]),
      'dmesg',
    );
  });

  it('recognises the corpus formats', () => {
    assert.equal(
      detectKind(lines('guest-dmesg', 'vmware-guest-debian11-rminitadapter-0x26-0x56-1463-oops.txt')),
      'journal',
    );
    assert.equal(
      detectKind(lines('guest-dmesg', 'cloudatlas-bhyve-intpin-patch-tesla-p4-rminitadapter-ctime.txt')),
      'dmesg-ctime',
    );
    assert.equal(detectKind(lines('guest-dmesg', 'talos-kvm-guest-vgaarb-two-vga-devices.txt')), 'talos');
    assert.equal(
      detectKind(lines('guest-dmesg', 'bhyve-debian13-guest-amdgpu-rx9060xt-success.txt')),
      'dmesg-raw',
    );
    assert.equal(detectKind(lines('guest-dmesg', 'legacy-2003-syslog-nvidia-cant-find-irq.txt')), 'journal');
    assert.equal(
      detectKind(lines('bhyve-errors', 'yshdsnd-vm-bhyve-log-exit-status-4-restart-passthru.txt')),
      'vm-bhyve-log',
    );
    assert.equal(detectKind(lines('bhyve-errors', 'cloudatlas-passthru-requires-wired.txt')), 'bhyve-stderr');
    assert.equal(
      detectKind(lines('guest-lspci', 'nvidia-smi-kvm-ubuntu-vm-rtx2080-435-partial.txt')),
      'nvidia-smi',
    );
    assert.equal(detectKind(lines('guest-lspci', 'cloudhv-q35-guest-lspci-rtx3080lhr-usb.txt')), 'lspci');
  });

  it('recognises the project fixtures and an Xorg log', () => {
    assert.equal(detectKind(fixture('diagnose', 'healthy-nvidia-guest-dmesg.txt').split('\n')), 'dmesg');
    assert.equal(detectKind(fixture('diagnose', 'healthy-nvidia-smi.txt').split('\n')), 'nvidia-smi');
    assert.equal(
      detectKind(fixture('diagnose', 'heldout2', 'healthy-nvidia-smi-q.txt').split('\n')),
      'nvidia-smi',
    );
    const xorg = [
      '[    23.114] (II) NVIDIA(0): Creating default Display subsection in Screen section',
      '[    23.114] (EE) NVIDIA(GPU-0): Failed to initialize the NVIDIA GPU at PCI:0:6:0.  Please',
    ];
    assert.equal(detectKind(xorg), 'xorg');
    assert.equal(detectKind([]), 'unknown');
  });
});

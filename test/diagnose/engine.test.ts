import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { diagnoseStreams, diagnoseText } from '../../src/diagnose/engine.js';
import { EVIDENCE_LIMIT, Matcher } from '../../src/diagnose/matcher.js';
import type { DiagnoseReport, Signature } from '../../src/diagnose/types.js';
import { corpus, corpusFile, fixture } from '../helpers/corpus.js';

function run(name: string, text: string): DiagnoseReport {
  return diagnoseText([{ name, text }]);
}
function ids(r: DiagnoseReport): string[] {
  return r.findings.map((f) => f.id);
}
function errors(r: DiagnoseReport): string[] {
  return r.findings.filter((f) => f.severity === 'error').map((f) => f.id);
}
function fromCorpus(category: string, name: string): DiagnoseReport {
  return run(name, corpusFile(category, name).body);
}

describe('diagnose engine on the corpus', () => {
  it('reads every guest-dmesg, bhyve-errors and guest-lspci file without throwing', () => {
    for (const category of ['guest-dmesg', 'bhyve-errors', 'guest-lspci']) {
      for (const f of corpus(category)) {
        const r = run(f.name, f.body);
        assert.equal(r.schemaVersion, 1);
        for (const finding of r.findings) assert.ok(finding.evidence.length > 0, `${f.name} ${finding.id}`);
      }
    }
  });

  for (const name of [
    'cloudatlas-bhyve-fbsd15-tesla-p4-rminitadapter-nvkmskapi.txt',
    'cloudatlas-bhyve-intpin-patch-tesla-p4-rminitadapter-ctime.txt',
  ]) {
    it(`decodes ${name} as VBIOS POST failure with the INTx route as info`, () => {
      const r = fromCorpus('guest-dmesg', name);
      const first = r.findings[0];
      assert.equal(first?.id, 'guest.nvidia.rm-init-failed');
      assert.equal(first?.rootCause, true);
      assert.equal(first?.decoded?.stage, 'RM_INIT_VBIOS_POST_FAILED');
      assert.equal(first?.decoded?.status, 'NV_ERR_GENERIC');
      assert.equal(first?.evidence[0]?.count, 3);
      const intx = r.findings.find((f) => f.id === 'guest.intx.no-route');
      assert.equal(intx?.severity, 'info');
      const drm = r.findings.find((f) => f.id === 'guest.nvidia.drm-init-failed');
      assert.equal(drm?.rootCause, false);
      assert.deepEqual(drm?.causedBy, ['guest.nvidia.rm-init-failed']);
      assert.ok(r.findings.indexOf(drm as never) > r.findings.indexOf(intx as never));
    });
  }

  it('reports the journal prefix line number and text without the prefix', () => {
    const r = fromCorpus('guest-dmesg', 'cloudatlas-bhyve-fbsd15-tesla-p4-rminitadapter-nvkmskapi.txt');
    const ev = r.findings[0]?.evidence[0];
    assert.equal(ev?.line, 14);
    assert.equal(ev?.text, 'NVRM: GPU 0000:00:06.0: RmInitAdapter failed! (0x31:0xffff:2767)');
    assert.equal(r.inputs[0]?.kind, 'dmesg');
  });

  it('decodes the 0x23 pre-init failure', () => {
    const r = fromCorpus('guest-dmesg', 'cloudatlas-bhyve-ubuntu-p4-570-isa-irq11-rminit-0x23.txt');
    assert.equal(r.findings[0]?.id, 'guest.nvidia.rm-init-failed');
    assert.equal(r.findings[0]?.decoded?.stage, 'RM_INIT_GPU_PRE_INIT_FAILED');
  });

  it('finds the legacy "Can\'t find an IRQ" as no-irq (syslog with quote marks and plain dmesg)', () => {
    for (const name of [
      'legacy-2003-syslog-nvidia-cant-find-irq.txt',
      'legacy-26-pirq-mask-nvrm-cant-find-irq.txt',
    ])
      assert.equal(fromCorpus('guest-dmesg', name).findings[0]?.id, 'guest.nvidia.no-irq', name);
  });

  it('finds fallen-off-bus in the multi-line form and the Xid 79 form', () => {
    const multi = fromCorpus('guest-dmesg', 'nvsentinel-fallen-off-bus-multiline-no-xid-open-570.txt');
    assert.equal(multi.findings[0]?.id, 'guest.nvidia.fallen-off-bus');
    assert.equal(multi.findings.find((f) => f.id === 'guest.nvidia.probe-failed')?.rootCause, false);
    const xid = fromCorpus('guest-dmesg', 'baremetal-rtx3080-xid79-fallen-off-bus-pid-elided.txt');
    assert.equal(xid.findings[0]?.id, 'guest.nvidia.fallen-off-bus');
    assert.equal(xid.findings.find((f) => f.id === 'guest.nvidia.xid')?.decoded?.xid, 79);
  });

  it('puts D3cold before the attach failure it causes', () => {
    const r = fromCorpus('guest-dmesg', 'kvm-host-d3cold-rminitadapter-0x22-0x56-667.txt');
    assert.equal(r.findings[0]?.id, 'guest.pci.d3cold');
    const rm = r.findings.find((f) => f.id === 'guest.nvidia.rm-init-failed');
    assert.equal(rm?.rootCause, false);
    assert.equal(rm?.decoded?.status, 'NV_ERR_NOT_SUPPORTED');
  });

  it('finds osInitNvMapping, AMD init failures and nouveau ownership', () => {
    assert.ok(
      ids(fromCorpus('guest-dmesg', 'cmpunlocker-rminitadapter-0x22-0x56-894-cannot-attach.txt')).includes(
        'guest.nvidia.osinit-mapping',
      ),
    );
    assert.equal(
      fromCorpus('guest-dmesg', 'proxmox-guest-amdgpu-psp-ring-failed.txt').findings[0]?.id,
      'guest.gpu.init-failed',
    );
    const nouveau = fromCorpus(
      'guest-dmesg',
      'cloudatlas-bhyve-ubuntu-p4-nouveau-line-and-nvidia-smi-none.txt',
    );
    assert.deepEqual(ids(nouveau), ['guest.nvidia.nouveau-bound', 'guest.nvidia.no-devices']);
    assert.equal(nouveau.findings[1]?.rootCause, false);
  });

  it('raises no error on the negative and success cases', () => {
    for (const name of [
      'negative-baremetal-amd-iommu-int-a-not-connected.txt',
      'negative-baremetal-amd-pcie-bridge-int-a-iommu-groups.txt',
      'bhyve-debian13-guest-amdgpu-rx9060xt-success.txt',
      'talos-kvm-guest-vgaarb-two-vga-devices.txt',
      'qubes-xen-hvm-rtx5070-pci-enum-bars.txt',
    ])
      assert.deepEqual(ids(fromCorpus('guest-dmesg', name)), [], name);
    for (const f of corpus('guest-lspci')) assert.deepEqual(errors(run(f.name, f.body)), [], f.name);
  });

  it('reads bhyve stderr and vm-bhyve logs', () => {
    const expect: [string, string][] = [
      ['cloudatlas-passthru-requires-wired.txt', 'host.bhyve.memory-not-wired'],
      ['iohyve-issue166-vm-setup-memory-file-exists.txt', 'host.bhyve.memory-not-wired'],
      ['cneira-jail-failed-open-dev-pci.txt', 'host.bhyve.dev-pci-denied'],
      ['fbsdlist-2026-bootrom-alloc-vm-mmap-mapseg-rtx2080ti.txt', 'host.bhyve.bootrom-mmap-failed'],
      ['fbsdlist-2019-gt710-out-of-vm-passthrough-write.txt', 'host.bhyve.passthru-bar-assert'],
      [
        'nomadbsd-issue131-rtx2080ti-modify-mmio-map-pptdev-mmio-failed.txt',
        'host.bhyve.map-pptdev-mmio-failed',
      ],
      ['vmbhyve-issue199-unable-to-load-vmm-kldstat.txt', 'host.vmbhyve.vmm-load-failed'],
      ['vmbhyve-issue252-vmm-not-initialised-amd-turion.txt', 'host.vmbhyve.vmm-not-initialised'],
      ['vmbhyve-issue285-unsupported-loader-uefi.txt', 'host.vmbhyve.unsupported-loader'],
      ['yshdsnd-vm-bhyve-log-exit-status-4-restart-passthru.txt', 'host.vmbhyve.exit-status'],
    ];
    for (const [name, id] of expect) assert.equal(fromCorpus('bhyve-errors', name).findings[0]?.id, id, name);
    const wired = fromCorpus('bhyve-errors', 'cloudatlas-passthru-requires-wired.txt');
    assert.deepEqual(wired.findings[1]?.causedBy, ['host.bhyve.memory-not-wired']);
    const exit = fromCorpus('bhyve-errors', 'yshdsnd-vm-bhyve-log-exit-status-4-restart-passthru.txt');
    assert.equal(exit.findings[0]?.decoded?.status, 4);
    assert.equal(exit.findings[0]?.evidence[0]?.line, 7);
    assert.equal(exit.findings.length, 1, 'status 0 (reboot) is not an error');
    assert.equal(exit.inputs[0]?.kind, 'vm-bhyve-log');
  });
});

describe('diagnose engine on project fixtures', () => {
  for (const name of [
    'healthy-nvidia-guest-dmesg.txt',
    'healthy-nvidia-guest-journal.txt',
    'healthy-nvidia-smi.txt',
  ]) {
    it(`finds no error in ${name}`, () => {
      assert.deepEqual(errors(run(name, fixture('diagnose', name))), []);
    });
  }

  it('reports the driver version and the expected INTx fallback as info on a healthy guest', () => {
    const r = run('dmesg', fixture('diagnose', 'healthy-nvidia-guest-dmesg.txt'));
    assert.deepEqual(ids(r).sort(), ['guest.intx.no-route', 'guest.nvidia.driver-loaded']);
    assert.equal(
      r.findings.find((f) => f.id === 'guest.nvidia.driver-loaded')?.decoded?.version,
      '550.54.15',
    );
    assert.equal(
      run('j', fixture('diagnose', 'healthy-nvidia-guest-journal.txt')).inputs[0]?.kind,
      'journal',
    );
    assert.equal(run('s', fixture('diagnose', 'healthy-nvidia-smi.txt')).inputs[0]?.kind, 'nvidia-smi');
  });
});

describe('diagnose engine mechanics', () => {
  it('groups repeated lines and caps the evidence kept', () => {
    const lines: string[] = [];
    for (let i = 0; i < 50; i++)
      lines.push(`[ ${i}.000000] NVRM: Xid (PCI:0000:0${i % 8}:00): 13, pid=${i}, Graphics`);
    for (let i = 0; i < 10; i++)
      lines.push('[ 99.000000] NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus');
    const xid = run('big', `${lines.join('\n')}\n`).findings.find((f) => f.id === 'guest.nvidia.xid');
    assert.equal(xid?.occurrences, 60);
    assert.equal(xid?.evidence.length, EVIDENCE_LIMIT);
    assert.equal(xid?.decoded?.xid, 13);
  });

  it('gives the same report from a stream cut at every size as from the whole text', async () => {
    const body = corpusFile('guest-dmesg', 'cloudatlas-bhyve-ubuntu-p4-570-isa-irq11-rminit-0x23.txt').body;
    const expected = run('x', body);
    for (const size of [1, 7, 64, 333]) {
      const parts: string[] = [];
      for (let i = 0; i < body.length; i += size) parts.push(body.slice(i, i + size));
      const r = await diagnoseStreams([{ name: 'x', stream: Readable.from(parts) }]);
      assert.deepEqual(r, expected, `chunk size ${size}`);
    }
  });

  it('counts lines across several inputs separately and handles a last line without newline', async () => {
    const r = await diagnoseStreams([
      { name: 'a', stream: Readable.from(['one\ntwo\n']) },
      { name: 'b', stream: Readable.from(['x\nbhyve: passthru requires guest memory to be wired']) },
    ]);
    assert.deepEqual(r.findings[0]?.evidence[0], {
      file: 'b',
      line: 2,
      text: 'bhyve: passthru requires guest memory to be wired',
    });
    assert.deepEqual(
      r.inputs.map((i) => i.lines),
      [2, 2],
    );
  });

  it('does not treat bare-metal bridge INT A lines as a GPU routing problem', () => {
    const r = run(
      'x',
      "[    0.495565] pci 0000:00:00.2: can't derive routing for PCI INT A\n[    0.495566] pci 0000:00:00.2: PCI INT A: not connected\n",
    );
    assert.deepEqual(r.findings, []);
  });

  it('finds overlapping keywords in one line (keywords ending inside other keywords)', () => {
    const base: Signature = {
      id: 'guest.test.a',
      patterns: ['she'],
      keywords: ['she'],
      sources: ['guest-kernel'],
      severity: 'warning',
      title: 't',
      explanation: 'e',
      fix: [],
      rootCause: true,
      consequenceOf: [],
      references: [],
      examples: ['she'],
    };
    const sigs: Signature[] = [
      base,
      { ...base, id: 'guest.test.b', patterns: ['he'], keywords: ['he'] },
      { ...base, id: 'guest.test.c', patterns: ['hers'], keywords: ['hers'] },
      { ...base, id: 'guest.test.d', patterns: ['his'], keywords: ['his'] },
    ];
    const matcher = new Matcher(sigs);
    const text = Buffer.from('ushers\nthis\n');
    const lines = matcher.scan('x', text, text.length, 0);
    assert.equal(lines, 2);
    const found = matcher.report().findings.map((f) => `${f.id}:${f.evidence[0]?.line}`);
    assert.deepEqual(found, ['guest.test.a:1', 'guest.test.b:1', 'guest.test.c:1', 'guest.test.d:2']);
  });
});

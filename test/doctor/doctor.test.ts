import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doctor } from '../../src/doctor/doctor.js';
import type { CheckResult } from '../../src/doctor/types.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import type { Snapshot } from '../../src/host/snapshot-format.js';
import { corpusFile } from '../helpers/corpus.js';
import { cli, commandOut, example, setCommand, writeSnapshot } from '../helpers/snap.js';

async function check(snap: Snapshot, vm?: string): Promise<Map<string, CheckResult>> {
  const { results } = await doctor(new SnapshotHost(snap), vm ? { vm } : {});
  return new Map(results.map((r) => [r.id, r]));
}

const status = (m: Map<string, CheckResult>, id: string) => m.get(id)?.status;
const fails = (m: Map<string, CheckResult>) =>
  [...m.values()].filter((r) => r.status === 'FAIL').map((r) => r.id);

const MANIFEST = (sha: string) =>
  JSON.stringify({
    format: 'bhyve-gpu-install',
    version: 1,
    installedAt: '2026-11-20T10:00:00Z',
    source: { repo: 'https://git.FreeBSD.org/src.git', branch: 'releng/15.0', commit: 'a'.repeat(40) },
    patches: [{ name: 'intpin-quirk', sha256: 'b'.repeat(64) }],
    files: [{ path: '/usr/sbin/bhyve', sha256: sha }],
  });

/** The Tesla P4 host after the whole procedure: patched bhyve installed, wired memory set. */
function healthy(): Snapshot {
  const snap = example('tesla-p4-15.0');
  const sha = commandOut(snap, ['sha256', '-q', '/usr/sbin/bhyve']).trim();
  snap.files['/var/db/bhyve-gpu/installed.json'] = MANIFEST(sha);
  snap.missing = snap.missing.filter((m) => m !== '/var/db/bhyve-gpu/installed.json');
  const conf = '/zdata/vms/xdev/xdev.conf';
  snap.files[conf] =
    `${(snap.files[conf] as string).replace('passthru0="1/0/0"', 'passthru0="1/0/0=6:0"')}wired_memory="yes"\n`;
  return snap;
}

describe('doctor on the example hosts', () => {
  it('Tesla P4 on 15.0: only the missing INTPIN quirk fails; wired memory is a warning', async () => {
    const m = await check(example('tesla-p4-15.0'), 'xdev');
    assert.deepEqual(fails(m), ['gpu.1/0/0.interrupts']);
    assert.deepEqual(
      m.get('gpu.1/0/0.interrupts')?.commands?.map((c) => c.slice(0, 2).join(' ')),
      ['bhyve-gpu source', 'bhyve-gpu patch', 'bhyve-gpu build', 'bhyve-gpu install'],
    );
    assert.deepEqual(m.get('gpu.1/0/0.interrupts')?.commands?.at(-1)?.at(-1), '--yes');
    assert.equal(status(m, 'vm.xdev.wired-memory'), 'WARN');
    assert.equal(status(m, 'host.iommu'), 'PASS');
  });

  it('RTX 2080 Ti on 14.3: kld_list, stale pptdevs on the route NIC, GPU not reserved, bhyveload', async () => {
    const m = await check(example('rtx2080ti-14.3'), 'cuda');
    assert.deepEqual(
      new Set(fails(m)),
      new Set([
        'host.vmm',
        'host.pptdevs',
        'gpu.2/0/0.reserved',
        'gpu.2/0/0.interrupts',
        'vm.cuda.passthru',
        'vm.cuda.loader',
      ]),
    );
    assert.match(m.get('host.pptdevs')?.evidence.join('\n') ?? '', /3\/0\/0 is now igb0.*locks the host out/);
    assert.deepEqual(m.get('host.vmm')?.commands?.[0], ['sysrc', '-f', '/boot/loader.conf', 'vmm_load=YES']);
    assert.equal(m.has('gpu.0/2/0.reserved'), false, 'the console iGPU is not a candidate');
  });

  it('a finished host passes everything', async () => {
    const m = await check(healthy(), 'xdev');
    assert.deepEqual(fails(m), []);
    assert.deepEqual(
      [...m.values()].filter((r) => r.status !== 'PASS').map((r) => r.id),
      [],
    );
  });
});

describe('doctor on host variants it has not seen', () => {
  it('no IOMMU: FAIL with the firmware fix', async () => {
    const snap = healthy();
    const acpi = commandOut(snap, ['acpidump', '-t']).replace(/\/\*\n {2}DMAR:[\s\S]*?\*\/\n/, '');
    setCommand(snap, ['acpidump', '-t'], acpi);
    const m = await check(snap, 'xdev');
    assert.deepEqual(fails(m), ['host.iommu']);
    assert.match(m.get('host.iommu')?.fix ?? '', /VT-d/);
  });

  it('vmm in kld_list only: FAIL on vmm and the reservation', async () => {
    const snap = healthy();
    snap.files['/boot/loader.conf'] = (snap.files['/boot/loader.conf'] as string).replace(
      'vmm_load="YES"\n',
      '',
    );
    snap.files['/etc/rc.conf'] = `${snap.files['/etc/rc.conf'] as string}kld_list="vmm nmdm"\n`;
    const m = await check(snap, 'xdev');
    assert.deepEqual(fails(m), ['host.vmm']);
    assert.match(m.get('host.vmm')?.evidence.join('\n') ?? '', /too late|after the PCI drivers/);
  });

  it('freebsd-update replaced the patched bhyve: FAIL naming both hashes', async () => {
    const snap = healthy();
    setCommand(snap, ['sha256', '-q', '/usr/sbin/bhyve'], `${'c'.repeat(64)}\n`);
    const m = await check(snap, 'xdev');
    assert.equal(status(m, 'host.bhyve'), 'FAIL');
    assert.match(m.get('host.bhyve')?.evidence.join('\n') ?? '', /changed since bhyve-gpu installed it/);
    assert.equal(status(m, 'gpu.1/0/0.interrupts'), 'FAIL');
  });

  it('no hash captured but freebsd-update moved the userland on since the install: WARN', async () => {
    const snap = healthy();
    const m = JSON.parse(snap.files['/var/db/bhyve-gpu/installed.json'] as string);
    m.userland = '15.0-RELEASE-p1';
    snap.files['/var/db/bhyve-gpu/installed.json'] = JSON.stringify(m);
    snap.commands = snap.commands.filter((c) => c.argv[0] !== 'sha256');
    const r = await check(snap, 'xdev');
    assert.equal(status(r, 'host.bhyve'), 'WARN');
    assert.match(r.get('host.bhyve')?.evidence.join('\n') ?? '', /15\.0-RELEASE-p2 but was 15\.0-RELEASE-p1/);
  });

  it('a GPU with a 32 GiB BAR1 fits alone (WARN); two such BARs do not (FAIL)', async () => {
    const snap = healthy();
    const big = commandOut(snap, ['pciconf', '-lbcv']).replace('size 268435456', 'size 34359738368');
    setCommand(snap, ['pciconf', '-lbcv'], big);
    let m = await check(snap, 'xdev');
    assert.equal(status(m, 'gpu.1/0/0.mmio'), 'WARN');
    assert.match(m.get('gpu.1/0/0.mmio')?.fix ?? '', /Above 4G/);
    const two = big.replace(
      'bar   [1c] = type Prefetchable Memory, range 64, base 0x6010000000, size 33554432',
      'bar   [1c] = type Prefetchable Memory, range 64, base 0x6810000000, size 34359738368',
    );
    setCommand(snap, ['pciconf', '-lbcv'], two);
    m = await check(snap, 'xdev');
    assert.equal(status(m, 'gpu.1/0/0.mmio'), 'FAIL');
  });

  it('a passthru entry that is not a valid B/S/F is a FAIL, not a crash', async () => {
    const snap = healthy();
    const conf = '/zdata/vms/xdev/xdev.conf';
    snap.files[conf] = `${snap.files[conf] as string}passthru1="300/0/0"\n`;
    const m = await check(snap, 'xdev');
    assert.equal(status(m, 'vm.xdev.passthru'), 'FAIL');
    assert.match(
      m.get('vm.xdev.passthru')?.evidence.join('\n') ?? '',
      /passthru1: "300\/0\/0" is not bus\/slot\/function|passthru1: no device at 300\/0\/0/,
    );
  });

  it('no acpidump and no IOMMU unit in dmesg.boot: WARN with the check to run', async () => {
    const snap = healthy();
    snap.commands = snap.commands.filter((c) => c.argv[0] !== 'acpidump');
    snap.files['/var/run/dmesg.boot'] = (snap.files['/var/run/dmesg.boot'] as string).replace(
      /^dmar\d.*\n/gm,
      '',
    );
    const m = await check(snap, 'xdev');
    assert.equal(status(m, 'host.iommu'), 'WARN');
    assert.match(m.get('host.iommu')?.fix ?? '', /acpidump -t/);
  });

  it('AMD host with IVRS but amdvi disabled: FAIL with the loader tunable', async () => {
    const snap = healthy();
    setCommand(
      snap,
      ['acpidump', '-t'],
      commandOut(snap, ['acpidump', '-t']).replace('DMAR: Length=168', 'IVRS: Length=208'),
    );
    const m = await check(snap, 'xdev');
    assert.equal(status(m, 'host.iommu.amdvi'), 'FAIL');
    assert.deepEqual(m.get('host.iommu.amdvi')?.commands?.[0], [
      'sysrc',
      '-f',
      '/boot/loader.conf',
      'hw.vmm.amdvi.enable=1',
    ]);
  });

  it('a running guest is reported; an unknown capture is UNKNOWN, not a crash', async () => {
    const snap = healthy();
    snap.files['/dev/vmm/xdev'] = '';
    snap.missing = snap.missing.filter((p) => p !== '/dev/vmm/');
    snap.commands = snap.commands.filter((c) => c.argv[0] !== 'acpidump');
    let m = await check(snap, 'xdev');
    assert.equal(status(m, 'vm.xdev.instance'), 'WARN');
    assert.equal(status(m, 'host.iommu'), 'PASS', 'dmesg.boot shows the dmar units');
    delete snap.files['/var/run/dmesg.boot'];
    m = await check(snap, 'xdev');
    assert.equal(status(m, 'host.iommu'), 'UNKNOWN');
    assert.equal(status(m, 'host.cpu'), 'UNKNOWN');
  });
});

describe('doctor CLI', () => {
  it('--json prints the checklist; exit 1 with a FAIL, 0 without', () => {
    const r = cli(['doctor', '--host', 'examples/hosts/tesla-p4-15.0.json', '--vm', 'xdev', '--json']);
    assert.equal(r.status, 1);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.schemaVersion, 1);
    assert.equal(doc.summary.fail, 1);
    assert.ok(
      doc.checks.every((c: { status: string }) => ['PASS', 'WARN', 'FAIL', 'UNKNOWN'].includes(c.status)),
    );
    const ok = cli(['doctor', '--host', writeSnapshot(healthy()), '--vm', 'xdev']);
    assert.equal(ok.status, 0, ok.stdout);
  });

  it('--guest-log runs the log through diagnose: the P4 RmInitAdapter failure is a FAIL', () => {
    const log = corpusFile('guest-dmesg', 'cloudatlas-bhyve-fbsd15-tesla-p4-rminitadapter-nvkmskapi.txt');
    const r = cli([
      'doctor',
      '--host',
      writeSnapshot(healthy()),
      '--vm',
      'xdev',
      '--guest-log',
      log.path,
      '--json',
    ]);
    const doc = JSON.parse(r.stdout);
    const ids = doc.checks
      .filter((c: { status: string }) => c.status === 'FAIL')
      .map((c: { id: string }) => c.id);
    assert.ok(ids.includes('guest.guest.nvidia.rm-init-failed'), ids.join(', '));
    assert.equal(r.status, 1);
  });
});

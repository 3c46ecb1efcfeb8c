import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseArgv } from '../../src/cli/main.js';
import { doctor } from '../../src/doctor/doctor.js';
import type { CheckResult } from '../../src/doctor/types.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import type { Snapshot } from '../../src/host/snapshot-format.js';
import { adviceProblems } from '../helpers/advice.js';
import { REPO_ROOT } from '../helpers/corpus.js';
import { p4NoLoaderConf, p4VmmNotLoaded, p4VtxDisabled, rtxConsoleOnly } from '../helpers/scenarios.js';
import { cli, example, tempDir, writeSnapshot } from '../helpers/snap.js';

/** Regression tests for the numbered cases of issue 9 (and the doctor/scan ones of issue 16). */

async function checks(snap: Snapshot, vm?: string): Promise<Map<string, CheckResult>> {
  const { results } = await doctor(new SnapshotHost(snap), vm ? { vm } : {});
  return new Map(results.map((r) => [r.id, r]));
}

const GUEST_INTPIN = join(REPO_ROOT, 'test/fixtures/guest/bhyve-ubuntu-p4-intpin-missing.json');
const P4 = join(REPO_ROOT, 'examples/hosts/tesla-p4-15.0.json');
const RTX = join(REPO_ROOT, 'examples/hosts/rtx2080ti-14.3.json');

describe('issue 9 case 3: vmm_load="YES" but vmm not loaded yet', () => {
  it('doctor names the GPU in attach --now, and attach --now loads vmm.ko before binding', async () => {
    const snap = p4VmmNotLoaded();
    const m = await checks(snap, 'xdev');
    assert.deepEqual(m.get('gpu.1/0/0.reserved')?.commands, [
      ['bhyve-gpu', 'attach', '1/0/0', '--vm', 'xdev', '--now', '--yes'],
    ]);
    const file = writeSnapshot(snap);
    const r = cli(['--host', file, '--json', 'attach', '1/0/0', '--now', '--dry-run']);
    assert.equal(r.status, 0, r.stderr);
    const steps = JSON.parse(r.stdout).plan.steps as { kind: string; argv?: string[] }[];
    assert.deepEqual(
      steps.filter((s) => s.kind === 'command').map((s) => s.argv),
      [
        ['kldload', 'vmm'],
        ['devctl', 'set', 'driver', '-f', 'pci0:1:0:0', 'ppt'],
      ],
      'the devctl step is not dropped',
    );
  });
});

describe('issue 9 case 4: PASS only on evidence', () => {
  it('vmm.ko not loaded: the vmm check is not PASS, and the IOMMU is not "enabled for vmm" without hw.vmm', async () => {
    const m = await checks(p4VmmNotLoaded());
    assert.equal(m.get('host.vmm')?.status, 'WARN');
    assert.deepEqual(m.get('host.vmm')?.commands, [['kldload', 'vmm']]);
    assert.equal(m.get('host.iommu')?.status, 'WARN');
    assert.match(
      m.get('host.iommu')?.evidence.join('\n') ?? '',
      /hw\.vmm\.iommu\.enable: not readable \(vmm\.ko is not loaded\)/,
    );
  });

  it('loader.conf not captured: vmm is UNKNOWN ("unknown"), never "not configured"', async () => {
    const snap = p4NoLoaderConf();
    const m = await checks(snap);
    assert.equal(m.get('host.vmm')?.status, 'UNKNOWN');
    assert.match(m.get('host.vmm')?.evidence.join('\n') ?? '', /vmm_load in loader\.conf: unknown/);
    assert.ok(m.get('host.vmm')?.noCommand);
    const s = cli(['--host', writeSnapshot(snap), 'scan']);
    assert.doesNotMatch(s.stdout, /not configured to load at boot/);
    assert.match(s.stdout, /vmm: loaded yes; loader\.conf not read/);
  });

  it('the CPU evidence quotes the whole dmesg line that made the verdict (issue 16 case 2)', async () => {
    const m = await checks(p4VtxDisabled());
    assert.equal(m.get('host.cpu')?.status, 'FAIL');
    assert.match(
      m.get('host.cpu')?.evidence[0] ?? '',
      /VT-x: \(disabled in BIOS\) PAT,HLT,MTF,PAUSE,EPT,UG,VPID$/,
    );
    assert.ok(m.get('host.cpu')?.noCommand, 'a firmware setting: no command');
  });

  it('what was not read is UNKNOWN: passthru entries without the PCI list, the OS without uname or dmesg.boot', async () => {
    const noPci = example('tesla-p4-15.0');
    noPci.commands = noPci.commands.filter((c) => c.argv[0] !== 'pciconf');
    const m = await checks(noPci, 'xdev');
    assert.equal(m.get('vm.xdev.passthru')?.status, 'UNKNOWN');
    assert.ok(m.get('vm.xdev.passthru')?.noCommand);
    const bare = example('tesla-p4-15.0');
    bare.commands = bare.commands.filter((c) => !['uname', 'freebsd-version'].includes(c.argv[0] as string));
    assert.equal((await checks(bare)).has('host.os'), false, 'the dmesg.boot banner says FreeBSD');
    delete bare.files['/var/run/dmesg.boot'];
    assert.equal((await checks(bare)).get('host.os')?.status, 'UNKNOWN');
  });

  it('one source of truth for the release: a release read from dmesg.boot is not also "unknown"', () => {
    const snap = example('tesla-p4-15.0');
    snap.commands = snap.commands.filter((c) => c.argv[0] !== 'uname' && c.argv[0] !== 'freebsd-version');
    const r = cli(['--host', writeSnapshot(snap), 'scan', '--json']);
    const host = JSON.parse(r.stdout).host;
    assert.match(host.release, /^15\.0-RELEASE/);
    assert.ok(!host.unknown.some((u: string) => /^release: .*not captured/.test(u)), host.unknown.join('\n'));
  });
});

describe('issue 9 case 5: the console GPU is never proposed', () => {
  it('only the console iGPU is left: no command attaches it, and the VM checks say why none', async () => {
    const snap = rtxConsoleOnly();
    const m = await checks(snap, 'cuda');
    const all = [...m.values()].flatMap((r) => r.commands ?? []);
    assert.ok(!all.some((c) => c.includes('0/2/0')), JSON.stringify(all));
    assert.match(m.get('vm.cuda.passthru')?.noCommand ?? '', /host console/);
    assert.equal(m.get('gpu.0/2/0.console')?.status, 'WARN');
    assert.equal(m.has('gpu.0/2/0.reserved'), false, 'the console is not measured as a candidate');
  });

  it('the console GPU reserved in pptdevs: FAIL whose fix detaches it, and no advice that completes the reservation', async () => {
    const snap = example('rtx2080ti-14.3');
    snap.files['/boot/loader.conf'] = (snap.files['/boot/loader.conf'] as string).replace(
      'pptdevs="3/0/0"',
      'pptdevs="0/2/0"',
    );
    const m = await checks(snap);
    assert.equal(m.get('gpu.0/2/0.console')?.status, 'FAIL');
    assert.deepEqual(m.get('gpu.0/2/0.console')?.commands, [['bhyve-gpu', 'detach', '0/2/0', '--yes']]);
    assert.equal(m.has('gpu.0/2/0.reserved'), false);
    const file = writeSnapshot(snap);
    assert.deepEqual(await adviceProblems([[['bhyve-gpu', 'detach', '0/2/0', '--yes']]], file), []);
  });
});

describe('issue 9 case 6: doctor --guest-log on a log diagnose refuses', () => {
  for (const [name, bytes] of [
    ['empty', Buffer.alloc(0)],
    ['blank', Buffer.from('\n  \n\t\n')],
    ['binary', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0])],
  ] as const) {
    it(`${name} log: FAIL with no "no failure signature" PASS, exit 1`, () => {
      const log = join(tempDir(), `${name}.log`);
      writeFileSync(log, bytes);
      const r = cli(['--host', P4, 'doctor', '--guest-log', log, '--json']);
      assert.equal(r.status, 1, r.stderr);
      const c = JSON.parse(r.stdout).checks.find((x: CheckResult) => x.id === 'guest.log');
      assert.equal(c.status, 'FAIL');
      assert.match(c.evidence[0], name === 'binary' ? /looks binary/ : /no log lines/);
      assert.ok(c.noCommand);
    });
  }
});

describe('issue 9 case 7: doctor and scan on a Linux guest snapshot', () => {
  it('doctor: host.os FAIL (use guest check) and exit 1, not a list of UNKNOWNs', () => {
    const r = cli(['--host', GUEST_INTPIN, 'doctor', '--json']);
    assert.equal(r.status, 1);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(
      doc.checks.map((c: CheckResult) => [c.id, c.status]),
      [['host.os', 'FAIL']],
    );
    assert.deepEqual(doc.checks[0].commands, [['bhyve-gpu', 'guest', 'check']]);
    assert.match(doc.checks[0].evidence[0], /Linux sysfs/);
  });

  it('scan: exits 1 and says it is not a FreeBSD host', () => {
    const r = cli(['--host', GUEST_INTPIN, 'scan']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not a FreeBSD host .*nothing to scan/);
    assert.match(r.stderr, /guest check/);
  });
});

describe('issue 9 case 8: guest check on a FreeBSD host snapshot', () => {
  it('says it is not a guest, and does not advise passing a GPU to "this VM"', () => {
    const r = cli(['--host', P4, 'guest', 'check', '--json']);
    assert.equal(r.status, 1);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(
      doc.checks.map((c: { id: string; answer: string }) => [c.id, c.answer]),
      [['guest-os', 'no']],
    );
    assert.match(doc.checks[0].detail, /FreeBSD host, not a Linux guest/);
    assert.doesNotMatch(r.stdout, /pass the GPU to this VM/);
  });
});

describe('issue 9 case 9: notes and fixes that run as printed', () => {
  it('vm-args notes an attach that is not refused on that host (--remove-stale when a stale entry blocks)', async () => {
    const r = cli(['--host', RTX, 'vm-args', '2/0/0']);
    assert.equal(r.status, 0, r.stderr);
    const line = /bhyve-gpu (attach [^,]*--yes)/.exec(r.stderr)?.[1];
    assert.equal(line, 'attach 2/0/0 --remove-stale --yes');
    assert.deepEqual(await adviceProblems([[['bhyve-gpu', ...(line ?? '').split(' ')]]], RTX), []);
  });

  it('the attach/setup plan note names a command that exists (no "run again with --now" for setup)', async () => {
    const r = cli([
      '--host',
      RTX,
      'setup',
      '--gpu',
      '2/0/0',
      '--vm',
      'cuda',
      '--remove-stale',
      '--no-build',
      '--dry-run',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /run again with --now/);
    const cmd = /bind now, without a reboot: (bhyve-gpu [^)]*)\)/.exec(r.stdout)?.[1];
    assert.equal(cmd, 'bhyve-gpu attach 2/0/0 --now --yes');
    assert.deepEqual(await parseArgv((cmd ?? '').split(' ')), { ok: true });
  });

  it('doctor --vm nosuch: create the guest, then attach the GPU doctor knows', async () => {
    const m = await checks(example('tesla-p4-15.0'), 'nosuch');
    assert.deepEqual(m.get('vm.nosuch.config')?.commands, [
      ['vm', 'create', 'nosuch'],
      ['bhyve-gpu', 'attach', '1/0/0', '--vm', 'nosuch', '--yes'],
    ]);
  });

  it('guest check gives the INTPIN fix once', () => {
    const r = cli(['--host', GUEST_INTPIN, 'guest', 'check']);
    assert.equal(r.stdout.match(/run: bhyve-gpu source/g)?.length, 1, r.stdout);
    assert.equal(r.stdout.match(/INTPIN quirk \(D51892\)/g)?.length, 1);
    assert.doesNotMatch(r.stdout, /<name>/);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type GuestReport, guestCheck } from '../../src/guest/check.js';
import { scanGuest } from '../../src/guest/sysfs.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import { parseSnapshot, type Snapshot } from '../../src/host/snapshot-format.js';
import { fixture, REPO_ROOT } from '../helpers/corpus.js';
import { buildP4Snapshot, FIXTURE_NAMES } from './fixture-builder.js';

const load = (kind: 'healthy' | 'intpin-missing') =>
  parseSnapshot(fixture('guest', `bhyve-ubuntu-p4-${kind}.json`), kind);
const answers = (r: GuestReport) => Object.fromEntries(r.checks.map((c) => [c.id, c.answer]));

describe('guest fixtures', () => {
  it('are what the fixture builder writes (regenerate with node --import tsx test/guest/fixture-builder.ts)', () => {
    for (const kind of ['healthy', 'quirk-missing'] as const)
      assert.deepEqual(JSON.parse(fixture('guest', FIXTURE_NAMES[kind])), buildP4Snapshot(kind));
  });
});

describe('scanGuest', () => {
  it('reads every PCI function, the bound driver and the captured commands', async () => {
    const scan = await scanGuest(new SnapshotHost(load('healthy')));
    assert.equal(scan.devices.length, 6);
    const gpu = scan.devices.find((d) => d.address === '0000:00:06.0');
    assert.equal(gpu?.vendorId, 0x10de);
    assert.equal(gpu?.classCode, 0x030200);
    assert.equal(gpu?.driver, 'nvidia');
    assert.equal(gpu?.irq, 37);
    assert.equal(gpu?.enabled, true);
    assert.equal(scan.devices.find((d) => d.address === '0000:00:1d.0')?.driver, 'none');
    assert.equal(scan.nvidiaVersion.state, 'ok');
    assert.equal(scan.kernelLog.state === 'ok' && scan.kernelLog.value.source, 'dmesg');
    assert.equal(scan.kernelRelease.state === 'ok' && scan.kernelRelease.value, '6.8.0-60-generic');
  });

  it('turns what a snapshot lacks into "unknown" and a missing file into "missing"', async () => {
    const snap = load('intpin-missing');
    snap.commands = [];
    const scan = await scanGuest(new SnapshotHost(snap));
    assert.equal(scan.nvidiaVersion.state, 'missing');
    assert.equal(scan.nvidiaSmiXml.state, 'unknown');
    assert.equal(scan.kernelLog.state, 'unknown');
  });
});

describe('guestCheck', () => {
  it('INTPIN 0: pin, irq, driver and initialisation all "no", root cause from the kernel log', async () => {
    const r = await guestCheck(new SnapshotHost(load('intpin-missing')));
    assert.equal(r.ok, false);
    assert.deepEqual(answers(r), {
      'gpu-visible': 'yes',
      'interrupt-pin': 'no',
      irq: 'no',
      msi: 'no',
      'driver-bound': 'no',
      'driver-initialised': 'no',
      memory: 'unknown',
    });
    const pin = r.checks.find((c) => c.id === 'interrupt-pin');
    assert.match(pin?.fix ?? '', /INTPIN quirk/);
    const init = r.checks.find((c) => c.id === 'driver-initialised');
    assert.ok(init?.evidence.some((e) => e.includes("Can't find an IRQ for your NVIDIA card!")));
    assert.ok(r.findings.some((f) => f.rootCause && f.severity === 'error'));
    // the driver is installed (nvidia-smi answers), so the fix is not "install the driver"
    assert.doesNotMatch(
      r.checks.find((c) => c.id === 'driver-bound')?.fix ?? '',
      /install the NVIDIA driver/,
    );
  });

  it('healthy: every answer "yes", memory and BAR1 from nvidia-smi, BAR sizes from sysfs', async () => {
    const r = await guestCheck(new SnapshotHost(load('healthy')));
    assert.equal(r.ok, true);
    assert.ok(
      Object.values(answers(r)).every((a) => a === 'yes'),
      JSON.stringify(answers(r)),
    );
    assert.equal(r.driverVersion, '580.82.07');
    const gpu = r.gpus[0];
    assert.equal(gpu?.architecture, 'Pascal');
    assert.equal(gpu?.smi?.bar1TotalMiB, 256);
    assert.deepEqual(
      gpu?.bars.map((b) => [b.index, b.size]),
      [
        [0, 16 << 20],
        [1, 256 << 20],
        [3, 32 << 20],
      ],
    );
    assert.match(r.checks.find((c) => c.id === 'memory')?.detail ?? '', /7680 MiB framebuffer, BAR1 256 MiB/);
  });

  it('nouveau bound and no NVIDIA driver installed: fix is the driver install', async () => {
    const snap: Snapshot = load('intpin-missing');
    snap.files['/sys/bus/pci/devices/0000:00:06.0/driver'] = { link: '../../../bus/pci/drivers/nouveau' };
    snap.commands = snap.commands
      .filter((c) => c.argv[0] !== 'nvidia-smi')
      .map((c) =>
        c.argv[0] === 'dmesg'
          ? { ...c, stdout: '[    2.101010] nouveau 0000:00:06.0: NVIDIA GP104 (134000a1)\n' }
          : c,
      );
    snap.commands.push(
      {
        argv: ['nvidia-smi', '-q', '-x'],
        exitCode: 127,
        stdout: '',
        stderr: 'nvidia-smi: command not found\n',
      },
      { argv: ['nvidia-smi'], exitCode: 127, stdout: '', stderr: 'nvidia-smi: command not found\n' },
    );
    const r = await guestCheck(new SnapshotHost(snap));
    const bound = r.checks.find((c) => c.id === 'driver-bound');
    assert.equal(bound?.answer, 'no');
    assert.equal(bound?.detail, 'bound to nouveau');
    assert.match(bound?.fix ?? '', /guest setup/);
    assert.equal(r.checks.find((c) => c.id === 'driver-initialised')?.answer, 'no');
  });

  it('a capture without root (64-byte config header): pin answered, MSI unknown', async () => {
    const snap = load('healthy');
    const path = '/sys/bus/pci/devices/0000:00:06.0/config';
    const full = Buffer.from((snap.files[path] as { base64: string }).base64, 'base64');
    snap.files[path] = { base64: full.subarray(0, 64).toString('base64') };
    const r = await guestCheck(new SnapshotHost(snap));
    assert.equal(answers(r)['interrupt-pin'], 'yes');
    assert.equal(answers(r).msi, 'unknown');
    assert.equal(r.ok, true);
  });

  it('a snapshot without sysfs answers "unknown", not "no"', async () => {
    const snap = load('healthy');
    snap.files = {};
    snap.missing = [];
    const r = await guestCheck(new SnapshotHost(snap));
    assert.equal(r.checks[0]?.answer, 'unknown');
    assert.equal(r.ok, false);
  });
});

describe('scripts/capture-guest.sh on this machine', () => {
  it('writes a valid snapshot that guest check reads', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'capture-guest-')), 'guest.json');
    const run = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'capture-guest.sh'), '-o', out], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const snap = parseSnapshot(readFileSync(out, 'utf8'), out);
    assert.ok(snap.commands.some((c) => c.argv.join(' ') === 'nvidia-smi -q -x'));
    const r = await guestCheck(new SnapshotHost(snap, out));
    // This machine's own view decides the expected answer (CI has no NVIDIA GPU).
    const sysfs = '/sys/bus/pci/devices';
    const hasNvidia =
      existsSync(sysfs) &&
      readdirSync(sysfs).some((d) => {
        const read = (f: string) => {
          try {
            return readFileSync(join(sysfs, d, f), 'utf8').trim();
          } catch {
            return '';
          }
        };
        return read('vendor') === '0x10de' && read('class').startsWith('0x03');
      });
    assert.equal(r.checks[0]?.answer, hasNvidia ? 'yes' : 'no');
    if (!hasNvidia) assert.match(r.checks[0]?.detail ?? '', /no NVIDIA GPU visible/);
  });
});

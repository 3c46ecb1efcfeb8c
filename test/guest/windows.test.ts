import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseArgv } from '../../src/cli/main.js';
import { diagnoseWindows } from '../../src/diagnose/windows.js';
import { ParseError } from '../../src/errors.js';
import {
  decodeCapture,
  nvidiaVersion,
  readWindowsCapture,
  type WinCapture,
} from '../../src/guest/windows/capture.js';
import { checkWindowsCapture } from '../../src/guest/windows/check.js';
import { planWindowsSetup } from '../../src/guest/windows/setup.js';
import { corpus, REPO_ROOT } from '../helpers/corpus.js';
import { cli, tempDir } from '../helpers/snap.js';

const FIX = join(REPO_ROOT, 'test', 'fixtures', 'windows');
const fixture = (name: string) => join(FIX, name);
const load = (name: string): WinCapture => readWindowsCapture(readFileSync(fixture(name)), name);

const CODE43 = 'win11-rtx2080ti-code43.ps51.json';
const CODE12 = 'win11-a100-code12.ps7.json';
const HEALTHY = 'win11-rtx2080ti-healthy.ps51.json';
const PNPDEVICE = 'get-pnpdevice-code43.ps51.json';
const PNPUTIL = 'pnputil-problem-code43.txt';

/** `patch --quirk` arrives with the quirks lane; until then that one option cannot parse here. */
const quirkOptionKnown = async () =>
  (await parseArgv(['bhyve-gpu', 'patch', '--src', '/x', '--quirk', 'intpin'])).ok;

async function assertRunnable(commands: string[][]): Promise<void> {
  const quirk = await quirkOptionKnown();
  for (const argv of commands) {
    assert.ok(argv.length > 0);
    assert.ok(!argv.some((a) => /[{}]/.test(a)), `unfilled placeholder in ${argv.join(' ')}`);
    if (argv[0] !== 'bhyve-gpu') continue;
    if (!quirk && argv.includes('--quirk')) continue;
    const v = await parseArgv(argv);
    assert.ok(v.ok, `${argv.join(' ')}: ${v.message}`);
  }
}

describe('Windows captures: encodings and PowerShell shapes', () => {
  it('5.1 `>` output is UTF-16 LE with a BOM; PowerShell 7 -OutFile is UTF-8 without one', () => {
    const ps51 = readFileSync(fixture(CODE43));
    assert.deepEqual([...ps51.subarray(0, 2)], [0xff, 0xfe]);
    assert.match(decodeCapture(ps51), /^\{\r\n {4}"format": {2}"bhyve-gpu-windows-check",/);
    const ps7 = readFileSync(fixture(CODE12));
    assert.equal(ps7[0], 0x7b);
    assert.match(decodeCapture(ps7), /^\{\r\n {2}"format": "bhyve-gpu-windows-check",/);
  });

  it('reads UTF-8 with a BOM, UTF-16 LE without one, and UTF-16 BE', () => {
    const text = '[{"InstanceId":"PCI\\\\VEN_10DE&DEV_1BB3\\\\X","ConfigManagerErrorCode":43}]';
    const variants = [
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]),
      Buffer.from(text, 'utf16le'),
      (() => {
        const b = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
        b.swap16();
        return b;
      })(),
    ];
    for (const buf of variants) {
      const cap = readWindowsCapture(buf, 'x.json');
      assert.equal(cap.kind, 'windows-pnp-json');
      assert.equal(cap.devices[0]?.deviceId, 0x1bb3);
      assert.equal(cap.devices[0]?.problemCode, 43);
    }
  });

  it("one object, an array, 5.1's {value, Count} wrapper and -EnumsAsStrings names read alike", () => {
    const dev = { InstanceId: 'PCI\\VEN_10DE&DEV_2684&SUBSYS_0\\1', Class: 'Display', Problem: 43 };
    const shapes = [
      JSON.stringify(dev),
      JSON.stringify([dev]),
      JSON.stringify({ value: [dev], Count: 1 }),
      JSON.stringify({ ...dev, Problem: 'CM_PROB_FAILED_POST_START' }),
    ];
    for (const s of shapes) {
      const cap = readWindowsCapture(Buffer.from(s), 's.json');
      assert.equal(cap.devices.length, 1, s);
      assert.equal(cap.devices[0]?.problemCode, 43, s);
    }
  });

  it('the script JSON: devices, hypervisor, driver version, nvidia-smi; 5.1 \\u0026 escapes decoded', () => {
    const cap = load(CODE43);
    assert.equal(cap.kind, 'windows-check');
    assert.equal(cap.hypervisorPresent, true);
    assert.equal(cap.computerName, 'WIN11-CAD');
    const gpu = cap.devices.find((d) => d.className === 'Display');
    assert.equal(gpu?.instanceId, 'PCI\\VEN_10DE&DEV_1E07&SUBSYS_866A1043&REV_A1\\3&267A616A&0&30');
    assert.equal(gpu?.problemCode, 43);
    assert.equal(gpu?.driverVersion, '27.21.14.6192');
    assert.ok((gpu?.line ?? 0) > 1);
    assert.match(cap.nvidiaSmiXml ?? '', /NVIDIA-SMI has failed/);
    assert.equal(nvidiaVersion('32.0.15.6094'), '560.94');
    assert.equal(nvidiaVersion('27.21.14.6192'), '461.92');
    assert.equal(nvidiaVersion('31.0.15.3623'), '536.23');
    assert.equal(nvidiaVersion('10.0.26100.1'), undefined);
  });

  it('pnputil /enum-devices /problem text: one block per device, the code from "43 (0x2B) [...]"', () => {
    const cap = load(PNPUTIL);
    assert.equal(cap.kind, 'pnputil');
    assert.equal(cap.devices.length, 1);
    assert.equal(cap.devices[0]?.problemCode, 43);
    assert.equal(cap.devices[0]?.line, 3);
    assert.equal(cap.devices[0]?.driverInf, 'oem12.inf');
    assert.equal(cap.hypervisorPresent, undefined);
  });

  it('broken JSON is a ParseError with file and line; other text is refused', () => {
    const broken = readFileSync(fixture(CODE12), 'utf8').replace('"version": 1,', '"version": 1');
    assert.throws(
      () => readWindowsCapture(Buffer.from(broken), 'b.json'),
      (e: unknown) => e instanceof ParseError && e.file === 'b.json' && e.line === 4,
    );
    assert.throws(
      () => readWindowsCapture(Buffer.from('[    0.000000] Linux version 6.8\n'), 'd.txt'),
      ParseError,
    );
    assert.throws(() => readWindowsCapture(Buffer.from('  \r\n'), 'e.txt'), /empty capture/);
  });
});

describe('Windows check and diagnose: the cause first, runnable host commands', () => {
  it('Code 43 with a visible hypervisor: hide bhyve first, commands name the GPU and VM', async () => {
    const report = checkWindowsCapture(load(CODE43), { vm: 'win11' });
    assert.equal(report.gpus[0]?.architecture, 'Turing');
    assert.equal(report.ok, false);
    assert.equal(report.findings[0]?.id, 'guest.windows.code-43-hypervisor');
    const problem = report.checks.find((c) => c.id === 'problem-code');
    assert.equal(problem?.answer, 'no');
    assert.match(problem?.detail ?? '', /Code 43 \(CM_PROB_FAILED_POST_START\)/);
    assert.deepEqual(problem?.commands, [
      ['bhyve-gpu', 'attach', '10de:1e07', '--vm', 'win11', '--guest-os', 'windows', '--yes'],
      ['sysctl', 'hw.vmm.hide_hypervisor=1'],
      ['vm', 'restart', 'win11'],
    ]);
    assert.equal(report.checks.find((c) => c.id === 'hypervisor-hidden')?.answer, 'no');
    assert.equal(report.checks.find((c) => c.id === 'driver-initialised')?.answer, 'no');
    assert.equal(report.driverVersion, '461.92');
    assert.ok(report.findings[0]?.evidence.some((e) => /older than R465/.test(e.text)));
    for (const f of report.findings) await assertRunnable(f.commands ?? []);
  });

  it('Code 43 with a visible hypervisor but an R465+ driver: an init failure, not the hypervisor check', async () => {
    const cap = load(CODE43);
    const gpu = cap.devices.find((d) => d.className === 'Display');
    assert.ok(gpu);
    gpu.driverVersion = '32.0.15.6094';
    const [first] = diagnoseWindows(cap, { vm: 'win11' });
    assert.equal(first?.id, 'guest.windows.code-43');
    assert.ok(first?.evidence.some((e) => /560\.94 .*R465 or newer/.test(e.text)));
    await assertRunnable(first?.commands ?? []);
  });

  it('Code 12: the MMIO window first, fixed by attach (which sizes pci.mmio64_size)', async () => {
    const report = checkWindowsCapture(load(CODE12), { vm: 'win11' });
    assert.equal(report.findings[0]?.id, 'guest.windows.code-12-mmio');
    assert.equal(report.checks.find((c) => c.id === 'hypervisor-hidden')?.answer, 'yes');
    const problem = report.checks.find((c) => c.id === 'problem-code');
    assert.deepEqual(problem?.commands?.[0], [
      'bhyve-gpu',
      'attach',
      '10de:20b5',
      '--vm',
      'win11',
      '--guest-os',
      'windows',
      '--yes',
    ]);
    await assertRunnable(problem?.commands ?? []);
  });

  it('healthy guest: every answer yes, no error finding', () => {
    const report = checkWindowsCapture(load(HEALTHY));
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.checks.map((c) => [c.id, c.answer]),
      [
        ['gpu-visible', 'yes'],
        ['driver-bound', 'yes'],
        ['problem-code', 'yes'],
        ['hypervisor-hidden', 'yes'],
        ['driver-initialised', 'yes'],
      ],
    );
    assert.equal(report.findings.filter((f) => f.severity !== 'info').length, 0);
  });

  it('without --vm, the commands that need it are left out and noCommand says how to get them', async () => {
    const [first] = diagnoseWindows(load(PNPUTIL));
    assert.equal(first?.id, 'guest.windows.code-43');
    assert.ok(first?.commands?.every((c) => !c.includes('--vm')));
    assert.ok(first?.commands?.some((c) => c.includes('install')));
    assert.match(first?.noCommand ?? '', /--vm/);
    await assertRunnable(first?.commands ?? []);
  });

  it("a Code 10 on the audio function is a consequence of the GPU's Code 43", () => {
    const cap = load(CODE43);
    const audio = cap.devices.find((d) => d.className === 'MEDIA');
    assert.ok(audio);
    audio.problemCode = 10;
    const findings = diagnoseWindows(cap, { vm: 'w' });
    const ten = findings.find((f) => f.id === 'guest.windows.code-10');
    assert.equal(ten?.rootCause, false);
    assert.deepEqual(ten?.causedBy, ['guest.windows.code-43-hypervisor']);
    assert.equal(findings[0]?.id, 'guest.windows.code-43-hypervisor');
  });

  it('Code 28 and 31 send the user to the driver setup for the GPU', async () => {
    for (const code of [28, 31]) {
      const cap = load(CODE12);
      const gpu = cap.devices.find((d) => d.className === 'Display');
      assert.ok(gpu);
      gpu.problemCode = code;
      const [first] = diagnoseWindows(cap);
      assert.equal(first?.id, `guest.windows.code-${code}`);
      assert.deepEqual(first?.commands, [['bhyve-gpu', 'guest', 'setup', '--windows', '--gpu', '10de:20b5']]);
      await assertRunnable(first?.commands ?? []);
    }
  });
});

describe('CLI: guest check --from, guest script, guest setup --windows, diagnose', () => {
  it('guest check --from: exit 1 with the fix on a Code 43 capture, 0 on the healthy one', () => {
    const bad = cli(['guest', 'check', '--from', fixture(CODE43), '--vm', 'win11', '--json']);
    assert.equal(bad.status, 1, bad.stderr);
    const doc = JSON.parse(bad.stdout);
    assert.equal(doc.os, 'windows');
    assert.equal(doc.findings[0].id, 'guest.windows.code-43-hypervisor');
    const human = cli(['guest', 'check', '--from', fixture(CODE43), '--vm', 'win11']);
    assert.match(
      human.stdout,
      /run: bhyve-gpu attach 10de:1e07 --vm win11 --guest-os windows --yes && sysctl/,
    );
    const ok = cli(['guest', 'check', '--from', fixture(HEALTHY)]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /GPU visible and driver running\./);
  });

  it('guest check --from: a missing file or a broken capture is a clear error', () => {
    const missing = cli(['guest', 'check', '--from', '/nonexistent/check.json']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file/);
    const dir = tempDir();
    const p = join(dir, 'broken.json');
    writeFileSync(p, '{\n  "format": "bhyve-gpu-windows-check",\n  "version": 1,\n  "devices": [\n');
    const broken = cli(['guest', 'check', '--from', p]);
    assert.notEqual(broken.status, 0);
    assert.match(broken.stderr, /broken\.json:\d+: not valid JSON/);
    assert.equal(cli(['guest', 'check', '--vm', 'x']).status, 2);
  });

  it('guest script --windows prints the shipped check.ps1 byte for byte', () => {
    const r = cli(['guest', 'script', '--windows']);
    assert.equal(r.status, 0, r.stderr);
    const shipped = readFileSync(join(REPO_ROOT, 'src', 'guest', 'windows', 'check.ps1'), 'utf8');
    assert.equal(r.stdout, shipped);
    for (const needle of [
      'Win32_PnPEntity',
      'ConfigManagerErrorCode',
      'HypervisorPresent',
      'Win32_VideoController',
      '-q -x',
      'ConvertTo-Json -InputObject $report -Depth 6',
      "format            = 'bhyve-gpu-windows-check'",
    ])
      assert.ok(shipped.includes(needle), needle);
    assert.equal(cli(['guest', 'script']).status, 2);
  });

  it('guest setup --windows: the branch range fits the generation', () => {
    const ada = planWindowsSetup(0x2684);
    assert.equal(ada.architecture, 'Ada');
    assert.equal(ada.minBranch, 520);
    assert.equal(ada.maxBranch, undefined);
    const pascal = planWindowsSetup(0x1bb3);
    assert.equal(pascal.minBranch, 465);
    assert.equal(pascal.maxBranch, 580);
    assert.match(pascal.script, /\$MaxBranch = 580/);
    const kepler = planWindowsSetup(0x1180);
    assert.equal(kepler.maxBranch, 470);
    const r = cli(['guest', 'setup', '--windows', '--from', fixture(CODE12)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^# Generated by bhyve-gpu guest setup --windows\r\n# 1\. GPU 10de:20b5 is GA100 \(Ampere\)/,
    );
    assert.match(r.stdout, /\$DeviceId = '20B5'/);
    assert.ok(!r.stdout.includes('__'), 'every template field filled');
    assert.equal(cli(['guest', 'setup', '--windows']).status, 2);
    assert.equal(
      cli(['guest', 'setup', '--windows', '--gpu', '10de:2684', '--format', 'cloud-init']).status,
      2,
    );
  });

  it('diagnose reads the captures beside a Linux log; causes ranked across inputs', () => {
    const linux = corpus('guest-dmesg').find((f) => f.name.includes('rminitadapter'));
    assert.ok(linux);
    const r = cli(['diagnose', fixture(PNPUTIL), linux.path, fixture(CODE12), fixture(PNPDEVICE), '--json']);
    assert.equal(r.status, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.inputs.map((i: { kind: string }) => i.kind).slice(0, 3), [
      'pnputil',
      'windows-check',
      'windows-pnp-json',
    ]);
    assert.equal(doc.inputs[3].name, linux.path);
    assert.ok(doc.findings.some((f: { id: string }) => f.id === 'guest.nvidia.rm-init-failed'));
    const ids = doc.findings.map((f: { id: string }) => f.id);
    assert.ok(ids.includes('guest.windows.code-12-mmio'));
    assert.ok(ids.includes('guest.windows.code-43'));
    const piped = cli(['diagnose', '--json'], { input: readFileSync(fixture(PNPUTIL), 'utf8') });
    assert.equal(piped.status, 1, piped.stderr);
    const pipedDoc = JSON.parse(piped.stdout);
    assert.deepEqual(pipedDoc.inputs, [{ name: 'stdin', kind: 'pnputil', lines: 12 }]);
    assert.equal(pipedDoc.findings[0].id, 'guest.windows.code-43');
    const human = cli(['diagnose', fixture(CODE43)]);
    assert.equal(human.status, 1);
    assert.match(
      human.stdout,
      /^1\. ERROR NVIDIA driver stopped the GPU \(Code 43\) and Windows sees a hypervisor/m,
    );
    assert.match(human.stdout, /HypervisorPresent = True/);
  });
});

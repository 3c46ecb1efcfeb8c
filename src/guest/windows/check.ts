/**
 * `bhyve-gpu guest check --from FILE`: the Linux check's questions, answered from a Windows guest capture
 * read on the host: is the GPU visible, is a driver bound, is it free of Device Manager problem codes (and
 * what the code means in bhyve terms), is the hypervisor hidden, did the driver initialise the GPU.
 */
import type { Finding } from '../../diagnose/types.js';
import { diagnoseWindows, gpuSpecOf, type WindowsContext } from '../../diagnose/windows.js';
import { type Architecture, architectureOf } from '../generations.js';
import { parseNvidiaSmiXml } from '../nvidia-smi.js';
import type { Answer, GuestCheckItem } from '../types.js';
import { type CaptureKind, nvidiaGpus, nvidiaVersion, type WinCapture, type WinDevice } from './capture.js';
import { describeCode, PROBLEM_TEXT } from './codes.js';

export interface WindowsGpu {
  instanceId: string;
  name?: string;
  vendorId: number;
  deviceId: number;
  architecture?: Architecture;
  status?: string;
  problemCode?: number;
  /** Windows driver version ("32.0.15.6094") and NVIDIA's ("560.94"). */
  windowsDriverVersion?: string;
  driverVersion?: string;
}

export interface WindowsGuestReport {
  os: 'windows';
  /** The capture file and what it was. */
  source: string;
  captureKind: CaptureKind;
  computerName?: string;
  windows?: string;
  psVersion?: string;
  hypervisorPresent?: boolean;
  gpus: WindowsGpu[];
  checks: GuestCheckItem[];
  findings: Finding[];
  driverVersion?: string;
  /** True when an NVIDIA GPU is visible, has a driver and no problem code. */
  ok: boolean;
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

function gpuOf(d: WinDevice): WindowsGpu {
  const g: WindowsGpu = {
    instanceId: d.instanceId,
    vendorId: d.vendorId ?? 0x10de,
    deviceId: d.deviceId ?? 0,
  };
  if (d.name) g.name = d.name;
  const arch = d.deviceId === undefined ? undefined : architectureOf(d.deviceId);
  if (arch) g.architecture = arch;
  if (d.status) g.status = d.status;
  if (d.problemCode !== undefined) g.problemCode = d.problemCode;
  if (d.driverVersion) {
    g.windowsDriverVersion = d.driverVersion;
    const nv = nvidiaVersion(d.driverVersion);
    if (nv) g.driverVersion = nv;
  }
  return g;
}

function evidenceOf(cap: WinCapture, d: WinDevice): string {
  return `${cap.file}:${d.line}: ${d.instanceId} ${d.name ?? ''}: ${describeCode(d.problemCode ?? 0)}${d.status ? `, status ${d.status}` : ''}${d.service ? `, service ${d.service}` : ''}`;
}

/** The fix of the first finding about this device, as check fields. */
function fixFrom(finding: Finding | undefined): Pick<GuestCheckItem, 'fix' | 'commands' | 'noCommand'> {
  if (!finding) return {};
  const out: Pick<GuestCheckItem, 'fix' | 'commands' | 'noCommand'> = {};
  if (finding.fix.length) out.fix = finding.fix.join('; ');
  if (finding.commands) out.commands = finding.commands;
  if (finding.noCommand) out.noCommand = finding.noCommand;
  return out;
}

const mentions = (f: Finding, d: WinDevice) => f.evidence.some((e) => e.text.includes(`[${d.instanceId}]`));

export function checkWindowsCapture(cap: WinCapture, ctx: WindowsContext = {}): WindowsGuestReport {
  const findings = diagnoseWindows(cap, ctx);
  const devices = nvidiaGpus(cap);
  const gpus = devices.map(gpuOf);
  const complete = cap.kind === 'windows-check';
  const visible: GuestCheckItem = {
    id: 'gpu-visible',
    question: 'Is an NVIDIA GPU visible to Windows?',
    answer: gpus.length > 0 ? 'yes' : complete ? 'no' : 'unknown',
    detail:
      gpus.length > 0
        ? gpus
            .map(
              (g) =>
                `${g.name ?? 'GPU'} [10de:${hex4(g.deviceId)}]${g.architecture ? ` ${g.architecture}` : ''}`,
            )
            .join(', ')
        : complete
          ? `no PCI\\VEN_10DE display device among ${cap.devices.length} devices`
          : `this ${cap.kind} capture lists only some devices; none is an NVIDIA display device`,
    evidence: devices.map((d) => evidenceOf(cap, d)),
    ...(gpus.length === 0 ? fixFrom(findings.find((f) => f.id === 'guest.windows.no-gpu')) : {}),
  };
  if (visible.answer === 'unknown' && !visible.commands)
    visible.noCommand = 'capture the guest with the script (bhyve-gpu guest script --windows) to answer this';
  const checks: GuestCheckItem[] = [visible];
  for (const d of devices) {
    const code = d.problemCode;
    const first = findings.find((f) => f.severity !== 'info' && mentions(f, d));
    const bound: Answer =
      code === 28
        ? 'no'
        : d.service || d.driverInf || d.driverVersion || code === 0
          ? 'yes'
          : code === undefined
            ? 'unknown'
            : 'yes';
    checks.push({
      id: 'driver-bound',
      device: d.instanceId,
      question: 'Is a driver installed and bound to the GPU?',
      answer: bound,
      detail:
        bound === 'yes'
          ? [
              d.service ? `service ${d.service}` : undefined,
              d.driverInf ? `driver package ${d.driverInf}` : undefined,
              d.driverVersion ? `driver ${d.driverVersion}` : undefined,
            ]
              .filter((x) => x !== undefined)
              .join(', ') || 'a driver holds the device'
          : bound === 'no'
            ? 'no driver installed for the GPU (Code 28)'
            : 'the capture does not say',
      evidence: [evidenceOf(cap, d)],
      ...(bound === 'no' ? fixFrom(first) : {}),
    });
    const problem: GuestCheckItem = {
      id: 'problem-code',
      device: d.instanceId,
      question: 'Is the GPU free of Device Manager problem codes?',
      answer: code === undefined ? 'unknown' : code === 0 ? 'yes' : 'no',
      detail:
        code === undefined
          ? 'the capture has no problem code for the GPU'
          : code === 0
            ? 'no problem code (Device Manager: "This device is working properly")'
            : `${describeCode(code)}${PROBLEM_TEXT[code] ? `: ${PROBLEM_TEXT[code]}` : ''}${first ? `; ${first.title}` : ''}`,
      evidence: [
        evidenceOf(cap, d),
        ...(first ? first.evidence.slice(1).map((e) => `${e.file}:${e.line}: ${e.text}`) : []),
      ],
      ...(code !== undefined && code !== 0 ? fixFrom(first) : {}),
    };
    checks.push(problem);
  }
  const hvFinding = findings.find((f) => f.id === 'guest.windows.code-43-hypervisor');
  const hidden: GuestCheckItem = {
    id: 'hypervisor-hidden',
    question: 'Is the hypervisor hidden from the guest?',
    answer: cap.hypervisorPresent === undefined ? 'unknown' : cap.hypervisorPresent ? 'no' : 'yes',
    detail:
      cap.hypervisorPresent === undefined
        ? 'the capture does not include Win32_ComputerSystem.HypervisorPresent'
        : cap.hypervisorPresent
          ? "HypervisorPresent = True: bhyve's CPUID markers are visible (older NVIDIA drivers stop GeForce cards with Code 43)"
          : 'HypervisorPresent = False',
    evidence:
      cap.hypervisorPresent === undefined
        ? []
        : [
            `${cap.file}:${cap.hypervisorLine ?? 1}: HypervisorPresent = ${cap.hypervisorPresent ? 'True' : 'False'}`,
          ],
  };
  if (hidden.answer === 'no') {
    if (hvFinding) Object.assign(hidden, fixFrom(hvFinding));
    else
      hidden.noCommand = 'nothing to fix while the GPU works (current drivers accept a visible hypervisor)';
  } else if (hidden.answer === 'unknown')
    hidden.noCommand = 'capture the guest with the script (bhyve-gpu guest script --windows) to answer this';
  checks.push(hidden);
  let driverVersion = gpus.find((g) => g.driverVersion)?.driverVersion;
  for (const d of devices) {
    let answer: Answer = d.problemCode === 0 && d.status === 'OK' ? 'yes' : d.problemCode ? 'no' : 'unknown';
    const evidence = [evidenceOf(cap, d)];
    let detail =
      answer === 'yes'
        ? 'Device Manager reports the GPU working'
        : answer === 'no'
          ? 'the driver did not keep the GPU running'
          : 'unknown';
    if (cap.nvidiaSmiXml !== undefined) {
      const smi = parseNvidiaSmiXml(cap.nvidiaSmiXml);
      if (smi.kind === 'gpus' && smi.gpus.length > 0) {
        driverVersion = smi.driverVersion ?? driverVersion;
        answer = answer === 'no' ? 'no' : 'yes';
        detail = `nvidia-smi lists ${smi.gpus.map((g) => g.productName ?? 'a GPU').join(', ')}${smi.driverVersion ? ` (driver ${smi.driverVersion}${smi.cudaVersion ? `, CUDA ${smi.cudaVersion}` : ''})` : ''}`;
        evidence.push(`${cap.file}: nvidia-smi -q -x: ${smi.gpus.length} GPU(s)`);
      } else if (smi.kind !== 'gpus') {
        evidence.push(`${cap.file}: nvidia-smi -q -x: ${smi.message}`);
        if (answer !== 'no') answer = 'no';
        detail = `nvidia-smi: ${smi.message}`;
      }
    }
    const item: GuestCheckItem = {
      id: 'driver-initialised',
      device: d.instanceId,
      question: 'Did the driver initialise the GPU?',
      answer,
      detail,
      evidence,
    };
    if (answer === 'no') {
      const first = findings.find((f) => f.severity !== 'info' && mentions(f, d));
      Object.assign(item, fixFrom(first));
    }
    checks.push(item);
  }
  const report: WindowsGuestReport = {
    os: 'windows',
    source: cap.file,
    captureKind: cap.kind,
    gpus,
    checks,
    findings,
    ok:
      gpus.length > 0 &&
      checks
        .filter((c) => c.id === 'problem-code' || c.id === 'driver-bound' || c.id === 'driver-initialised')
        .every((c) => c.answer === 'yes'),
  };
  if (cap.computerName) report.computerName = cap.computerName;
  if (cap.os) report.windows = cap.os;
  if (cap.psVersion) report.psVersion = cap.psVersion;
  if (cap.hypervisorPresent !== undefined) report.hypervisorPresent = cap.hypervisorPresent;
  if (driverVersion) report.driverVersion = driverVersion;
  return report;
}

export { gpuSpecOf };

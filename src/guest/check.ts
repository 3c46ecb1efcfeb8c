import type { Finding } from '../diagnose/types.js';
import { errorMessage } from '../errors.js';
import { detectPlatform } from '../host/platform.js';
import type { Host } from '../host/types.js';
import { perGpuChecks } from './answers.js';
import { architectureOf } from './generations.js';
import { parseNvidiaSmiTable, parseNvidiaSmiXml, sysfsAddress } from './nvidia-smi.js';
import { withBarSizes } from './resource.js';
import { type GuestPciDevice, type GuestScan, scanGuest } from './sysfs.js';
import type { GuestCheckItem, GuestGpu, GuestReport, SmiAnswer } from './types.js';

export type { Answer, GuestCheckItem, GuestGpu, GuestReport } from './types.js';

const NVIDIA = 0x10de;
const isNvidiaGpu = (d: GuestPciDevice) =>
  d.vendorId === NVIDIA && d.classCode !== undefined && d.classCode >> 16 === 0x03;
const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** The first usable nvidia-smi answer: the XML one, else the table. */
function smiResult(scan: GuestScan): SmiAnswer {
  const xml = scan.nvidiaSmiXml;
  if (xml.state === 'ok') {
    try {
      const result = parseNvidiaSmiXml(`${xml.value.stdout}\n${xml.value.stderr}`);
      if (result.kind !== 'unrecognised') return { result, evidence: 'nvidia-smi -q -x' };
    } catch (e) {
      return { evidence: 'nvidia-smi -q -x', error: errorMessage(e) };
    }
  }
  const table = scan.nvidiaSmi;
  if (table.state === 'ok')
    return {
      result: parseNvidiaSmiTable(`${table.value.stdout}\n${table.value.stderr}`),
      evidence: 'nvidia-smi',
    };
  if (xml.state === 'missing' || table.state === 'missing')
    return { evidence: 'nvidia-smi', error: 'nvidia-smi is not installed' };
  return { evidence: 'nvidia-smi', error: xml.state === 'unknown' ? xml.detail : 'no nvidia-smi output' };
}

async function kernelFindings(scan: GuestScan): Promise<Finding[]> {
  const inputs: { name: string; text: string }[] = [];
  if (scan.kernelLog.state === 'ok')
    inputs.push({ name: scan.kernelLog.value.source, text: scan.kernelLog.value.text });
  if (scan.nvidiaSmi.state === 'ok')
    inputs.push({
      name: 'nvidia-smi',
      text: `${scan.nvidiaSmi.value.stdout}\n${scan.nvidiaSmi.value.stderr}`,
    });
  if (inputs.length === 0) return [];
  try {
    const { diagnoseText } = await import('../diagnose/index.js');
    return diagnoseText(inputs).findings;
  } catch {
    return [];
  }
}

function gpuOf(d: GuestPciDevice): GuestGpu {
  const cfg = d.config;
  const gpu: GuestGpu = {
    address: d.address,
    vendorId: d.vendorId ?? NVIDIA,
    deviceId: d.deviceId ?? cfg?.deviceId ?? 0,
    bars: cfg ? withBarSizes(cfg.bars, d.resources ?? []) : [],
  };
  const arch = architectureOf(gpu.deviceId);
  if (arch) gpu.architecture = arch;
  if (d.driver !== undefined) gpu.driver = d.driver;
  if (d.irq !== undefined) gpu.irq = d.irq;
  if (cfg) {
    gpu.interruptPin = cfg.interruptPin;
    gpu.msi = { present: cfg.msi !== undefined, enabled: cfg.msi?.enabled === true };
    if (cfg.msix) gpu.msix = { present: true, enabled: cfg.msix.enabled, tableSize: cfg.msix.tableSize };
  }
  return gpu;
}

/** Answer "does the GPU work in this guest?" from a scan (pure apart from the diagnose engine import). */
export async function checkScan(scan: GuestScan, hostName: string): Promise<GuestReport> {
  const smi = smiResult(scan);
  const findings = await kernelFindings(scan);
  const devices = scan.devices.filter(isNvidiaGpu);
  // nvidia-smi ships with the driver; /proc/driver/nvidia exists while the module is loaded.
  const installed =
    scan.nvidiaSmiXml.state === 'ok' || scan.nvidiaSmi.state === 'ok' || scan.nvidiaVersion.state === 'ok';
  const gpus = devices.map(gpuOf);
  const smiGpus = smi.result?.kind === 'gpus' ? smi.result.gpus : [];
  for (const g of gpus) {
    const match = smiGpus.find((s) => s.busId !== undefined && sysfsAddress(s.busId) === g.address);
    if (match) g.smi = match;
  }
  const visible: GuestCheckItem = {
    id: 'gpu-visible',
    question: 'Is an NVIDIA GPU visible on the PCI bus?',
    answer: gpus.length > 0 ? 'yes' : scan.devicesError !== undefined ? 'unknown' : 'no',
    detail:
      gpus.length > 0
        ? gpus
            .map(
              (g) => `${g.address} [10de:${hex4(g.deviceId)}]${g.architecture ? ` ${g.architecture}` : ''}`,
            )
            .join(', ')
        : (scan.devicesError ??
          `no NVIDIA GPU visible (${scan.devices.length} PCI functions, none 10de with display class)`),
    evidence: (devices.length > 0 ? devices : scan.devices.slice(0, 32)).map(
      (d) =>
        `${d.address}: vendor 0x${hex4(d.vendorId ?? 0)} device 0x${hex4(d.deviceId ?? 0)} class 0x${(d.classCode ?? 0).toString(16).padStart(6, '0')}`,
    ),
    ...(gpus.length === 0
      ? scan.devicesError !== undefined
        ? {
            noCommand:
              'the PCI device list was not read: run bhyve-gpu guest check inside the Linux guest itself',
          }
        : {
            fix: 'pass the GPU to this VM: on the FreeBSD host, bhyve-gpu doctor --vm NAME names the bhyve-gpu attach command that does it',
            noCommand:
              'the GPU and the VM name are known on the host, not in the guest: run bhyve-gpu doctor --vm NAME there',
          }
      : {}),
  };
  const checks = [
    visible,
    ...devices.flatMap((d, i) => perGpuChecks(gpus[i] as GuestGpu, d, smi, findings, installed)),
  ];
  const report: GuestReport = {
    host: hostName,
    gpus,
    checks,
    findings,
    ok:
      gpus.length > 0 && checks.filter((c) => c.id === 'driver-initialised').every((c) => c.answer === 'yes'),
  };
  if (smi.result?.kind === 'gpus') {
    if (smi.result.driverVersion) report.driverVersion = smi.result.driverVersion;
    if (smi.result.cudaVersion) report.cudaVersion = smi.result.cudaVersion;
  }
  if (scan.kernelLog.state === 'ok') report.kernelLogSource = scan.kernelLog.value.source;
  return report;
}

/**
 * `guest check` runs inside a Linux guest. On a FreeBSD host (or a host snapshot) it says so and points at
 * the host-side commands, instead of answering guest questions about a machine that is not a guest.
 */
export async function guestCheck(host: Host): Promise<GuestReport> {
  const platform = await detectPlatform(host);
  if (platform.os === 'freebsd') return notAGuest(host.description, platform.evidence);
  return checkScan(await scanGuest(host), host.description);
}

function notAGuest(hostName: string, evidence: string): GuestReport {
  return {
    host: hostName,
    gpus: [],
    findings: [],
    ok: false,
    checks: [
      {
        id: 'guest-os',
        question: 'Is this a Linux guest?',
        answer: 'no',
        detail: 'this is a FreeBSD host, not a Linux guest: guest check runs inside the guest',
        evidence: [evidence],
        fix: 'on the FreeBSD host, check the host (and the VM with --vm NAME) with bhyve-gpu doctor; run bhyve-gpu guest check inside the Linux guest',
        commands: [['bhyve-gpu', 'doctor']],
      },
    ],
  };
}

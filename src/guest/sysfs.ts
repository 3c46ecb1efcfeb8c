import { CommandNotFoundError, errorMessage, FileMissingError, NotCapturedError } from '../errors.js';
import type { Host } from '../host/types.js';
import { type ConfigSpace, decodeConfigSpace } from './cfgspace.js';
import { parseSysfsResource, type SysfsResource } from './resource.js';

export const PCI_DEVICES = '/sys/bus/pci/devices';

/** Something read from the guest: its value, or why it is not known. */
export type Probe<T> =
  | { state: 'ok'; value: T }
  | { state: 'missing'; detail: string }
  | { state: 'unknown'; detail: string };

export interface GuestPciDevice {
  /** sysfs name: "0000:00:06.0". */
  address: string;
  vendorId?: number;
  deviceId?: number;
  /** 24-bit class code from the sysfs `class` file (0x030200 = 3D controller). */
  classCode?: number;
  irq?: number;
  enabled?: boolean;
  /** Bound driver (basename of the `driver` symlink); 'none' when unbound, undefined when not known. */
  driver?: string;
  config?: ConfigSpace;
  configError?: string;
  resources?: SysfsResource[];
}

export interface CommandCapture {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface GuestScan {
  devices: GuestPciDevice[];
  /** Why the device list could not be read (snapshot without sysfs). */
  devicesError?: string;
  /** /proc/driver/nvidia/version: present only while the nvidia module is loaded. */
  nvidiaVersion: Probe<string>;
  /** `nvidia-smi -q -x`; 'missing' = not installed. */
  nvidiaSmiXml: Probe<CommandCapture>;
  /** Plain `nvidia-smi`; 'missing' = not installed. */
  nvidiaSmi: Probe<CommandCapture>;
  /** Kernel log text and the command that gave it. */
  kernelLog: Probe<{ source: string; text: string }>;
  osRelease: Probe<string>;
  kernelRelease: Probe<string>;
}

function isAbsent(e: unknown): boolean {
  return e instanceof FileMissingError;
}

async function readProbe(host: Host, path: string): Promise<Probe<string>> {
  try {
    return { state: 'ok', value: await host.readFile(path) };
  } catch (e) {
    if (isAbsent(e)) return { state: 'missing', detail: `${path} does not exist` };
    return { state: 'unknown', detail: errorMessage(e) };
  }
}

/** Run a command: 'missing' when it is not installed (ENOENT locally, exit 127 in a capture). */
export async function runProbe(host: Host, argv: string[]): Promise<Probe<CommandCapture>> {
  try {
    const r = await host.run(argv, { timeoutMs: 60_000 });
    if (r.exitCode === 127) return { state: 'missing', detail: `${argv[0]}: command not found` };
    return { state: 'ok', value: { argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr } };
  } catch (e) {
    if (e instanceof CommandNotFoundError) return { state: 'missing', detail: e.message };
    return { state: 'unknown', detail: errorMessage(e) };
  }
}

async function optional(host: Host, path: string): Promise<string | undefined> {
  try {
    return await host.readFile(path);
  } catch {
    return undefined;
  }
}

const hex = (s: string | undefined): number | undefined => {
  const t = s?.trim();
  return t !== undefined && /^0x[0-9a-fA-F]+$/.test(t) ? Number.parseInt(t, 16) : undefined;
};

async function readDevice(host: Host, address: string): Promise<GuestPciDevice> {
  const dir = `${PCI_DEVICES}/${address}`;
  const [vendor, device, klass, irq, enable, resource] = await Promise.all(
    ['vendor', 'device', 'class', 'irq', 'enable', 'resource'].map((f) => optional(host, `${dir}/${f}`)),
  );
  const dev: GuestPciDevice = { address };
  const vendorId = hex(vendor);
  if (vendorId !== undefined) dev.vendorId = vendorId;
  const deviceId = hex(device);
  if (deviceId !== undefined) dev.deviceId = deviceId;
  const classCode = hex(klass);
  if (classCode !== undefined) dev.classCode = classCode;
  if (irq !== undefined && /^\s*\d+\s*$/.test(irq)) dev.irq = Number(irq.trim());
  if (enable !== undefined && /^\s*[01]\s*$/.test(enable)) dev.enabled = enable.trim() === '1';
  try {
    const link = await host.readLink(`${dir}/driver`);
    dev.driver = link === undefined ? 'none' : (link.split('/').filter(Boolean).pop() ?? 'none');
  } catch (e) {
    if (isAbsent(e)) dev.driver = 'none';
  }
  try {
    dev.config = decodeConfigSpace(await host.readBytes(`${dir}/config`), `${dir}/config`);
  } catch (e) {
    dev.configError = errorMessage(e);
  }
  if (resource !== undefined) {
    try {
      dev.resources = parseSysfsResource(resource, `${dir}/resource`);
    } catch {
      // a resource file that does not parse only costs the BAR sizes
    }
  }
  return dev;
}

/** The kernel log: `dmesg` first, then the journal (dmesg needs root where kernel.dmesg_restrict=1). */
async function kernelLog(host: Host): Promise<Probe<{ source: string; text: string }>> {
  const tries = [['dmesg'], ['journalctl', '-k', '-b', '--no-pager']];
  const reasons: string[] = [];
  for (const argv of tries) {
    const p = await runProbe(host, argv);
    if (p.state === 'ok' && p.value.exitCode === 0 && p.value.stdout.trim() !== '')
      return { state: 'ok', value: { source: argv.join(' '), text: p.value.stdout } };
    reasons.push(
      p.state === 'ok'
        ? `${argv.join(' ')}: exit ${p.value.exitCode} ${p.value.stderr.trim().split('\n')[0] ?? ''}`.trim()
        : p.detail,
    );
  }
  return { state: 'unknown', detail: reasons.join('; ') };
}

/** Every PCI function under /sys/bus/pci/devices; `error` says why the list could not be read. */
export async function scanPciDevices(host: Host): Promise<{ devices: GuestPciDevice[]; error?: string }> {
  let names: string[];
  try {
    names = await host.listDir(PCI_DEVICES);
  } catch (e) {
    return {
      devices: [],
      error: e instanceof NotCapturedError ? `${PCI_DEVICES} was not captured` : errorMessage(e),
    };
  }
  return { devices: await Promise.all(names.map((n) => readDevice(host, n))) };
}

/** Everything `guest check` needs from a Linux guest, read through the Host only. */
export async function scanGuest(host: Host): Promise<GuestScan> {
  const { devices, error: devicesError } = await scanPciDevices(host);
  const [nvidiaVersion, nvidiaSmiXml, nvidiaSmi, log, osRelease, uname] = await Promise.all([
    readProbe(host, '/proc/driver/nvidia/version'),
    runProbe(host, ['nvidia-smi', '-q', '-x']),
    runProbe(host, ['nvidia-smi']),
    kernelLog(host),
    readProbe(host, '/etc/os-release'),
    runProbe(host, ['uname', '-r']),
  ]);
  const scan: GuestScan = {
    devices,
    nvidiaVersion,
    nvidiaSmiXml,
    nvidiaSmi,
    kernelLog: log,
    osRelease,
    kernelRelease:
      uname.state === 'ok'
        ? { state: 'ok', value: uname.value.stdout.trim() }
        : { state: uname.state, detail: uname.detail },
  };
  if (devicesError !== undefined) scan.devicesError = devicesError;
  return scan;
}

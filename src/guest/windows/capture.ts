/**
 * Windows guest captures, read on the host: the JSON of the project's check.ps1 (format
 * bhyve-gpu-windows-check), a plain `Get-PnpDevice | ConvertTo-Json` or
 * `Get-CimInstance Win32_PnPEntity | ConvertTo-Json`, and the text of `pnputil /enum-devices /problem`.
 *
 * Shapes PowerShell produces and this reader accepts:
 *  - encoding: Windows PowerShell 5.1 `>` / Out-File writes UTF-16 LE with a byte order mark; PowerShell 7
 *    writes UTF-8 without one; Set-Content -Encoding UTF8 in 5.1 adds a UTF-8 BOM. UTF-16 without a BOM is
 *    recognised by its NUL bytes.
 *  - ConvertTo-Json of one object is an object, of several an array; Windows PowerShell 5.1 writes an
 *    array that carries the ETS Count property as {"value": [...], "Count": n}.
 *  - enums are numbers unless -EnumsAsStrings (PowerShell 7) made them names (Problem: "CM_PROB_...").
 *  - 5.1 escapes & < > ' as \u0026 \u003c \u003e \u0027 (JSON.parse reads both).
 */

import { ParseError } from '../../errors.js';
import { jsonErrorOffset } from '../../host/json-position.js';
import { problemCodeByName } from './codes.js';

export type CaptureKind = 'windows-check' | 'windows-pnp-json' | 'pnputil';

export interface WinDevice {
  instanceId: string;
  name?: string;
  className?: string;
  status?: string;
  /** Device Manager problem code (ConfigManagerErrorCode); 0 = working. */
  problemCode?: number;
  present?: boolean;
  service?: string;
  /** pnputil's "Driver Name" (the driver package, oemN.inf). */
  driverInf?: string;
  driverVersion?: string;
  /** From PCI\VEN_xxxx&DEV_yyyy in the instance id. */
  vendorId?: number;
  deviceId?: number;
  /** pnputil's "Problem Status" (an NTSTATUS), when printed. */
  problemStatus?: string;
  /** 1-based line of the device in the capture (for evidence). */
  line: number;
}

export interface WinCapture {
  kind: CaptureKind;
  file: string;
  lines: number;
  computerName?: string;
  os?: string;
  psVersion?: string;
  /** Win32_ComputerSystem.HypervisorPresent; undefined when the capture does not say. */
  hypervisorPresent?: boolean;
  hypervisorLine?: number;
  devices: WinDevice[];
  /** nvidia-smi -q -x output, when the script found nvidia-smi. */
  nvidiaSmiXml?: string;
  nvidiaSmiExitCode?: number;
  notes: string[];
}

/** Bytes of a capture as text: UTF-16 LE/BE (BOM or NUL pattern), UTF-8 with or without a BOM. */
export function decodeCapture(buf: Buffer): string {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    const swapped = Buffer.from(buf.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)
    return buf.subarray(3).toString('utf8');
  // No BOM: ASCII text in UTF-16 LE has a NUL in every odd byte.
  const probe = buf.subarray(0, Math.min(buf.length, 512) & ~1);
  let oddNul = 0;
  for (let i = 1; i < probe.length; i += 2) if (probe[i] === 0) oddNul++;
  if (probe.length >= 4 && oddNul >= (probe.length / 2) * 0.9) return buf.toString('utf16le');
  return buf.toString('utf8');
}

/** Whether text (already decoded) looks like one of the Windows captures. */
export function windowsCaptureKind(text: string): CaptureKind | undefined {
  const head = text.slice(0, 16384);
  if (/^\s*Microsoft PnP Utility\s*$/m.test(head) || /^Instance ID: {2,}\S/m.test(head)) return 'pnputil';
  const start = head.trimStart()[0];
  if (start !== '{' && start !== '[') return undefined;
  if (/"format"\s*:\s*"bhyve-gpu-windows-check"/.test(head)) return 'windows-check';
  if (
    /"(InstanceId|PNPDeviceID|DeviceID)"\s*:/.test(head) &&
    /"(ConfigManagerErrorCode|Problem)"\s*:/.test(head)
  )
    return 'windows-pnp-json';
  return undefined;
}

/** The line of the first occurrence of any needle (1-based), or fallback. */
function lineOf(text: string, needles: string[], fallback = 1): number {
  for (const n of needles) {
    const at = text.indexOf(n);
    if (at >= 0) return text.slice(0, at).split('\n').length;
  }
  return fallback;
}

/** The ways ConvertTo-Json may have written a string value (5.1 escapes & < > '). */
function jsonForms(s: string): string[] {
  const plain = JSON.stringify(s);
  const ps51 = plain
    .replace(/&/g, '\\u0026')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/'/g, '\\u0027');
  return [ps51, plain];
}

function pciIds(instanceId: string): { vendorId?: number; deviceId?: number } {
  const m = /^PCI\\VEN_([0-9A-F]{4})&DEV_([0-9A-F]{4})/i.exec(instanceId);
  if (!m) return {};
  return { vendorId: Number.parseInt(m[1] as string, 16), deviceId: Number.parseInt(m[2] as string, 16) };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** An array, whatever ConvertTo-Json made of it: one object, an array, or 5.1's {value, Count}. */
function asList(v: Json | undefined): Json[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && Array.isArray(v.value) && typeof v.Count === 'number') return v.value;
  return [v];
}

function field(o: { [k: string]: Json }, ...names: string[]): Json | undefined {
  for (const n of names) if (o[n] !== undefined && o[n] !== null) return o[n];
  return undefined;
}

function str(v: Json | undefined): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** A problem code given as a number, a numeric string, or a CM_PROB_ name (-EnumsAsStrings). */
function code(v: Json | undefined): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    if (/^[0-9]+$/.test(v)) return Number(v);
    return problemCodeByName(v);
  }
  return undefined;
}

function deviceOf(o: { [k: string]: Json }, text: string): WinDevice | undefined {
  const instanceId = str(field(o, 'InstanceId', 'PNPDeviceID', 'DeviceID'));
  if (instanceId === undefined) return undefined;
  const d: WinDevice = { instanceId, line: lineOf(text, jsonForms(instanceId)), ...pciIds(instanceId) };
  const name = str(field(o, 'FriendlyName', 'Name', 'Caption'));
  if (name !== undefined) d.name = name;
  const cls = str(field(o, 'Class', 'PNPClass'));
  if (cls !== undefined) d.className = cls;
  const status = str(field(o, 'Status'));
  if (status !== undefined) d.status = status;
  const pc = code(field(o, 'ConfigManagerErrorCode', 'Problem', 'ProblemCode'));
  if (pc !== undefined) d.problemCode = pc;
  const present = field(o, 'Present');
  if (typeof present === 'boolean') d.present = present;
  const service = str(field(o, 'Service'));
  if (service !== undefined) d.service = service;
  return d;
}

function parseJson(text: string, file: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    const at = jsonErrorOffset(text);
    const line = at === undefined ? undefined : text.slice(0, at).split('\n').length;
    throw new ParseError(
      `not valid JSON: ${(e as Error).message}`,
      line === undefined ? { file } : { file, line },
      'capture it again with the script: bhyve-gpu guest script --windows',
    );
  }
}

function fromScript(doc: { [k: string]: Json }, text: string, file: string): WinCapture {
  const version = doc.version;
  if (version !== 1)
    throw new ParseError(
      `bhyve-gpu-windows-check version ${String(version)} is not one this bhyve-gpu reads`,
      {
        file,
        line: lineOf(text, ['"version"']),
      },
    );
  const cap: WinCapture = {
    kind: 'windows-check',
    file,
    lines: text.split('\n').length,
    devices: [],
    notes: [],
  };
  const computerName = str(doc.computerName);
  if (computerName) cap.computerName = computerName;
  const ps = str(doc.psVersion);
  if (ps) cap.psVersion = ps;
  const os = doc.os;
  if (os && typeof os === 'object' && !Array.isArray(os)) {
    const caption = str(os.Caption);
    const build = str(os.BuildNumber);
    if (caption) cap.os = build ? `${caption} (build ${build})` : caption;
  }
  const cs = doc.computerSystem;
  if (cs && typeof cs === 'object' && !Array.isArray(cs) && typeof cs.HypervisorPresent === 'boolean') {
    cap.hypervisorPresent = cs.HypervisorPresent;
    cap.hypervisorLine = lineOf(text, ['"HypervisorPresent"']);
  }
  for (const item of asList(doc.devices)) {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const d = deviceOf(item, text);
      if (d) cap.devices.push(d);
    }
  }
  for (const item of asList(doc.videoControllers)) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) continue;
    const id = str(item.PNPDeviceID);
    const version = str(item.DriverVersion);
    const dev = cap.devices.find((d) => d.instanceId === id);
    if (dev && version) dev.driverVersion = version;
  }
  const smi = doc.nvidiaSmi;
  if (smi && typeof smi === 'object' && !Array.isArray(smi)) {
    const out = str(smi.Output);
    if (out !== undefined) cap.nvidiaSmiXml = out;
    if (typeof smi.ExitCode === 'number') cap.nvidiaSmiExitCode = smi.ExitCode;
  }
  for (const n of asList(doc.notes)) if (typeof n === 'string') cap.notes.push(n);
  return cap;
}

/** `pnputil /enum-devices [/problem]`: blocks of "Key:   value" lines separated by blank lines. */
export function parsePnputil(text: string, file: string): WinCapture {
  const lines = text.split(/\r?\n/);
  const cap: WinCapture = { kind: 'pnputil', file, lines: lines.length, devices: [], notes: [] };
  let current: WinDevice | undefined;
  lines.forEach((raw, i) => {
    const m = /^([A-Za-z][A-Za-z ]*?):\s+(.*\S)\s*$/.exec(raw);
    if (!m) return;
    const key = m[1] as string;
    const value = m[2] as string;
    if (key === 'Instance ID') {
      current = { instanceId: value, line: i + 1, ...pciIds(value) };
      cap.devices.push(current);
      return;
    }
    if (!current) return;
    if (key === 'Device Description') current.name = value;
    else if (key === 'Class Name') current.className = value;
    else if (key === 'Status') current.status = value;
    else if (key === 'Driver Name') current.driverInf = value;
    else if (key === 'Problem Status') current.problemStatus = value;
    else if (key === 'Problem Code') {
      // "43 (0x2B) [CM_PROB_FAILED_POST_START]"
      const c = /^([0-9]+)/.exec(value);
      const named = /\[(CM_PROB_[A-Z0-9_]+)\]/.exec(value);
      const n = c ? Number(c[1]) : named ? problemCodeByName(named[1] as string) : undefined;
      if (n !== undefined) current.problemCode = n;
    }
  });
  for (const d of cap.devices)
    if (d.problemCode === undefined && /^(Started|Disabled|Stopped)$/.test(d.status ?? '')) d.problemCode = 0;
  return cap;
}

/** Read any of the three captures from its bytes; ParseError (with file and line) when it is none. */
export function readWindowsCapture(buf: Buffer, file: string): WinCapture {
  const text = decodeCapture(buf).replace(/\r\n/g, '\n');
  if (text.trim() === '')
    throw new ParseError(
      'empty capture',
      { file },
      'run the script in the guest: bhyve-gpu guest script --windows',
    );
  const kind = windowsCaptureKind(text);
  if (kind === 'pnputil') return parsePnputil(text, file);
  if (kind === undefined)
    throw new ParseError(
      'not a Windows guest capture (expected the JSON of check.ps1, Get-PnpDevice | ConvertTo-Json, or pnputil /enum-devices /problem text)',
      { file, line: 1 },
      'capture it with the script: bhyve-gpu guest script --windows > check.ps1',
    );
  const doc = parseJson(text, file);
  if (kind === 'windows-check' && doc && typeof doc === 'object' && !Array.isArray(doc))
    return fromScript(doc, text, file);
  const cap: WinCapture = {
    kind: 'windows-pnp-json',
    file,
    lines: text.split('\n').length,
    devices: [],
    notes: [],
  };
  for (const item of asList(doc)) {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const d = deviceOf(item, text);
      if (d) cap.devices.push(d);
    }
  }
  if (cap.devices.length === 0)
    throw new ParseError('no PnP device (InstanceId) in the JSON', { file, line: 1 });
  return cap;
}

export const NVIDIA_VENDOR = 0x10de;

/** The NVIDIA display function(s) of a capture (class Display, or VEN_10DE with a display name). */
export function nvidiaGpus(cap: WinCapture): WinDevice[] {
  return cap.devices.filter(
    (d) =>
      d.vendorId === NVIDIA_VENDOR &&
      (d.className === undefined
        ? /NVIDIA|GeForce|Quadro|Tesla|RTX/i.test(d.name ?? '')
        : /^Display$/i.test(d.className)),
  );
}

/**
 * NVIDIA's Windows driver version from the Windows one: the last five digits of the last two fields,
 * "32.0.15.6094" -> "560.94".
 */
export function nvidiaVersion(windowsVersion: string): string | undefined {
  const parts = windowsVersion.split('.');
  // NVIDIA's are always NN.N.NN.NNNN (the last digit of field 3 and all of field 4 are the version).
  if (parts.length !== 4 || !/^[0-9]{2}$/.test(parts[2] as string) || !/^[0-9]{4}$/.test(parts[3] as string))
    return undefined;
  const digits = `${parts[2]}${parts[3]}`.slice(-5);
  return `${Number(digits.slice(0, 3))}.${digits.slice(3)}`;
}

/**
 * Diagnose for Windows guests: Device Manager problem codes (10, 12, 28, 31, 43, ...) read from a capture
 * (check.ps1 JSON, Get-PnpDevice / Win32_PnPEntity ConvertTo-Json, `pnputil /enum-devices /problem`),
 * explained in bhyve terms by the signatures of kb/windows.json. These are not line patterns: a signature
 * matches a device's problem code, which functions of the card it is on, and whether the guest sees a
 * hypervisor.
 */

import { z } from 'zod';
import { assetText } from '../assets.js';
import { ToolError } from '../errors.js';
import {
  NVIDIA_VENDOR,
  nvidiaGpus,
  nvidiaVersion,
  type WinCapture,
  type WinDevice,
} from '../guest/windows/capture.js';
import { describeCode, PROBLEM_TEXT } from '../guest/windows/codes.js';
import type { Evidence, Finding } from './types.js';

const windowsSignatureSchema = z
  .object({
    id: z.string().regex(/^guest\.windows\.[a-z0-9-]+$/),
    match: z.enum(['problem', 'no-gpu', 'hypervisor-visible']),
    codes: z.array(z.number().int().positive()),
    devices: z.enum(['nvidia', 'nvidia-display', 'nvidia-other']),
    hypervisor: z.enum(['any', 'visible', 'hidden-or-unknown']),
    severity: z.enum(['error', 'warning', 'info']),
    title: z.string().min(1),
    explanation: z.string().min(1),
    fix: z.array(z.string().min(1)),
    commands: z.array(z.array(z.string().min(1)).min(1)).optional(),
    noCommand: z.string().min(1).optional(),
    rootCause: z.boolean(),
    consequenceOf: z.array(z.string()),
    references: z.array(z.string()),
  })
  .strict();

export type WindowsSignature = z.infer<typeof windowsSignatureSchema>;

let cached: WindowsSignature[] | undefined;

/** kb/windows.json, validated: ids unique, consequenceOf resolves, a signature has commands or noCommand. */
export function loadWindowsKb(): WindowsSignature[] {
  if (cached) return cached;
  const text = assetText('diagnose/kb/windows.json');
  const parsed = z
    .object({ signatures: z.array(windowsSignatureSchema) })
    .strict()
    .safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ToolError('kb-invalid', `windows.json: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const sigs = parsed.data.signatures;
  const ids = new Set(sigs.map((s) => s.id));
  const problems: string[] = [];
  if (ids.size !== sigs.length) problems.push('duplicate id');
  for (const s of sigs) {
    for (const c of s.consequenceOf)
      if (!ids.has(c) || c === s.id) problems.push(`${s.id}: consequenceOf ${c}`);
    if (!s.commands && !s.noCommand) problems.push(`${s.id}: neither commands nor noCommand`);
  }
  if (problems.length) throw new ToolError('kb-invalid', `windows.json: ${problems.join('; ')}`);
  cached = sigs;
  return sigs;
}

/** What fills the placeholders of a signature's commands. */
export interface WindowsContext {
  /** Host GPU: bhyve ID or vendor:device (default: 10de:DEVICE of the guest's NVIDIA GPU). */
  gpu?: string;
  /** vm-bhyve guest name. */
  vm?: string;
  /** FreeBSD source tree (default /usr/local/bhyve-gpu/src). */
  src?: string;
}

export const DEFAULT_SRC = '/usr/local/bhyve-gpu/src';

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** The host-side spelling of the guest's GPU: "10de:2684" (attach and guest setup accept it). */
export function gpuSpecOf(cap: WinCapture): string | undefined {
  const gpu = nvidiaGpus(cap)[0] ?? cap.devices.find((d) => d.vendorId === NVIDIA_VENDOR);
  return gpu?.deviceId !== undefined ? `10de:${hex4(gpu.deviceId)}` : undefined;
}

/**
 * Fill {gpu} {vm} {src}. A command whose placeholder stays unknown is left out, and the reason says which
 * option supplies it; the remaining commands keep their order.
 */
export function fillCommands(
  templates: string[][] | undefined,
  values: Record<string, string | undefined>,
): { commands?: string[][]; missing: string[] } {
  if (!templates) return { missing: [] };
  const missing = new Set<string>();
  const commands: string[][] = [];
  for (const t of templates) {
    let ok = true;
    const argv = t.map((a) =>
      a.replace(/\{(gpu|vm|src)\}/g, (_m, k: string) => {
        const v = values[k];
        if (v === undefined) {
          ok = false;
          missing.add(k);
          return '';
        }
        return v;
      }),
    );
    if (ok) commands.push(argv);
  }
  return commands.length ? { commands, missing: [...missing] } : { missing: [...missing] };
}

function isDisplay(d: WinDevice, gpus: WinDevice[]): boolean {
  return gpus.includes(d);
}

function deviceMatches(sig: WindowsSignature, d: WinDevice, gpus: WinDevice[]): boolean {
  if (d.vendorId !== NVIDIA_VENDOR) return false;
  if (sig.devices === 'nvidia-display') return isDisplay(d, gpus);
  if (sig.devices === 'nvidia-other') return !isDisplay(d, gpus);
  return true;
}

/** From R465 on, NVIDIA's Windows drivers accept a hypervisor (GeForce included). */
const HV_FRIENDLY_BRANCH = 465;

/**
 * Whether a visible hypervisor can explain a Code 43: it is visible, and the NVIDIA driver is older than
 * R465 or its version is unknown.
 */
function hypervisorSuspect(cap: WinCapture): boolean {
  if (cap.hypervisorPresent !== true) return false;
  const version = nvidiaGpus(cap)
    .map((g) => (g.driverVersion ? nvidiaVersion(g.driverVersion) : undefined))
    .find((v) => v !== undefined);
  return version === undefined || Number(version.split('.')[0]) < HV_FRIENDLY_BRANCH;
}

function hypervisorMatches(sig: WindowsSignature, cap: WinCapture): boolean {
  if (sig.hypervisor === 'visible') return hypervisorSuspect(cap);
  if (sig.hypervisor === 'hidden-or-unknown') return !hypervisorSuspect(cap);
  return true;
}

function deviceEvidence(cap: WinCapture, d: WinDevice): Evidence {
  const code = d.problemCode ?? 0;
  const text = PROBLEM_TEXT[code];
  return {
    file: cap.file,
    line: d.line,
    text: `${d.name ?? 'device'} [${d.instanceId}]: ${describeCode(code)}${text ? ` "${text}"` : ''}${d.status ? `, status ${d.status}` : ''}`,
  };
}

function hypervisorEvidence(cap: WinCapture): Evidence[] {
  if (cap.hypervisorPresent === undefined) return [];
  return [
    {
      file: cap.file,
      line: cap.hypervisorLine ?? 1,
      text: `Win32_ComputerSystem.HypervisorPresent = ${cap.hypervisorPresent ? 'True' : 'False'}`,
    },
  ];
}

const RANK = { error: 0, warning: 1, info: 2 } as const;

/** Findings for one capture, root causes first. */
export function diagnoseWindows(cap: WinCapture, ctx: WindowsContext = {}): Finding[] {
  const sigs = loadWindowsKb();
  const gpus = nvidiaGpus(cap);
  const values = { gpu: ctx.gpu ?? gpuSpecOf(cap), vm: ctx.vm, src: ctx.src ?? DEFAULT_SRC };
  const hits = new Map<WindowsSignature, Evidence[]>();
  const claimed = new Set<WinDevice>();
  for (const sig of sigs) {
    if (sig.match !== 'problem' || sig.codes.length === 0 || !hypervisorMatches(sig, cap)) continue;
    const devices = cap.devices.filter(
      (d) => d.problemCode !== undefined && sig.codes.includes(d.problemCode) && deviceMatches(sig, d, gpus),
    );
    if (devices.length === 0) continue;
    for (const d of devices) claimed.add(d);
    const evidence = devices.map((d) => deviceEvidence(cap, d));
    if (sig.hypervisor !== 'any' || sig.id.includes('code-43')) {
      evidence.push(...hypervisorEvidence(cap));
      const d = devices.find((x) => x.driverVersion);
      const nv = d?.driverVersion ? nvidiaVersion(d.driverVersion) : undefined;
      if (d && nv)
        evidence.push({
          file: cap.file,
          line: d.line,
          text: `NVIDIA driver ${nv} (Windows ${d.driverVersion})${Number(nv.split('.')[0]) < HV_FRIENDLY_BRANCH ? ': older than R465, refuses GeForce cards under a hypervisor' : ': R465 or newer, accepts a hypervisor'}`,
        });
    }
    hits.set(sig, evidence);
  }
  for (const sig of sigs) {
    if (sig.match === 'problem' && sig.codes.length === 0) {
      const rest = cap.devices.filter(
        (d) => !claimed.has(d) && (d.problemCode ?? 0) !== 0 && deviceMatches(sig, d, gpus),
      );
      if (rest.length)
        hits.set(
          sig,
          rest.map((d) => deviceEvidence(cap, d)),
        );
    } else if (sig.match === 'no-gpu') {
      // Only a capture that lists every NVIDIA function (the script's) can say the GPU is absent.
      if (cap.kind === 'windows-check' && !cap.devices.some((d) => d.vendorId === NVIDIA_VENDOR))
        hits.set(sig, [
          { file: cap.file, line: 1, text: `no PCI\\VEN_10DE device among ${cap.devices.length} listed` },
        ]);
    } else if (sig.match === 'hypervisor-visible') {
      const healthy = gpus.length > 0 && gpus.every((g) => (g.problemCode ?? 0) === 0);
      if (healthy && cap.hypervisorPresent === true) hits.set(sig, hypervisorEvidence(cap));
    }
  }
  const fired = new Set([...hits.keys()].map((s) => s.id));
  const findings = [...hits.entries()].map(([sig, evidence], order) => {
    const causedBy = sig.consequenceOf.filter((c) => fired.has(c));
    const filled = fillCommands(sig.commands, values);
    const f: Finding = {
      id: sig.id,
      severity: sig.severity,
      title: sig.title,
      rootCause: sig.rootCause && causedBy.length === 0,
      evidence,
      occurrences: evidence.length,
      explanation: sig.explanation,
      fix: sig.fix,
    };
    if (causedBy.length) f.causedBy = causedBy;
    if (filled.commands) f.commands = filled.commands;
    const reasons = [
      ...(filled.missing.length
        ? [
            `commands that need ${filled.missing.map((m) => (m === 'gpu' ? '--gpu (the host GPU)' : `--${m}`)).join(' and ')} are left out; pass ${filled.missing.length > 1 ? 'them' : 'it'} to get them`,
          ]
        : []),
      ...(sig.noCommand ? [sig.noCommand] : []),
    ];
    if (reasons.length && !f.commands) f.noCommand = reasons.join('; ');
    else if (reasons.length && filled.missing.length) f.noCommand = reasons.join('; ');
    return { f, order };
  });
  findings.sort(
    (a, b) =>
      Number(!a.f.rootCause) - Number(!b.f.rootCause) ||
      RANK[a.f.severity] - RANK[b.f.severity] ||
      a.order - b.order,
  );
  return findings.map((x) => x.f);
}

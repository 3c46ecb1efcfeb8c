import type { Platform } from '../host/platform.js';
import type { Inventory } from '../inventory/types.js';
import type { InterruptedEntry } from '../plan/recover.js';

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL' | 'UNKNOWN';

export interface CheckResult {
  /** Stable id: "host.iommu", "gpu.1/0/0.reserved", "vm.xdev.wired-memory". */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was seen, as short lines ("acpidump -t: DMAR table present"). */
  evidence: string[];
  /** The exact fix, a bhyve-gpu command where one exists. */
  fix?: string;
  /**
   * The fix as argv arrays, run in order, runnable as they stand on this host (GPU, VM and paths filled
   * in; `--yes` where the step applies changes). Absent or empty when no command can do it: then
   * `noCommand` says why.
   */
  commands?: string[][];
  /** Why no command fixes this (a BIOS setting, hardware, a step outside bhyve-gpu). */
  noCommand?: string;
}

/** A VM's config as doctor sees it. */
export interface VmContext {
  name: string;
  path: string | undefined;
  text: string | undefined;
  /** /dev/vmm/<name> exists. */
  instance: boolean | undefined;
}

export interface DoctorContext {
  inventory: Inventory;
  /** What system the host is (set when uname did not say: a Linux guest snapshot is told by its sysfs). */
  platform?: Platform;
  vm?: VmContext;
  /** Findings from the guest log, when --guest-log was given. */
  guestFindings?: {
    id: string;
    severity: 'error' | 'warning' | 'info';
    title: string;
    fix: string;
    evidence: { file: string; line: number; text: string }[];
    /** The finding's fix as argv arrays (diagnose's Finding.commands), when it has them. */
    commands?: string[][] | undefined;
    noCommand?: string | undefined;
  }[];
  /** Journal entries a killed run left half done (see plan/recover.ts). */
  interrupted?: InterruptedEntry[];
  /** Why the guest log gave no findings at all: empty, blank or binary (diagnose refuses such input). */
  guestLogRefused?: { file: string; reason: string };
}

export type Check = (ctx: DoctorContext) => CheckResult[];

export function result(
  id: string,
  title: string,
  status: CheckStatus,
  evidence: string[],
  fix?: string,
  advice: { commands?: string[][] | undefined; noCommand?: string | undefined } = {},
): CheckResult {
  const r: CheckResult =
    fix === undefined ? { id, title, status, evidence } : { id, title, status, evidence, fix };
  if (advice.commands?.length) r.commands = advice.commands;
  else if (advice.noCommand) r.noCommand = advice.noCommand;
  return r;
}

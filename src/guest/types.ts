import type { Finding } from '../diagnose/types.js';
import type { PciBar } from './cfgspace.js';
import type { Architecture } from './generations.js';
import type { SmiGpu, SmiResult } from './nvidia-smi.js';

/** The answers of `guest check` (JSON output shape; see docs/guest.md). */
export type Answer = 'yes' | 'no' | 'unknown';

export interface GuestCheckItem {
  id:
    | 'guest-os'
    | 'gpu-visible'
    | 'interrupt-pin'
    | 'irq'
    | 'msi'
    | 'driver-bound'
    | 'driver-initialised'
    | 'memory'
    // Windows guests (src/guest/windows/check.ts)
    | 'problem-code'
    | 'hypervisor-hidden';
  /** The GPU (sysfs address) the answer is about; absent for gpu-visible. */
  device?: string;
  question: string;
  answer: Answer;
  detail: string;
  evidence: string[];
  fix?: string;
  /** The fix as argv arrays (host-side `bhyve-gpu ...` or guest-side), run in order. */
  commands?: string[][];
  /** Why no command fixes this. */
  noCommand?: string;
}

export interface GuestGpu {
  address: string;
  vendorId: number;
  deviceId: number;
  architecture?: Architecture;
  driver?: string;
  irq?: number;
  interruptPin?: number;
  msi?: { present: boolean; enabled: boolean };
  msix?: { present: boolean; enabled: boolean; tableSize: number };
  bars: PciBar[];
  smi?: SmiGpu;
}

export interface GuestReport {
  host: string;
  gpus: GuestGpu[];
  checks: GuestCheckItem[];
  /** Kernel-log findings from the diagnose engine (root causes first). */
  findings: Finding[];
  driverVersion?: string;
  cudaVersion?: string;
  kernelLogSource?: string;
  /** True when an NVIDIA GPU is visible and the driver initialised every one of them. */
  ok: boolean;
}

/** What nvidia-smi said (XML first, else the table), and which command said it. */
export interface SmiAnswer {
  result?: SmiResult;
  evidence: string;
  error?: string;
}

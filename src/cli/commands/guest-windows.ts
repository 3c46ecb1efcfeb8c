/** The Windows halves of `guest check`, `guest setup` and `guest script` (see docs/windows.md). */

import { readFile } from 'node:fs/promises';
import { assetText } from '../../assets.js';
import { ToolError, UsageError } from '../../errors.js';
import { parseGpuSpec } from '../../guest/setup.js';
import { readWindowsCapture, type WinCapture } from '../../guest/windows/capture.js';
import { checkWindowsCapture, gpuSpecOf } from '../../guest/windows/check.js';
import { formatWindowsReport } from '../../guest/windows/format.js';
import { planWindowsSetup } from '../../guest/windows/setup.js';
import { SCHEMA_VERSION } from '../../version.js';
import { EXIT, out, printJson } from '../output.js';

export interface WindowsCheckFlags {
  from?: string;
  vm?: string;
  gpu?: string;
  src?: string;
}

export async function readCaptureFile(file: string): Promise<WinCapture> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ToolError(
      'unreadable-input',
      `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`}`,
      {
        exitCode: EXIT.usage,
      },
    );
  }
  return readWindowsCapture(buf, file);
}

/** `guest check --from FILE`: read a Windows capture on the host and answer the check's questions. */
export async function windowsCheck(
  flags: WindowsCheckFlags & { from: string },
  json: boolean,
): Promise<void> {
  const cap = await readCaptureFile(flags.from);
  const report = checkWindowsCapture(cap, {
    ...(flags.vm !== undefined ? { vm: flags.vm } : {}),
    ...(flags.gpu !== undefined ? { gpu: flags.gpu } : {}),
    ...(flags.src !== undefined ? { src: flags.src } : {}),
  });
  if (json) printJson({ schemaVersion: SCHEMA_VERSION, ...report });
  else out(formatWindowsReport(report));
  process.exitCode = report.ok ? EXIT.ok : EXIT.failure;
}

/** `guest script --windows`: the check script, byte for byte. */
export function windowsScript(): string {
  return assetText('guest/windows/check.ps1');
}

/** `guest setup --windows`: steps and the driver script for the GPU (from --gpu or a capture). */
export async function windowsSetup(
  flags: { gpu?: string; from?: string; format?: string; run?: boolean },
  json: boolean,
): Promise<void> {
  if (flags.run)
    throw new UsageError(
      '--run installs on this machine; with --windows the script runs in the Windows guest',
    );
  if (flags.format !== undefined && flags.format !== 'script')
    throw new UsageError(`--format ${flags.format} is for Linux guests`, 'leave --format out with --windows');
  let spec = flags.gpu;
  if (spec === undefined && flags.from !== undefined) spec = gpuSpecOf(await readCaptureFile(flags.from));
  if (spec === undefined)
    throw new UsageError(
      flags.from !== undefined
        ? `${flags.from}: no NVIDIA GPU in the capture`
        : 'name the GPU: --gpu 10de:DEVICE or --from CAPTURE',
      'Device Manager > the GPU > Details > Hardware Ids shows PCI\\VEN_10DE&DEV_XXXX; or read the check script JSON with --from',
    );
  const plan = planWindowsSetup(parseGpuSpec(spec));
  if (json) printJson({ schemaVersion: SCHEMA_VERSION, os: 'windows', ...plan });
  else process.stdout.write(plan.script);
}

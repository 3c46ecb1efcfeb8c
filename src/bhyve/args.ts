import type { GpuGroup } from '../inventory/types.js';

export interface PassthruArgsOptions {
  /** Guest PCI slot for the GPU; its functions keep their host function numbers. */
  slot: number;
  rom?: string;
}

/** bhyve(8) options: -S (wired memory, required by passthru) and one -s per function. */
export function bhyveArgs(gpu: GpuGroup, opts: PassthruArgsOptions): string[] {
  const args = ['-S'];
  for (const f of gpu.functions) {
    const d = f.device;
    const rom = opts.rom && d.function === gpu.functions[0]?.device.function ? `,rom=${opts.rom}` : '';
    args.push('-s', `${opts.slot}:${d.function},passthru,${d.bhyveId}${rom}`);
  }
  return args;
}

/**
 * The same as bhyve_config(5) lines (for `bhyve -k file`): memory.wired, and per function
 * pci.0.<slot>.<func>.device=passthru with pptdev= (when the function is on ppt) or bus/slot/func, and rom.
 */
export function bhyveConfigLines(gpu: GpuGroup, opts: PassthruArgsOptions): string[] {
  const lines = ['memory.wired=true'];
  for (const f of gpu.functions) {
    const d = f.device;
    const k = `pci.0.${opts.slot}.${d.function}`;
    lines.push(`${k}.device=passthru`);
    if (d.driver === 'ppt' && d.unit !== undefined) lines.push(`${k}.pptdev=ppt${d.unit}`);
    else lines.push(`${k}.bus=${d.bus}`, `${k}.slot=${d.slot}`, `${k}.func=${d.function}`);
    if (opts.rom && d.function === gpu.functions[0]?.device.function) lines.push(`${k}.rom=${opts.rom}`);
  }
  return lines;
}

import { idPair, matchSpec, parseGpuSpec } from '../bhyve/ids.js';
import { ToolError, UsageError } from '../errors.js';
import type { GpuGroup, Inventory } from './types.js';

/**
 * The GPU a user named on the command line (bhyve ID, selector or vendor:device), with all its functions.
 * A function other than the first (e.g. the HDMI audio at 1/0/1) selects its whole GPU.
 */
export function resolveGpu(inv: Inventory, text: string): GpuGroup {
  const spec = parseGpuSpec(text);
  if (inv.devices === undefined)
    throw new ToolError(
      'unknown-devices',
      'the PCI device list (pciconf -lbcv) is not available on this host',
      {
        hint: 'run on the FreeBSD host itself, or record a snapshot there with `bhyve-gpu snapshot`',
      },
    );
  const matches = matchSpec(spec, inv.devices);
  if (matches.length === 0)
    throw new UsageError(
      `no PCI device matches ${text}`,
      `GPUs on ${inv.host.hostname}: ${inv.gpus.map((g) => `${g.id} (${idPair(g)} ${g.name})`).join(', ') || 'none'}`,
    );
  const groups = [
    ...new Set(matches.map((d) => inv.gpus.find((g) => g.functions.some((f) => f.device === d)))),
  ];
  if (groups.some((g) => g === undefined)) {
    const d = matches[0];
    throw new UsageError(
      `${text} is ${d?.driver ?? 'none'}${d?.unit ?? ''} at ${d?.bhyveId} (${d?.deviceName ?? d?.className ?? 'not a GPU'}), not a GPU or one of its functions`,
      'bhyve-gpu scan lists the GPUs and their functions',
    );
  }
  if (groups.length > 1)
    throw new UsageError(
      `${text} matches ${groups.length} GPUs: ${groups.map((g) => g?.id).join(', ')}`,
      'name one by its bhyve ID (e.g. 1/0/0) instead',
    );
  return groups[0] as GpuGroup;
}

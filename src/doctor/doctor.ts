import type { Host } from '../host/types.js';
import { fileText } from '../inventory/collect.js';
import { scanHost } from '../inventory/inventory.js';
import { gpuChecks } from './checks/gpu.js';
import { cpuVirtualisation, hostOs, installedBhyve, iommu, stalePptdevs, vmmLoad } from './checks/host.js';
import { guestLogChecks, vmChecks } from './checks/vm.js';
import type { Check, CheckResult, DoctorContext, VmContext } from './types.js';

/** The checklist, in the order an administrator fixes things. */
export const CHECKS: readonly Check[] = [
  hostOs,
  cpuVirtualisation,
  iommu,
  vmmLoad,
  stalePptdevs,
  installedBhyve,
  gpuChecks,
  vmChecks,
  guestLogChecks,
];

export function runChecks(ctx: DoctorContext): CheckResult[] {
  return CHECKS.flatMap((c) => c(ctx));
}

export function vmContext(ctx: Pick<DoctorContext, 'inventory'>, name: string): VmContext {
  const inv = ctx.inventory;
  const path = inv.host.vmDir ? `${inv.host.vmDir}/${name}/${name}.conf` : undefined;
  const text = path ? fileText(inv.raw, path) : undefined;
  const running = inv.host.runningVms;
  return { name, path, text, instance: running === undefined ? undefined : running.includes(name) };
}

export async function doctor(
  host: Host,
  options: { vm?: string; guestFindings?: DoctorContext['guestFindings'] } = {},
) {
  const inventory = await scanHost(host);
  const ctx: DoctorContext = { inventory };
  if (options.vm) ctx.vm = vmContext(ctx, options.vm);
  if (options.guestFindings) ctx.guestFindings = options.guestFindings;
  return { inventory, results: runChecks(ctx) };
}

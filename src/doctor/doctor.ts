import { detectPlatform } from '../host/platform.js';
import type { Host } from '../host/types.js';
import { fileText } from '../inventory/collect.js';
import { scanHost } from '../inventory/inventory.js';
import { JOURNAL_DIR } from '../plan/journal.js';
import { LOCK_PATH } from '../plan/lock.js';
import { interruptedEntries, lockHeldByLiveRun } from '../plan/recover.js';
import { UNKNOWN_NO_COMMAND } from './advice.js';
import { gpuChecks } from './checks/gpu.js';
import { cpuVirtualisation, hostOs, installedBhyve, iommu, stalePptdevs, vmmLoad } from './checks/host.js';
import { interruptedJournal } from './checks/journal.js';
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
  interruptedJournal,
];

/**
 * Every check, in order. On a system that is not FreeBSD only host.os is reported: the FreeBSD checks
 * would be a list of UNKNOWNs that hides the real answer. An UNKNOWN that a check left without advice
 * says why no command helps.
 */
export function runChecks(ctx: DoctorContext): CheckResult[] {
  const os = hostOs(ctx);
  if (os.some((r) => r.status === 'FAIL') && (ctx.platform?.os === 'linux' || ctx.inventory.host.sysname))
    return os;
  return CHECKS.flatMap((c) => c(ctx)).map((r) =>
    r.status === 'UNKNOWN' && !r.commands?.length && !r.noCommand
      ? { ...r, noCommand: UNKNOWN_NO_COMMAND }
      : r,
  );
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
  options: {
    vm?: string;
    guestFindings?: DoctorContext['guestFindings'];
    guestLogRefused?: DoctorContext['guestLogRefused'];
  } = {},
) {
  const inventory = await scanHost(host);
  const ctx: DoctorContext = { inventory };
  if (inventory.host.sysname === undefined) ctx.platform = await detectPlatform(host);
  // A snapshot holds no journal; on a host (or under --root) a killed run's entry is reported.
  if (host.kind !== 'snapshot' || 'root' in host)
    if (!(await lockHeldByLiveRun(host, LOCK_PATH))) {
      const interrupted = await interruptedEntries(host, JOURNAL_DIR);
      if (interrupted.length) ctx.interrupted = interrupted;
    }
  if (options.vm) ctx.vm = vmContext(ctx, options.vm);
  if (options.guestFindings) ctx.guestFindings = options.guestFindings;
  if (options.guestLogRefused) ctx.guestLogRefused = options.guestLogRefused;
  return { inventory, results: runChecks(ctx) };
}

import { parsePciconfDetailed } from '../facts/pciconf.js';
import type { Host } from '../host/types.js';
import { collect, commandResult, type RawProbe } from './collect.js';
import { findStale, groupGpus } from './gpus.js';
import { buildHostFacts } from './host-facts.js';
import { PCI_PROBE } from './probes.js';
import type { Inventory } from './types.js';

function hostnameOf(host: Host, raw: RawProbe): string {
  if (host.kind === 'snapshot' && 'snapshot' in host) {
    const snap = (host as unknown as { snapshot: { hostname: string } }).snapshot;
    return snap.hostname;
  }
  const uname = commandResult(raw, ['uname', '-a'])?.result?.stdout.split(/\s+/)[1];
  return uname ?? 'unknown';
}

/** Pure: typed inventory from one probe pass. */
export function buildInventory(raw: RawProbe, hostname: string, description: string): Inventory {
  const unknown: string[] = [];
  const warnings: string[] = [];
  const host = buildHostFacts(raw, hostname, description, unknown);
  const pci = commandResult(raw, PCI_PROBE);
  let devices: Inventory['devices'];
  if (pci?.state === 'ok' && pci.result && pci.result.exitCode === 0) {
    const parsed = parsePciconfDetailed(pci.result.stdout);
    devices = parsed.value;
    for (const w of parsed.warnings) warnings.push(`pciconf -lbcv line ${w.line}: ${w.message}`);
  } else {
    unknown.push(
      `${PCI_PROBE.join(' ')}: ${pci?.reason ?? `exit ${pci?.result?.exitCode}: ${pci?.result?.stderr.trim()}`}`,
    );
  }
  const gpus = devices ? groupGpus(devices, host) : [];
  const stale = devices && host.pptdevs ? findStale(host.pptdevs, devices, host) : [];
  if (host.sysname !== undefined && host.sysname !== 'FreeBSD')
    warnings.push(
      `this host runs ${host.sysname}, not FreeBSD: bhyve passthrough needs a FreeBSD/amd64 host (inside a Linux guest: bhyve-gpu guest check)`,
    );
  if (host.vmm.kldList && !host.vmm.loaderConf)
    warnings.push(
      'vmm is loaded from rc.conf kld_list only: it loads too late to claim pptdevs devices; set vmm_load="YES" in /boot/loader.conf',
    );
  for (const g of gpus) {
    if (!g.mmio.fits) {
      for (const w of g.mmio.windows.filter((x) => !x.fits))
        g.warnings.push(
          `${w.overflow?.owner ?? 'a BAR'} does not fit bhyve's ${w.window} MMIO window (${w.capacity / 1024 ** 3} GiB)`,
        );
    }
    const notPpt = g.functions.filter((f) => f.state !== 'ppt-attached');
    if (notPpt.length > 0 && notPpt.length < g.functions.length)
      g.warnings.push(`functions split: ${notPpt.map((f) => f.device.bhyveId).join(', ')} not on ppt`);
  }
  return { host, devices, gpus, stale, warnings, unknown, raw };
}

/** One probe pass on a host, then the inventory. */
export async function scanHost(host: Host): Promise<Inventory> {
  const raw = await collect(host);
  return buildInventory(raw, hostnameOf(host, raw), host.description);
}

import type { Command } from 'commander';
import { idPair } from '../../bhyve/ids.js';
import { formatBytes } from '../../bhyve/mmio.js';
import { ToolError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { detectPlatform } from '../../host/platform.js';
import { installedQuirks } from '../../inventory/gpus.js';
import { scanHost } from '../../inventory/inventory.js';
import type { GpuGroup, Inventory } from '../../inventory/types.js';
import { manifestQuirks } from '../../patch/quirks/words.js';
import { SCHEMA_VERSION } from '../../version.js';
import { globals, out, printJson, style, table } from '../output.js';

const HELP = `
Examples:
  bhyve-gpu scan                                   # this host
  bhyve-gpu scan --host examples/hosts/tesla-p4-15.0.json
  bhyve-gpu scan --host ssh://root@gpu-host --json

Device states:
  ppt-attached            held by ppt(4): ready for a guest
  reserved-not-attached   listed in pptdevs but not on ppt (reboot pending, or vmm loaded too late)
  host-driver             a host driver has it
  unclaimed               no driver

Exit codes: 0 scan done, 1 the host could not be scanned, 2 usage error.`;

export function register(program: Command): void {
  program
    .command('scan')
    .description('inventory GPUs, their functions and passthrough state, and host readiness')
    .addHelpText('after', HELP)
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const host = await openHost(g.host, g.root);
      try {
        const inv = await scanHost(host);
        if (inv.host.sysname === undefined || inv.host.sysname !== 'FreeBSD') {
          const platform =
            inv.host.sysname === undefined
              ? await detectPlatform(host)
              : { os: 'other', evidence: `uname: ${inv.host.sysname}` };
          if (platform.os !== 'freebsd' && platform.os !== 'unknown')
            throw new ToolError(
              'not-freebsd',
              `${host.description} is not a FreeBSD host (${platform.evidence}): nothing to scan`,
              {
                hint:
                  platform.os === 'linux'
                    ? 'inside a Linux guest: bhyve-gpu guest check; scan runs on the FreeBSD host'
                    : 'run scan on the FreeBSD host, or with --host ssh://HOST',
              },
            );
        }
        if (g.json) printJson(scanJson(inv));
        else printScan(inv);
        // A host whose PCI devices could not be read was not scanned: say so in the exit status too.
        if (inv.devices === undefined) process.exitCode = 1;
      } finally {
        await host.close();
      }
    });
}

export function scanJson(inv: Inventory) {
  const h = inv.host;
  return {
    schemaVersion: SCHEMA_VERSION,
    host: {
      hostname: h.hostname,
      source: h.description,
      release: h.releaseText,
      machine: h.machine,
      iommu: h.iommu,
      vmm: { loaded: h.vmm.loaded, loaderConf: h.vmm.loaderConf, kldList: h.vmm.kldList },
      pptdevs: h.pptdevs,
      loaderFiles: h.loaderFiles,
      bhyve: {
        state: h.bhyve.state,
        detail: h.bhyve.detail,
        quirks: installedQuirks(h),
        ...(h.vmm.hideHypervisor === undefined ? {} : { hideHypervisor: h.vmm.hideHypervisor }),
        ...(h.bhyve.manifest
          ? {
              installed: {
                installedAt: h.bhyve.manifest.installedAt,
                quirks: manifestQuirks(h.bhyve.manifest),
                source: h.bhyve.manifest.source,
                patches: h.bhyve.manifest.patches,
                userland: h.bhyve.manifest.userland,
                journal: h.bhyve.manifest.journalId,
              },
            }
          : {}),
      },
      cpu: h.cpu
        ? { model: h.cpu.cpuModel, vendor: h.cpu.cpuVendor, vtx: h.cpu.vtx, svm: h.cpu.svm }
        : undefined,
      unknown: inv.unknown,
    },
    devices: inv.devices ?? [],
    gpus: inv.gpus.map((g) => ({
      id: g.id,
      slot: g.slotSelector,
      vendorDevice: idPair(g),
      name: g.name,
      vendor: g.vendorName,
      functions: g.functions.map((f) => ({
        bhyveId: f.device.bhyveId,
        selector: f.device.selector,
        vendorDevice: idPair(f.device),
        name: f.device.deviceName,
        class: f.device.subclassName ?? f.device.className,
        driver: f.device.driver === undefined ? undefined : `${f.device.driver}${f.device.unit ?? ''}`,
        state: f.state,
        reserved: f.reserved,
      })),
      msi: g.msi,
      msix: g.msix,
      intpinQuirk: g.intpinQuirk,
      consoleGpu: g.consoleGpu,
      bars: g.bars.map((b) => ({
        owner: b.owner,
        size: b.bar.size,
        is64: b.bar.is64,
        prefetchable: b.bar.prefetchable,
      })),
      mmio: g.mmio,
      warnings: g.warnings,
    })),
    stale: inv.stale.map((s) => ({ ...s.entry, reason: s.reason, lockout: s.lockout })),
    warnings: inv.warnings,
  };
}

const stateColour = (s: string) =>
  s === 'ppt-attached' ? style.green(s) : s === 'reserved-not-attached' ? style.yellow(s) : s;

function yn(v: boolean | undefined, good = true): string {
  if (v === undefined) return style.dim('unknown');
  return v === good ? style.green(v ? 'yes' : 'no') : style.red(v ? 'yes' : 'no');
}

function printGpu(g: GpuGroup): void {
  out(
    style.bold(`GPU ${g.id}  ${g.vendorName ?? ''} ${g.name}`.trim()) +
      `  [${idPair(g)}]${g.consoleGpu ? style.yellow('  (host console)') : ''}`,
  );
  out(
    table(
      ['BHYVE ID', 'SELECTOR', 'ID', 'DRIVER', 'STATE', 'DESCRIPTION'],
      g.functions.map((f) => [
        f.device.bhyveId,
        f.device.selector,
        idPair(f.device),
        f.device.driver === undefined ? 'none' : `${f.device.driver}${f.device.unit ?? ''}`,
        stateColour(f.state),
        f.device.deviceName ?? f.device.subclassName ?? f.device.className ?? '',
      ]),
    ),
  );
  const irq = g.capabilitiesKnown
    ? `MSI ${g.msi ? 'yes' : 'no'}, MSI-X ${g.msix ? 'yes' : 'no'}`
    : 'capabilities not read';
  const quirk =
    g.intpinQuirk === 'required'
      ? style.yellow('INTPIN quirk required (NVIDIA without MSI-X)')
      : g.intpinQuirk === 'recommended'
        ? 'INTPIN quirk recommended'
        : 'no INTPIN quirk needed';
  out(`  interrupts: ${irq}; ${quirk}`);
  const byFn = new Map<string, string[]>();
  for (const b of g.bars) {
    const [fn] = b.owner.split(' ');
    const idx = (b.bar.register - 0x10) / 4;
    const kind = b.bar.kind === 'io' ? ' I/O' : b.bar.is64 ? ' 64-bit' : '';
    byFn.set(fn ?? '', [...(byFn.get(fn ?? '') ?? []), `BAR${idx} ${formatBytes(b.bar.size)}${kind}`]);
  }
  out(`  BARs: ${[...byFn].map(([fn, bars]) => `${fn} ${bars.join(', ')}`).join('; ') || 'not read'}`);
  out(
    `  MMIO fit: ${g.mmio.fits ? style.green('fits') : style.red('does NOT fit')} (64-bit window ${formatBytes(g.mmio.windows[1].used)} of ${formatBytes(g.mmio.windows[1].capacity)})`,
  );
  for (const w of g.warnings) out(`  ${style.yellow('warning:')} ${w}`);
  out();
}

export function printScan(inv: Inventory): void {
  const h = inv.host;
  out(style.bold(`Host ${h.hostname}`) + style.dim(`  (${h.description})`));
  out(`  release: ${h.releaseText ?? style.dim('unknown')}${h.machine ? ` ${h.machine}` : ''}`);
  const iommu =
    h.iommu.table === undefined
      ? style.dim('unknown')
      : h.iommu.table === 'none'
        ? style.red('no DMAR/IVRS table')
        : style.green(`${h.iommu.table} table present`);
  const extra = [
    h.iommu.vmmIommuEnable !== undefined ? `hw.vmm.iommu.enable=${h.iommu.vmmIommuEnable}` : '',
    h.iommu.vmmIommuInitialized !== undefined
      ? `hw.vmm.iommu.initialized=${h.iommu.vmmIommuInitialized}`
      : '',
    h.iommu.amdviEnable !== undefined ? `hw.vmm.amdvi.enable=${h.iommu.amdviEnable}` : '',
  ].filter(Boolean);
  out(`  IOMMU: ${iommu}${extra.length ? ` (${extra.join(', ')})` : ''}`);
  const how =
    h.vmm.loaderConf === undefined
      ? style.dim('loader.conf not read: unknown whether it loads at boot')
      : h.vmm.loaderConf
        ? 'vmm_load="YES" in loader.conf'
        : h.vmm.kldList
          ? style.yellow('rc.conf kld_list only (too late for pptdevs)')
          : 'not configured to load at boot';
  out(`  vmm: loaded ${yn(h.vmm.loaded)}; ${how}`);
  const ppt =
    h.pptdevs === undefined
      ? style.dim('unknown')
      : h.pptdevs.length === 0
        ? 'none'
        : h.pptdevs.map((e) => (e.lost ? `${e.bhyveId}${style.red('(lost)')}` : e.bhyveId)).join(' ');
  out(`  pptdevs: ${ppt}${h.loaderFiles.length ? style.dim(`  (from ${h.loaderFiles.join(', ')})`) : ''}`);
  out(`  bhyve: ${h.bhyve.state} ${style.dim(`(${h.bhyve.detail})`)}`);
  const quirks = installedQuirks(h);
  if (quirks.length > 0 || h.vmm.hideHypervisor !== undefined)
    out(
      `  quirks: ${quirks.join(', ') || 'none'}${h.vmm.hideHypervisor === undefined ? '' : `; hw.vmm.hide_hypervisor=${h.vmm.hideHypervisor}`}`,
    );
  out();
  if (inv.devices === undefined) out(style.red('PCI devices: unknown (pciconf -lbcv not available)'));
  else if (inv.gpus.length === 0) out('No GPU (PCI base class 0x03) found.');
  for (const g of inv.gpus) printGpu(g);
  for (const s of inv.stale)
    out(
      `${style.red('stale pptdevs:')} ${s.reason} (${s.entry.file}:${s.entry.line})${s.lockout ? style.red(' [host lock-out risk]') : ''}`,
    );
  for (const w of inv.warnings) out(`${style.yellow('warning:')} ${w}`);
  for (const u of inv.unknown) out(style.dim(`unknown: ${u}`));
}

import { loaderViews } from '../../conf/views.js';
import { fileText, loaderFileOrder } from '../../inventory/collect.js';
import { DMESG_BOOT } from '../../inventory/probes.js';
import type { Inventory } from '../../inventory/types.js';
import { manifestQuirks } from '../../patch/quirks/words.js';
import { intpinChain, REBOOT_AFTER_STALE, thenReboot } from '../advice.js';
import { type Check, result } from '../types.js';

const FIRMWARE = 'a firmware (BIOS/UEFI setup) setting: no command can change it from the running system';

/** The whole dmesg.boot line a verdict rests on ("VT-x: ... (disabled in BIOS)" keeps its reason). */
function dmesgLine(inventory: Inventory, line: number): string | undefined {
  const text = fileText(inventory.raw, DMESG_BOOT);
  return text?.split(/\r?\n/)[line - 1]?.replace(/=3D/g, '=').trim();
}

/** bhyve runs on FreeBSD/amd64 only. Another system (a Linux guest snapshot) is a FAIL, never "unknown". */
export const hostOs: Check = ({ inventory, platform }) => {
  const { sysname, machine } = inventory.host;
  const title = 'FreeBSD/amd64 host';
  if (platform?.os === 'linux' || (sysname !== undefined && sysname !== 'FreeBSD'))
    return [
      result(
        'host.os',
        title,
        'FAIL',
        [platform?.os === 'linux' ? platform.evidence : `uname: ${sysname} ${machine ?? ''}`.trim()],
        'this is not a FreeBSD host: run bhyve-gpu doctor on the FreeBSD host (or --host ssh://HOST); inside a Linux guest use bhyve-gpu guest check',
        { commands: [['bhyve-gpu', 'guest', 'check']] },
      ),
    ];
  if (machine !== undefined && machine !== 'amd64')
    return [
      result(
        'host.os',
        title,
        'FAIL',
        [`uname: ${sysname ?? 'FreeBSD'} ${machine}`],
        'PCI passthrough with bhyve needs an amd64 host',
        { noCommand: 'bhyve passthrough needs different hardware (amd64)' },
      ),
    ];
  // Nothing said which system this is: not a PASS.
  if (
    sysname === undefined &&
    platform?.os === 'unknown' &&
    !inventory.host.cpu?.banner?.startsWith('FreeBSD')
  )
    return [result('host.os', title, 'UNKNOWN', [platform.evidence])];
  return [];
};

/** VT-x with EPT and unrestricted guest, or AMD-V with nested paging. */
export const cpuVirtualisation: Check = ({ inventory }) => {
  const cpu = inventory.host.cpu;
  const title = 'CPU virtualisation (VT-x + EPT + UG, or AMD-V + NP)';
  if (!cpu) return [result('host.cpu', title, 'UNKNOWN', ['/var/run/dmesg.boot not available'])];
  if (cpu.hypervisor)
    return [
      result(
        'host.cpu',
        title,
        'WARN',
        [`this FreeBSD runs as a guest of ${cpu.hypervisor}: passthrough needs nested IOMMU support`],
        'enable nested virtualisation and a virtual IOMMU in the outer hypervisor, or run on bare metal',
        { noCommand: `a setting of the outer hypervisor (${cpu.hypervisor}), not of this host` },
      ),
    ];
  const firmware = { noCommand: FIRMWARE };
  if (cpu.vtx) {
    const v = cpu.vtx;
    const ev = [`dmesg.boot line ${v.line}: ${dmesgLine(inventory, v.line) ?? `VT-x: ${v.flags.join(',')}`}`];
    if (v.disabledInBios)
      return [
        result(
          'host.cpu',
          title,
          'FAIL',
          ev,
          'enable Intel VT-x (and VT-d) in the firmware setup, then reboot',
          firmware,
        ),
      ];
    if (!v.ept || !v.unrestrictedGuest)
      return [
        result(
          'host.cpu',
          title,
          'FAIL',
          [...ev, `missing: ${[!v.ept && 'EPT', !v.unrestrictedGuest && 'UG'].filter(Boolean).join(', ')}`],
          'bhyve needs a CPU with EPT and unrestricted guest (Westmere or newer)',
          { noCommand: 'the CPU lacks the feature: other hardware is needed' },
        ),
      ];
    return [result('host.cpu', title, 'PASS', ev)];
  }
  if (cpu.svm) {
    const s = cpu.svm;
    const ev = [`dmesg.boot line ${s.line}: ${dmesgLine(inventory, s.line) ?? `SVM: ${s.flags.join(',')}`}`];
    if (s.disabledInBios)
      return [
        result(
          'host.cpu',
          title,
          'FAIL',
          ev,
          'enable SVM / AMD-V (and IOMMU) in the firmware setup, then reboot',
          firmware,
        ),
      ];
    if (!s.nestedPaging)
      return [
        result('host.cpu', title, 'FAIL', ev, 'bhyve needs AMD-V with nested paging (NP)', {
          noCommand: 'the CPU lacks the feature: other hardware is needed',
        }),
      ];
    return [result('host.cpu', title, 'PASS', ev)];
  }
  return [
    result(
      'host.cpu',
      title,
      'FAIL',
      [`no VT-x or SVM line in dmesg.boot (CPU: ${cpu.cpuModel ?? 'unknown'})`],
      'enable virtualisation (VT-x / AMD-V) in the firmware setup; an old CPU may lack it',
      firmware,
    ),
  ];
};

/**
 * The IOMMU: the ACPI table (DMAR / IVRS) says the firmware has one; "enabled for vmm" needs vmm's own
 * sysctls (hw.vmm.iommu.enable, hw.vmm.amdvi.enable). Without them the check is a WARN, not a PASS.
 */
export const iommu: Check = ({ inventory }) => {
  const h = inventory.host;
  const title = 'IOMMU (VT-d / AMD-Vi) present and enabled for vmm';
  const out = [];
  const amd = h.cpu?.cpuVendor === 'amd' || h.iommu.table === 'IVRS';
  const firmwareFix = amd
    ? 'enable IOMMU / AMD-Vi in the firmware setup, then reboot'
    : 'enable VT-d in the firmware setup, then reboot (vm-bhyve refuses passthru without a DMAR table)';
  const units = [...(h.cpu?.dmarUnits ?? []), ...(h.cpu?.amdViUnits ?? [])];
  const vmmSeen = h.iommu.vmmIommuEnable !== undefined;
  const vmmEvidence = vmmSeen
    ? `hw.vmm.iommu.enable: ${h.iommu.vmmIommuEnable}`
    : `hw.vmm.iommu.enable: not readable (${h.vmm.loaded === false ? 'vmm.ko is not loaded' : 'sysctl hw.vmm not available'})`;
  const notSeenByVmm = (present: string[]) =>
    result(
      'host.iommu',
      title,
      'WARN',
      [...present, vmmEvidence, 'present in the firmware; whether vmm uses it shows once vmm.ko is loaded'],
      'load vmm.ko, then run doctor again',
      h.vmm.loaded === false
        ? { commands: [['kldload', 'vmm']] }
        : { noCommand: 'sysctl hw.vmm was not read: run doctor on the host itself' },
    );
  if (h.iommu.table === 'none')
    out.push(
      result('host.iommu', title, 'FAIL', ['acpidump -t: no DMAR or IVRS table'], firmwareFix, {
        noCommand: FIRMWARE,
      }),
    );
  else if (h.iommu.table !== undefined) {
    const present = [`acpidump -t: ${h.iommu.table} table present`];
    if (vmmSeen) out.push(result('host.iommu', title, 'PASS', [...present, vmmEvidence]));
    else out.push(notSeenByVmm(present));
  } else if (units.length > 0) {
    const present = [`dmesg.boot: IOMMU units ${units.join(', ')} attached`, 'acpidump -t not available'];
    if (vmmSeen) out.push(result('host.iommu', title, 'PASS', [...present, vmmEvidence]));
    else out.push(notSeenByVmm(present));
  } else if (h.cpu)
    out.push(
      result(
        'host.iommu',
        title,
        'WARN',
        [
          'acpidump -t not available',
          'dmesg.boot: no dmar (VT-d) or AMD-Vi unit attached: the IOMMU is probably off',
        ],
        `check with: acpidump -t | grep -E 'DMAR|IVRS'; if nothing: ${firmwareFix}`,
        { noCommand: FIRMWARE },
      ),
    );
  else out.push(result('host.iommu', title, 'UNKNOWN', ['acpidump -t and dmesg.boot not available']));
  if (h.iommu.vmmIommuEnable === '0')
    out.push(
      result(
        'host.iommu.vmm',
        'vmm may use the IOMMU',
        'FAIL',
        ['hw.vmm.iommu.enable: 0'],
        `set hw.vmm.iommu.enable="1" in /boot/loader.conf (or remove the line that sets 0) and reboot${inventory.stale.length ? REBOOT_AFTER_STALE : ''}`,
        { commands: thenReboot(inventory, [['sysrc', '-f', '/boot/loader.conf', 'hw.vmm.iommu.enable=1']]) },
      ),
    );
  if (amd && h.iommu.table !== 'none' && h.iommu.amdviEnable !== '1') {
    const known = h.iommu.amdviEnable !== undefined;
    if (known || h.iommu.table === 'IVRS')
      out.push(
        result(
          'host.iommu.amdvi',
          'AMD-Vi enabled for vmm',
          known ? 'FAIL' : 'UNKNOWN',
          [`hw.vmm.amdvi.enable: ${h.iommu.amdviEnable ?? 'unknown'}`],
          `set hw.vmm.amdvi.enable="1" in /boot/loader.conf, then reboot${inventory.stale.length ? REBOOT_AFTER_STALE : ''}`,
          {
            commands: thenReboot(inventory, [['sysrc', '-f', '/boot/loader.conf', 'hw.vmm.amdvi.enable=1']]),
          },
        ),
      );
  }
  return out;
};

/**
 * vmm.ko loaded, and loaded by the loader (so ppt claims the pptdevs devices before their host drivers).
 * PASS needs both: vmm_load="YES" and kldstat showing vmm; configured-but-not-loaded is a WARN.
 */
export const vmmLoad: Check = ({ inventory }) => {
  const v = inventory.host.vmm;
  const title = 'vmm.ko loaded from /boot/loader.conf';
  const ev = [
    `vmm loaded: ${v.loaded === undefined ? 'unknown' : v.loaded ? 'yes' : 'no'}`,
    `vmm_load in loader.conf: ${v.loaderConf === undefined ? 'unknown (loader.conf not read)' : v.loaderConf ? 'YES' : 'no'}`,
    `vmm in rc.conf kld_list: ${v.kldList === undefined ? 'unknown' : v.kldList ? 'yes' : 'no'}`,
  ];
  const fix = `set vmm_load="YES" in /boot/loader.conf (bhyve-gpu attach does this), then reboot${inventory.stale.length ? REBOOT_AFTER_STALE : ''}`;
  const commands = thenReboot(inventory, [['sysrc', '-f', '/boot/loader.conf', 'vmm_load=YES']]);
  if (v.loaderConf === undefined) return [result('host.vmm', title, 'UNKNOWN', ev)];
  if (v.loaderConf) {
    if (v.loaded === true) return [result('host.vmm', title, 'PASS', ev)];
    if (v.loaded === false)
      return [
        result(
          'host.vmm',
          title,
          'WARN',
          [...ev, 'configured to load at the next boot, not loaded now'],
          'load it now (or reboot)',
          { commands: [['kldload', 'vmm']] },
        ),
      ];
    return [result('host.vmm', title, 'UNKNOWN', [...ev, 'kldstat not read: loaded or not is unknown'])];
  }
  if (v.kldList)
    return [
      result(
        'host.vmm',
        title,
        'FAIL',
        [
          ...ev,
          'kld_list loads vmm after the PCI drivers attached: pptdevs devices stay with their host drivers',
        ],
        fix,
        { commands },
      ),
    ];
  return [result('host.vmm', title, 'FAIL', ev, fix, { commands })];
};

/**
 * pptdevs as the loader and the kernel read them: entries that point at nothing meant for a guest (stale,
 * unparsable, out of range), values the kernel drops for their length, and lines the loader skips.
 */
export const stalePptdevs: Check = ({ inventory }) => {
  const title = 'pptdevs entries point at devices meant for guests';
  const p = inventory.host.pptdevs;
  if (p === undefined || inventory.devices === undefined)
    return [result('host.pptdevs', title, 'UNKNOWN', ['loader.conf or pciconf not available'])];
  const files = loaderFileOrder(inventory.raw)
    .filter((f) => f.state === 'ok' && f.text !== undefined)
    .map((f) => ({ path: f.path, text: f.text as string }));
  const skipped = loaderViews(files).skipped.filter(
    (k) => k.key !== undefined && /^pptdevs[23]?$/.test(k.key),
  );
  const lost = p.filter((e) => e.lost !== undefined);
  if (inventory.stale.length === 0 && lost.length === 0 && skipped.length === 0)
    return [
      result('host.pptdevs', title, 'PASS', [
        p.length ? `pptdevs: ${p.map((e) => e.bhyveId).join(' ')}` : 'pptdevs: none',
      ]),
    ];
  const evidence = [
    ...inventory.stale.map(
      (s) =>
        `${s.entry.file}:${s.entry.line} ${s.entry.variable}: ${s.reason}${s.lockout ? ' -- reserving it at the next boot locks the host out' : ''}`,
    ),
    ...[...new Set(lost.map((e) => `${e.file}:${e.line} ${e.lost}`))].map(
      (l) => `${l}; lost: ${lost.map((e) => e.bhyveId).join(' ')}`,
    ),
    ...skipped.map((k) => `${k.file}:${k.line}: ${k.reason}`),
  ];
  // A way out that works with or without a GPU to attach, and never names the console GPU.
  const commands: string[][] = [];
  const fixes: string[] = [];
  if (inventory.stale.length) {
    commands.push(['bhyve-gpu', 'detach', '--stale', '--yes']);
    fixes.push('remove the stale entries before the next boot: bhyve-gpu detach --stale --yes');
  }
  const free = inventory.gpus.filter((g) => !g.consoleGpu);
  if (lost.length && free.length === 1 && free[0]) {
    const attach = ['bhyve-gpu', 'attach', free[0].id];
    if (inventory.stale.length) attach.push('--remove-stale');
    commands.push([...attach, '--yes']);
    fixes.push(`split the over-long value into pptdevs2/pptdevs3: ${attach.join(' ')} --yes`);
  } else if (lost.length)
    fixes.push(`split the over-long value into pptdevs2 and pptdevs3 in ${lost[0]?.file}`);
  if (skipped.length) fixes.push(`write the skipped line as pptdevs="B/S/F ..." in ${skipped[0]?.file}`);
  const check = result('host.pptdevs', title, 'FAIL', evidence, fixes.join('; '));
  if (commands.length && !(lost.length && free.length !== 1) && !skipped.length)
    return [{ ...check, commands }];
  return [
    {
      ...check,
      ...(commands.length ? { commands } : {}),
      noCommand: skipped.length
        ? 'the loader skips a pptdevs line bhyve-gpu does not rewrite: fix its quoting by hand'
        : 'no single GPU to attach: split the value by hand',
    },
  ];
};

export const installedBhyve: Check = ({ inventory }) => {
  const b = inventory.host.bhyve;
  const title = 'installed bhyve';
  const patches = b.manifest?.patches.map((p) => p.name).join(', ');
  const quirks = b.manifest ? manifestQuirks(b.manifest) : [];
  const vmmLine = hideHypervisorLine(inventory.host.vmm.hideHypervisor, quirks);
  if (b.state === 'patched')
    return [
      result('host.bhyve', title, 'PASS', [
        b.detail,
        `patches: ${patches || 'none'}`,
        `quirks: ${quirks.join(', ') || 'none'}`,
        ...(vmmLine ? [vmmLine] : []),
        `commit: ${b.manifest?.source?.commit ?? 'unknown'}`,
      ]),
    ];
  if (b.state === 'overwritten')
    return [
      result(
        'host.bhyve',
        title,
        'FAIL',
        [
          b.detail,
          `expected sha256 ${b.manifest?.files.find((f) => f.path === '/usr/sbin/bhyve')?.sha256}`,
          `found sha256 ${b.sha256}`,
        ],
        'rebuild bhyve from a source matching the running release and install it again',
        { commands: intpinChain() },
      ),
    ];
  if (b.state === 'maybe-overwritten')
    return [
      result(
        'host.bhyve',
        title,
        'WARN',
        [b.detail],
        'freebsd-update may have replaced it: rebuild from a source matching the new release and install again',
        { commands: intpinChain() },
      ),
    ];
  if (b.state === 'stock') return [result('host.bhyve', title, 'PASS', [b.detail])];
  return [result('host.bhyve', title, 'UNKNOWN', [b.detail])];
};

/** The hide-hypervisor switch as doctor shows it: its current value, or that the vmm.ko lacks it. */
function hideHypervisorLine(value: string | undefined, quirks: readonly string[]): string | undefined {
  if (value !== undefined)
    return `hw.vmm.hide_hypervisor: ${value} (${value.trim() === '1' ? 'hypervisor hidden from guests' : 'hypervisor visible'})`;
  if (quirks.includes('hide-hypervisor'))
    return 'hw.vmm.hide_hypervisor: not reported by the running vmm.ko (the new vmm.ko loads at the next boot)';
  return undefined;
}

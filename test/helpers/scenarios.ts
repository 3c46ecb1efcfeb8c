import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../../src/host/snapshot-format.js';
import { REPO_ROOT } from './corpus.js';
import { commandOut, example, setCommand } from './snap.js';

/**
 * Host scenarios built from the recorded example hosts (the project's own snapshot format), one per case
 * the advice must handle: each changes only what the case needs, in the exact output format of the
 * command or file it changes.
 */
export interface Scenario {
  name: string;
  snapshot: Snapshot;
  /** The vm-bhyve guest doctor checks with --vm (when any). */
  vm?: string;
  /** A Linux guest snapshot (guest check), not a FreeBSD host. */
  guest?: boolean;
}

const PCICONF = ['pciconf', '-lbcv'];

/** Drop the pciconf -lbcv blocks (header line and its indented lines) of the devices at these selectors. */
export function dropPciDevices(snap: Snapshot, selectors: string[]): Snapshot {
  const out: string[] = [];
  let skipping = false;
  for (const line of commandOut(snap, PCICONF).split('\n')) {
    const header = /^\S+@(pci\d+:\d+:\d+:\d+):/.exec(line);
    if (header) skipping = selectors.includes(header[1] as string);
    if (!skipping) out.push(line);
  }
  return setCommand(snap, PCICONF, out.join('\n'));
}

/** Give a device another driver in pciconf -lbcv ("ppt0@pci0:1:0:0:" -> "vgapci1@pci0:1:0:0:"). */
export function renameDriver(snap: Snapshot, selector: string, driverUnit: string): Snapshot {
  const text = commandOut(snap, PCICONF).replace(
    new RegExp(`^\\S+@${selector}:`, 'm'),
    `${driverUnit}@${selector}:`,
  );
  return setCommand(snap, PCICONF, text);
}

export function setFile(snap: Snapshot, path: string, text: string): Snapshot {
  snap.files[path] = text;
  snap.missing = snap.missing.filter((m) => m !== path);
  return snap;
}

export function dropFile(snap: Snapshot, path: string): Snapshot {
  delete snap.files[path];
  snap.missing = snap.missing.filter((m) => m !== path);
  return snap;
}

/** kldstat without vmm.ko, and `sysctl hw.vmm` failing as it does when vmm is not loaded. */
export function vmmNotLoaded(snap: Snapshot): Snapshot {
  const kld = commandOut(snap, ['kldstat'])
    .split('\n')
    .filter((l) => !/\svmm\.ko$/.test(l))
    .join('\n');
  setCommand(snap, ['kldstat'], kld);
  return setCommand(snap, ['sysctl', 'hw.vmm'], '', 1, "sysctl: unknown oid 'hw.vmm'\n");
}

const MANIFEST = (sha: string) =>
  JSON.stringify({
    format: 'bhyve-gpu-install',
    version: 1,
    installedAt: '2026-11-20T10:00:00Z',
    source: { repo: 'https://git.FreeBSD.org/src.git', branch: 'releng/15.0', commit: 'a'.repeat(40) },
    patches: [{ name: 'intpin-quirk', sha256: 'b'.repeat(64) }],
    files: [{ path: '/usr/sbin/bhyve', sha256: sha }],
  });

/** The Tesla P4 host after the whole procedure: patched bhyve installed, wired memory set. */
export function p4Healthy(): Snapshot {
  const snap = example('tesla-p4-15.0');
  const sha = commandOut(snap, ['sha256', '-q', '/usr/sbin/bhyve']).trim();
  setFile(snap, '/var/db/bhyve-gpu/installed.json', MANIFEST(sha));
  const conf = '/zdata/vms/xdev/xdev.conf';
  snap.files[conf] =
    `${(snap.files[conf] as string).replace('passthru0="1/0/0"', 'passthru0="1/0/0=6:0"')}wired_memory="yes"\n`;
  return snap;
}

/** Issue 9 case 3: vmm_load="YES" and pptdevs set, but vmm not loaded yet (the GPU is on vgapci). */
export function p4VmmNotLoaded(): Snapshot {
  return renameDriver(vmmNotLoaded(example('tesla-p4-15.0')), 'pci0:1:0:0', 'vgapci0');
}

/** Issue 9 case 5: the NVIDIA GPU is gone; the only GPU left is the console iGPU; pptdevs="3/0/0" is stale. */
export function rtxConsoleOnly(): Snapshot {
  return dropPciDevices(example('rtx2080ti-14.3'), ['pci0:2:0:0', 'pci0:2:0:1', 'pci0:2:0:2', 'pci0:2:0:3']);
}

/** VT-x disabled in the firmware: the dmesg line says so ("VT-x: (disabled in BIOS) ..."). */
export function p4VtxDisabled(): Snapshot {
  const snap = example('tesla-p4-15.0');
  const dm = snap.files['/var/run/dmesg.boot'] as string;
  return setFile(
    snap,
    '/var/run/dmesg.boot',
    dm.replace('  VT-x: PAT,HLT', '  VT-x: (disabled in BIOS) PAT,HLT'),
  );
}

/** The bhyve-gpu install was overwritten by freebsd-update (sha256 differs from the manifest). */
export function p4Overwritten(): Snapshot {
  const snap = p4Healthy();
  return setCommand(snap, ['sha256', '-q', '/usr/sbin/bhyve'], `${'c'.repeat(64)}\n`);
}

/** The guest xdev is running (/dev/vmm/xdev exists). */
export function p4Running(): Snapshot {
  const snap = example('tesla-p4-15.0');
  setFile(snap, '/dev/vmm/xdev', '');
  return snap;
}

/** loader.conf was not captured (neither read nor known missing). */
export function p4NoLoaderConf(): Snapshot {
  return dropFile(example('tesla-p4-15.0'), '/boot/loader.conf');
}

/** A variant of the healthy P4 host: `edit` changes only what the case needs. */
function healthyWith(edit: (snap: Snapshot) => void): Snapshot {
  const snap = p4Healthy();
  edit(snap);
  return snap;
}

const replaceIn = (snap: Snapshot, argv: string[], from: string | RegExp, to: string) =>
  setCommand(snap, argv, commandOut(snap, argv).replace(from, to));

/** Variants doctor's own tests use, so that their advice runs too. */
export function variants(): Scenario[] {
  const conf = '/zdata/vms/xdev/xdev.conf';
  return [
    {
      name: 'p4 no IOMMU table',
      vm: 'xdev',
      snapshot: healthyWith((s) => replaceIn(s, ['acpidump', '-t'], /\/\*\n {2}DMAR:[\s\S]*?\*\/\n/, '')),
    },
    {
      name: 'p4 hw.vmm.iommu.enable=0',
      vm: 'xdev',
      snapshot: healthyWith((s) =>
        replaceIn(s, ['sysctl', 'hw.vmm'], 'hw.vmm.iommu.enable: 1', 'hw.vmm.iommu.enable: 0'),
      ),
    },
    {
      name: 'p4 vmm in kld_list only',
      vm: 'xdev',
      snapshot: healthyWith((s) => {
        s.files['/boot/loader.conf'] = (s.files['/boot/loader.conf'] as string).replace(
          'vmm_load="YES"\n',
          '',
        );
        s.files['/etc/rc.conf'] = `${s.files['/etc/rc.conf'] as string}kld_list="vmm nmdm"\n`;
      }),
    },
    {
      name: 'p4 userland moved on since the install (maybe overwritten)',
      vm: 'xdev',
      snapshot: healthyWith((s) => {
        const m = JSON.parse(s.files['/var/db/bhyve-gpu/installed.json'] as string);
        m.userland = '15.0-RELEASE-p1';
        s.files['/var/db/bhyve-gpu/installed.json'] = JSON.stringify(m);
        s.commands = s.commands.filter((c) => c.argv[0] !== 'sha256');
      }),
    },
    {
      name: 'p4 with a 32 GiB BAR1',
      vm: 'xdev',
      snapshot: healthyWith((s) => replaceIn(s, PCICONF, 'size 268435456', 'size 34359738368')),
    },
    {
      name: 'p4 passthru entry that is not a B/S/F',
      vm: 'xdev',
      snapshot: healthyWith((s) => {
        s.files[conf] = `${s.files[conf] as string}passthru1="300/0/0"\n`;
      }),
    },
    {
      name: 'p4 without acpidump and without IOMMU units',
      vm: 'xdev',
      snapshot: healthyWith((s) => {
        s.commands = s.commands.filter((c) => c.argv[0] !== 'acpidump');
        s.files['/var/run/dmesg.boot'] = (s.files['/var/run/dmesg.boot'] as string).replace(
          /^dmar\d.*\n/gm,
          '',
        );
      }),
    },
    {
      name: 'AMD host with IVRS, amdvi disabled',
      vm: 'xdev',
      snapshot: healthyWith((s) => replaceIn(s, ['acpidump', '-t'], 'DMAR: Length=168', 'IVRS: Length=208')),
    },
    {
      name: 'p4 reserved, reboot pending (vmm loaded)',
      vm: 'xdev',
      snapshot: renameDriver(example('tesla-p4-15.0'), 'pci0:1:0:0', 'vgapci0'),
    },
    { name: 'two free GPUs, guest without passthru', vm: 'cuda', snapshot: rtxTwoGpus() },
    {
      name: 'console GPU reserved in pptdevs',
      vm: 'cuda',
      snapshot: (() => {
        const s = example('rtx2080ti-14.3');
        s.files['/boot/loader.conf'] = (s.files['/boot/loader.conf'] as string).replace(
          'pptdevs="3/0/0"',
          'pptdevs="0/2/0"',
        );
        return s;
      })(),
    },
  ];
}

/** The RTX host with a second NVIDIA GPU (a copy of its VGA function at 5/0/0), so "the GPU" is ambiguous. */
export function rtxTwoGpus(): Snapshot {
  const snap = example('rtx2080ti-14.3');
  const pci = commandOut(snap, PCICONF);
  const block = /^vgapci1@pci0:2:0:0:[^\n]*\n(?:[ \t][^\n]*\n)*/m.exec(pci)?.[0] ?? '';
  return setCommand(snap, PCICONF, `${pci}${block.replace('vgapci1@pci0:2:0:0:', 'vgapci2@pci0:5:0:0:')}`);
}

function guestSnapshot(file: string): Snapshot {
  return JSON.parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as Snapshot;
}

/** Every scenario the advice tests run doctor (or guest check) on. */
export function scenarios(): Scenario[] {
  return [
    { name: 'tesla-p4-15.0', snapshot: example('tesla-p4-15.0'), vm: 'xdev' },
    { name: 'tesla-p4-15.0 (no --vm)', snapshot: example('tesla-p4-15.0') },
    { name: 'tesla-p4-15.0 --vm nosuch', snapshot: example('tesla-p4-15.0'), vm: 'nosuch' },
    { name: 'rtx2080ti-14.3', snapshot: example('rtx2080ti-14.3'), vm: 'cuda' },
    { name: 'p4 healthy', snapshot: p4Healthy(), vm: 'xdev' },
    { name: 'p4 vmm_load=YES, vmm not loaded', snapshot: p4VmmNotLoaded(), vm: 'xdev' },
    { name: 'rtx console GPU only, stale pptdevs', snapshot: rtxConsoleOnly(), vm: 'cuda' },
    { name: 'p4 VT-x disabled in BIOS', snapshot: p4VtxDisabled() },
    { name: 'p4 bhyve overwritten', snapshot: p4Overwritten(), vm: 'xdev' },
    { name: 'p4 guest running', snapshot: p4Running(), vm: 'xdev' },
    { name: 'p4 loader.conf not captured', snapshot: p4NoLoaderConf() },
    {
      name: 'linux guest snapshot (intpin missing)',
      snapshot: guestSnapshot('test/fixtures/guest/bhyve-ubuntu-p4-intpin-missing.json'),
      guest: true,
    },
    ...variants(),
    {
      name: 'linux guest snapshot (H100, real)',
      snapshot: guestSnapshot('test/fixtures/guest/h100-real/guest-snapshot.json'),
      guest: true,
    },
    {
      name: 'linux guest snapshot (healthy)',
      snapshot: guestSnapshot('test/fixtures/guest/bhyve-ubuntu-p4-healthy.json'),
      guest: true,
    },
  ];
}

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
    {
      name: 'linux guest snapshot (healthy)',
      snapshot: guestSnapshot('test/fixtures/guest/bhyve-ubuntu-p4-healthy.json'),
      guest: true,
    },
  ];
}

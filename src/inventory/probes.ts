/**
 * The probe set: every command and file a scan reads. `bhyve-gpu snapshot` records exactly these, and a
 * snapshot replays them. docs/snapshot-format.md lists them; keep the two in step.
 */
export const PCI_PROBE = ['pciconf', '-lbcv'] as const;

export const PROBE_COMMANDS: readonly (readonly string[])[] = [
  PCI_PROBE,
  ['freebsd-version', '-kru'],
  ['uname', '-a'],
  ['sysctl', 'hw.model', 'hw.machine', 'hw.ncpu', 'hw.physmem', 'kern.osreldate'],
  ['sysctl', 'hw.vmm'],
  ['kldstat'],
  ['acpidump', '-t'],
  ['route', '-n', 'get', 'default'],
  ['ifconfig', '-a'],
  ['sha256', '-q', '/usr/sbin/bhyve'],
  ['sha256', '-q', '/boot/kernel/vmm.ko'],
];

export const LOADER_CONF = '/boot/loader.conf';
export const LOADER_CONF_DIR = '/boot/loader.conf.d';
export const LOADER_CONF_LOCAL = '/boot/loader.conf.local';
export const RC_CONF_FILES = ['/etc/rc.conf', '/etc/rc.conf.local'] as const;
export const DMESG_BOOT = '/var/run/dmesg.boot';
export const STATE_DIR = '/var/db/bhyve-gpu';
export const INSTALL_MANIFEST = `${STATE_DIR}/installed.json`;
export const VMM_DEV_DIR = '/dev/vmm';

/** Fixed files; loader.conf.d/*.conf and the vm-bhyve guest configs are found while probing. */
export const PROBE_FILES: readonly string[] = [
  LOADER_CONF,
  LOADER_CONF_LOCAL,
  ...RC_CONF_FILES,
  DMESG_BOOT,
  INSTALL_MANIFEST,
];

/** `zfs get` for a vm_dir="zfs:pool/dataset" value. */
export function zfsMountpointProbe(dataset: string): string[] {
  return ['zfs', 'get', '-H', '-o', 'value', 'mountpoint', dataset];
}

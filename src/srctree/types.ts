/** What a FreeBSD source tree looks like to the patch step (see docs/patching.md). */

export interface TreeRelease {
  /** REVISION from sys/conf/newvers.sh, e.g. "15.0". */
  revision: string;
  /** BRANCH from sys/conf/newvers.sh, e.g. "RELEASE-p2", "STABLE", "CURRENT", "BETA1". */
  branch: string;
  major: number;
  minor: number;
}

/**
 * Where bhyve's SRCS list holding pci_passthru.c lives:
 * - makefile-srcs: usr.sbin/bhyve/Makefile (14-era trees, no amd64/Makefile.inc);
 * - amd64-makefile-inc: usr.sbin/bhyve/amd64/Makefile.inc (15-era trees);
 * - split: amd64/Makefile.inc exists but pci_passthru.c is still listed in usr.sbin/bhyve/Makefile;
 * - unknown: no Makefile lists pci_passthru.c.
 */
export type TreeLayout = 'makefile-srcs' | 'amd64-makefile-inc' | 'split' | 'unknown';

export interface QuirksInfo {
  /** usr.sbin/bhyve/pci_passthru_quirks.c exists. */
  file: boolean;
  /** pci_passthru_quirks.c appears in a bhyve SRCS list. */
  listed: boolean;
  /** The first NVIDIA quirk entry's init sets a non-zero virtual PCIR_INTPIN (content-based). */
  setsIntpin: boolean;
  /** passthru_dev entries whose probe matches vendor 0x10DE, in file order. */
  nvidiaEntries: string[];
  /** Names of every passthru_dev entry in the file, in file order. */
  entries: string[];
  /** The nvidia-wip config-space mirror (BAR0 + 0x88000 handler) is present. */
  configMirror: boolean;
}

export interface TreeApi {
  /** How pci_passthru.h names the host config-space read. */
  hostReadConfig: 'pci_host_read_config' | 'read_config' | undefined;
  /** pci_passthru.h declares the passthru_dev quirk framework (PASSTHRU_DEV_SET). */
  passthruDevSet: boolean;
  /** Shape of passthru_set_bar_handler: upstream (uint64_t handlers) or Beckhoff's older one. */
  barHandler: 'upstream' | 'beckhoff' | undefined;
}

export interface TreeInfo {
  /** The tree root as given. */
  src: string;
  release: TreeRelease | undefined;
  layout: TreeLayout;
  /** Tree-relative path of the Makefile whose SRCS lists pci_passthru.c. */
  srcsFile: string | undefined;
  quirks: QuirksInfo;
  api: TreeApi;
  /** The bhyve quirk can be applied by this tool. */
  supported: boolean;
  reason?: string;
}

/** Tree-relative paths the inspection reads. */
export const TREE_PATHS = {
  newvers: 'sys/conf/newvers.sh',
  makefile: 'usr.sbin/bhyve/Makefile',
  amd64MakefileInc: 'usr.sbin/bhyve/amd64/Makefile.inc',
  passthruHeader: 'usr.sbin/bhyve/pci_passthru.h',
  quirks: 'usr.sbin/bhyve/pci_passthru_quirks.c',
} as const;

/** File contents by tree-relative path; a missing file is absent or undefined. */
export type TreeFiles = Readonly<Record<string, string | undefined>>;

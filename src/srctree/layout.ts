import { FileMissingError, NotCapturedError } from '../errors.js';
import type { Host } from '../host/types.js';
import { srcsListed } from './makefile.js';
import { analyzeQuirks } from './quirks.js';
import { parseNewvers, releaseName } from './release.js';
import { TREE_PATHS, type TreeApi, type TreeFiles, type TreeInfo, type TreeLayout } from './types.js';

const PASSTHRU = 'pci_passthru.c';
const QUIRKS = 'pci_passthru_quirks.c';

/** Join a tree root and a tree-relative path ("/usr/src" + "usr.sbin/bhyve/Makefile"). */
export function treePath(src: string, relative: string): string {
  return `${src.replace(/\/+$/, '')}/${relative}`;
}

/** Read a tree file through the host; a missing (or not captured) file is undefined. */
export async function readTreeFile(host: Host, src: string, relative: string): Promise<string | undefined> {
  try {
    return await host.readFile(treePath(src, relative));
  } catch (e) {
    if (e instanceof FileMissingError || e instanceof NotCapturedError) return undefined;
    throw e;
  }
}

/** Read the files the inspection needs through a Host (local, --root, snapshot) and inspect them. */
export async function inspectTree(host: Host, src: string): Promise<TreeInfo> {
  const files: Record<string, string | undefined> = {};
  for (const relative of Object.values(TREE_PATHS)) {
    files[relative] = await readTreeFile(host, src, relative);
  }
  return inspectFiles(files, src);
}

function readApi(header: string | undefined): TreeApi {
  if (header === undefined)
    return { hostReadConfig: undefined, passthruDevSet: false, barHandler: undefined };
  const hostReadConfig = /\bpci_host_read_config\s*\(/.test(header)
    ? 'pci_host_read_config'
    : /\bread_config\s*\(/.test(header)
      ? 'read_config'
      : undefined;
  const passthruDevSet = /\bPASSTHRU_DEV_SET\b|\bpassthru_dev_set\b/.test(header);
  let barHandler: TreeApi['barHandler'];
  if (/typedef\s+uint64_t\s*\(\s*\*\s*passthru_read_handler\s*\)/.test(header)) barHandler = 'upstream';
  else if (/typedef\s+int\s*\(\s*\*\s*passthru_read_handler\s*\)/.test(header)) barHandler = 'beckhoff';
  else if (/passthru_set_bar_handler\s*\([^;]*vm_offset_t/.test(header)) barHandler = 'beckhoff';
  return { hostReadConfig, passthruDevSet, barHandler };
}

/** Pure inspection over file contents keyed by tree-relative path (see TREE_PATHS). */
export function inspectFiles(files: TreeFiles, src = '.'): TreeInfo {
  const newvers = files[TREE_PATHS.newvers];
  const release = newvers === undefined ? undefined : parseNewvers(newvers);
  const makefile = files[TREE_PATHS.makefile];
  const inc = files[TREE_PATHS.amd64MakefileInc];
  let layout: TreeLayout = 'unknown';
  let srcsFile: string | undefined;
  if (inc !== undefined && srcsListed(inc, PASSTHRU)) {
    layout = 'amd64-makefile-inc';
    srcsFile = TREE_PATHS.amd64MakefileInc;
  } else if (makefile !== undefined && srcsListed(makefile, PASSTHRU)) {
    layout = inc === undefined ? 'makefile-srcs' : 'split';
    srcsFile = TREE_PATHS.makefile;
  }
  const quirksText = files[TREE_PATHS.quirks];
  const content = quirksText === undefined ? undefined : analyzeQuirks(quirksText);
  const listed = [makefile, inc].some((t) => t !== undefined && srcsListed(t, QUIRKS));
  const api = readApi(files[TREE_PATHS.passthruHeader]);
  const info: TreeInfo = {
    src,
    release,
    layout,
    srcsFile,
    quirks: {
      file: quirksText !== undefined,
      listed,
      setsIntpin: content?.setsIntpin ?? false,
      nvidiaEntries: content?.nvidiaEntries ?? [],
      entries: content?.entries ?? [],
      configMirror: content?.configMirror ?? false,
    },
    api,
    supported: true,
  };
  const reason = unsupportedReason(files, info);
  if (reason !== undefined) {
    info.supported = false;
    info.reason = reason;
  }
  return info;
}

function unsupportedReason(files: TreeFiles, info: TreeInfo): string | undefined {
  if (files[TREE_PATHS.makefile] === undefined) {
    return `${TREE_PATHS.makefile} not found: not a FreeBSD source tree with bhyve`;
  }
  if (files[TREE_PATHS.passthruHeader] === undefined) {
    return `${TREE_PATHS.passthruHeader} not found: this bhyve predates the passthru quirk framework`;
  }
  if (!info.api.passthruDevSet) {
    const rel = info.release ? ` (${releaseName(info.release)})` : '';
    return `this tree${rel} has no passthru quirk framework (no PASSTHRU_DEV_SET in pci_passthru.h); its bhyve does not emulate the PCI header, so the guest already sees the host's INTPIN`;
  }
  if (info.api.hostReadConfig === undefined) {
    return `${TREE_PATHS.passthruHeader} declares neither pci_host_read_config nor read_config`;
  }
  if (info.srcsFile === undefined) return `no bhyve Makefile lists ${PASSTHRU} in SRCS`;
  return undefined;
}

import { effectivePptdevs } from '../conf/pptdevs.js';
import { effectiveValue, loaderValue as loaderLast, loaderViews, parseShVars } from '../conf/views.js';
import { hasIommuTable, parseAcpidumpTables } from '../facts/acpidump.js';
import { parseDmesgBoot } from '../facts/dmesg-boot.js';
import { parseIfconfig, physicalInterfaces } from '../facts/ifconfig.js';
import { parseKldstat } from '../facts/kldstat.js';
import { parseRouteGet } from '../facts/route.js';
import { parseSysctl } from '../facts/sysctl.js';
import { parseFreebsdVersion, parseUname } from '../facts/version.js';
import { commandResult, fileText, loaderFileOrder, type RawProbe } from './collect.js';
import { DMESG_BOOT, INSTALL_MANIFEST, RC_CONF_FILES, VMM_DEV_DIR } from './probes.js';
import type { HostFacts, InstallManifest, PptdevsEntry } from './types.js';

/** stdout of a probe command that ran and succeeded. */
export function okStdout(raw: RawProbe, argv: readonly string[]): string | undefined {
  const c = commandResult(raw, argv);
  return c?.state === 'ok' && c.result?.exitCode === 0 ? c.result.stdout : undefined;
}

/** The loader files that were read, in the loader's order. */
function readLoaderFiles(raw: RawProbe): { path: string; text: string }[] {
  return loaderFileOrder(raw)
    .filter((f) => f.state === 'ok' && f.text !== undefined)
    .map((f) => ({ path: f.path, text: f.text as string }));
}

/**
 * pptdevs, pptdevs2, pptdevs3 as the loader and the kernel read them across the loader files (a later file
 * overrides); an entry of a value the kernel drops for its length is marked `lost`.
 */
export function readPptdevs(raw: RawProbe): PptdevsEntry[] | undefined {
  const files = loaderFileOrder(raw);
  const main = files[0];
  if (!main || main.state === 'unknown') return undefined;
  return effectivePptdevs(readLoaderFiles(raw)).combined.map((e) => ({
    bhyveId: e.text,
    variable: e.variable,
    file: e.file,
    line: e.line,
    ...(e.lost ? { lost: e.lost } : {}),
  }));
}

function loaderValue(raw: RawProbe, key: string): string | undefined {
  return loaderLast(loaderViews(readLoaderFiles(raw)), key)?.value;
}

function rcValue(raw: RawProbe, key: string): string | undefined {
  let v: string | undefined;
  for (const p of RC_CONF_FILES) {
    const t = fileText(raw, p);
    if (t !== undefined) v = effectiveValue(parseShVars(t, p).assignments, key) ?? v;
  }
  return v;
}

const yes = (v: string | undefined) => v !== undefined && /^(yes|true|on|1)$/i.test(v.trim());

function readManifest(raw: RawProbe): InstallManifest | undefined {
  const t = fileText(raw, INSTALL_MANIFEST);
  if (t === undefined) return undefined;
  try {
    const m = JSON.parse(t) as InstallManifest;
    return m && m.format === 'bhyve-gpu-install' && Array.isArray(m.files) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Files whose SHA-256 the probe set reads, to compare with the install manifest. */
const HASHED = ['/usr/sbin/bhyve', '/boot/kernel/vmm.ko'] as const;

function bhyveState(raw: RawProbe, unknown: string[], userland: string | undefined): HostFacts['bhyve'] {
  const manifest = readManifest(raw);
  const sha = okStdout(raw, ['sha256', '-q', '/usr/sbin/bhyve'])?.trim();
  const manifestFile = raw.files.find((f) => f.path === INSTALL_MANIFEST);
  if (!manifest) {
    if (manifestFile?.state === 'missing')
      return {
        state: 'stock',
        ...(sha ? { sha256: sha } : {}),
        detail: 'no bhyve-gpu install manifest: the base system bhyve',
      };
    unknown.push(`${INSTALL_MANIFEST}: ${manifestFile?.reason ?? 'not read'}`);
    return { state: 'unknown', detail: 'install manifest not available' };
  }
  const compared = HASHED.flatMap((path) => {
    const entry = manifest.files.find((f) => f.path === path);
    const now = okStdout(raw, ['sha256', '-q', path])?.trim();
    return entry && now ? [{ path, expected: entry.sha256, now }] : [];
  });
  const changed = compared.filter((c) => c.expected !== c.now);
  const base = { manifest, ...(sha ? { sha256: sha } : {}) };
  if (changed.length)
    return {
      state: 'overwritten',
      ...base,
      detail: `${changed.map((c) => c.path).join(' and ')} changed since bhyve-gpu installed ${changed.length > 1 ? 'them' : 'it'} (${manifest.installedAt}); freebsd-update or a world/kernel install replaced ${changed.length > 1 ? 'them' : 'it'}`,
    };
  if (
    compared.length &&
    compared.length === HASHED.filter((p) => manifest.files.some((f) => f.path === p)).length
  )
    return { state: 'patched', ...base, detail: `patched bhyve installed ${manifest.installedAt}` };
  if (manifest.userland && userland && manifest.userland !== userland)
    return {
      state: 'maybe-overwritten',
      ...base,
      detail: `userland is ${userland} but was ${manifest.userland} when bhyve-gpu installed bhyve (${manifest.installedAt}): freebsd-update has run since and may have replaced it`,
    };
  return {
    state: 'unknown',
    ...base,
    detail: 'cannot hash the installed files to compare with the manifest',
  };
}

export function buildHostFacts(
  raw: RawProbe,
  hostname: string,
  description: string,
  unknown: string[],
): HostFacts {
  const versionOut = okStdout(raw, ['freebsd-version', '-kru']);
  const unameOut = okStdout(raw, ['uname', '-a']);
  const version = versionOut ? parseFreebsdVersion(versionOut) : undefined;
  const uname = unameOut ? parseUname(unameOut) : undefined;
  const dmesgText = fileText(raw, DMESG_BOOT);
  const cpu = dmesgText !== undefined ? parseDmesgBoot(dmesgText) : undefined;
  // One source of truth: a release read from the dmesg.boot banner is not also reported as unknown.
  if (!version && !uname && !cpu?.release) unknown.push('release: freebsd-version and uname not captured');
  else if (!version && !uname)
    unknown.push('freebsd-version and uname: not available (release from the dmesg.boot banner)');
  else if (!version) unknown.push('freebsd-version: not available');
  if (!cpu) unknown.push(`${DMESG_BOOT}: not read (CPU virtualisation features unknown)`);

  const acpi = commandResult(raw, ['acpidump', '-t']);
  let table: HostFacts['iommu']['table'];
  if (acpi?.state === 'ok' && acpi.result?.exitCode === 0)
    table = hasIommuTable(parseAcpidumpTables(acpi.result.stdout)) ?? 'none';
  else unknown.push(`acpidump -t: ${acpi?.reason ?? 'failed'}`);

  const vmmCmd = commandResult(raw, ['sysctl', 'hw.vmm']);
  const vmmSysctl = vmmCmd?.state === 'ok' && vmmCmd.result ? parseSysctl(vmmCmd.result.stdout) : undefined;
  const kldOut = okStdout(raw, ['kldstat']);
  const kld = kldOut !== undefined ? parseKldstat(kldOut) : undefined;
  let loaded: boolean | undefined;
  if (kld) loaded = kld.some((k) => k.name === 'vmm.ko' || k.modules.some((m) => m.name === 'vmm'));
  else if (vmmCmd?.state === 'ok') loaded = vmmCmd.result?.exitCode === 0 && (vmmSysctl?.size ?? 0) > 0;
  if (loaded === undefined) unknown.push('vmm: kldstat not captured');

  const loaderFiles = loaderFileOrder(raw);
  const loaderKnown = loaderFiles[0] !== undefined && loaderFiles[0].state !== 'unknown';
  const rcKnown = raw.files.some((f) => f.path === RC_CONF_FILES[0] && f.state !== 'unknown');
  const kldList = rcValue(raw, 'kld_list');

  const routeOut = okStdout(raw, ['route', '-n', 'get', 'default']);
  const routeIf = routeOut ? parseRouteGet(routeOut).interface : undefined;
  const ifOut = okStdout(raw, ['ifconfig', '-a']);
  const nics = routeIf ? (ifOut ? physicalInterfaces(parseIfconfig(ifOut), routeIf) : [routeIf]) : [];

  const vmmDir = raw.dirs.get(VMM_DEV_DIR);
  const release = version?.release ?? uname?.parsedRelease ?? cpu?.release;
  return {
    hostname,
    description,
    release,
    releaseText: version?.runningKernel ?? uname?.release ?? release?.text,
    machine: uname?.machine ?? (uname ? undefined : unameOut?.trim().split(/\s+/).at(-2)),
    sysname: uname?.sysname ?? unameOut?.trim().split(/\s+/)[0],
    cpu,
    iommu: {
      table,
      vmmIommuEnable: vmmSysctl?.get('hw.vmm.iommu.enable'),
      vmmIommuInitialized: vmmSysctl?.get('hw.vmm.iommu.initialized'),
      amdviEnable: vmmSysctl?.get('hw.vmm.amdvi.enable') ?? loaderValue(raw, 'hw.vmm.amdvi.enable'),
    },
    vmm: {
      loaded,
      loaderConf: loaderKnown ? yes(loaderValue(raw, 'vmm_load')) : undefined,
      kldList: rcKnown ? (kldList ?? '').split(/\s+/).some((m) => m === 'vmm' || m === 'vmm.ko') : undefined,
      kld,
      ...hideHypervisor(vmmSysctl, raw),
    },
    pptdevs: readPptdevs(raw),
    loaderFiles: loaderFiles.filter((f) => f.state === 'ok').map((f) => f.path),
    defaultRoute: routeIf ? { interface: routeIf, nics } : undefined,
    bootVideo: cpu?.bootVideo ? `${cpu.bootVideo.driver}${cpu.bootVideo.unit}` : undefined,
    bhyve: bhyveState(raw, unknown, version?.userland),
    vmDir: raw.vmDir,
    runningVms: vmmDir,
  };
}

/** hw.vmm.hide_hypervisor from `sysctl hw.vmm` (the running vmm.ko), else from the loader files. */
function hideHypervisor(
  vmmSysctl: Map<string, string> | undefined,
  raw: RawProbe,
): { hideHypervisor?: string } {
  const value = vmmSysctl?.get('hw.vmm.hide_hypervisor') ?? loaderValue(raw, 'hw.vmm.hide_hypervisor');
  return value === undefined ? {} : { hideHypervisor: value };
}

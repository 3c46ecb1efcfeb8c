import { effectiveValue, parseShVars } from '../conf/views.js';
import { CommandNotFoundError, errorMessage, FileMissingError, NotCapturedError } from '../errors.js';
import type { Host, RunResult } from '../host/types.js';
import {
  LOADER_CONF,
  LOADER_CONF_DIR,
  LOADER_CONF_LOCAL,
  PROBE_COMMANDS,
  PROBE_FILES,
  RC_CONF_FILES,
  VMM_DEV_DIR,
  zfsMountpointProbe,
} from './probes.js';

export type ProbeState = 'ok' | 'missing' | 'unknown';

export interface RawCommand {
  argv: string[];
  state: ProbeState;
  result?: RunResult;
  /** Why the output is unknown: "not captured", "command not found", an error message. */
  reason?: string;
}

export interface RawFile {
  path: string;
  state: ProbeState;
  text?: string;
  reason?: string;
}

/** Everything one probe pass read from a host, before parsing. */
export interface RawProbe {
  commands: RawCommand[];
  files: RawFile[];
  /** Directory listings that were taken: path -> names, or undefined when unknown. */
  dirs: Map<string, string[] | undefined>;
  /** vm-bhyve's vm_dir resolved to a path, when rc.conf sets it. */
  vmDir?: string;
  vmDirSpec?: string;
}

function reasonOf(e: unknown): { state: ProbeState; reason: string } {
  if (e instanceof FileMissingError) return { state: 'missing', reason: 'no such file' };
  if (e instanceof NotCapturedError) return { state: 'unknown', reason: 'not captured' };
  if (e instanceof CommandNotFoundError) return { state: 'unknown', reason: 'command not found' };
  return { state: 'unknown', reason: errorMessage(e) };
}

async function runAll(host: Host, argvs: readonly (readonly string[])[]): Promise<RawCommand[]> {
  if (host.runBatch) {
    try {
      const results = await host.runBatch(argvs);
      return argvs.map((argv, i) => toRaw(argv, results[i]));
    } catch {
      // Fall back to one command at a time, so that one failure does not hide the rest.
    }
  }
  return Promise.all(
    argvs.map(async (argv) => {
      try {
        return toRaw(argv, await host.run(argv));
      } catch (e) {
        return { argv: [...argv], ...reasonOf(e) };
      }
    }),
  );
}

function toRaw(argv: readonly string[], result: RunResult | undefined): RawCommand {
  if (!result) return { argv: [...argv], state: 'unknown', reason: 'no result' };
  if (result.exitCode === 127 && /not found/i.test(result.stderr))
    return { argv: [...argv], state: 'unknown', reason: 'command not found', result };
  return { argv: [...argv], state: 'ok', result };
}

async function readOne(host: Host, path: string): Promise<RawFile> {
  try {
    return { path, state: 'ok', text: await host.readFile(path) };
  } catch (e) {
    return { path, ...reasonOf(e) };
  }
}

/** A host that pays per round trip (ssh): files are read with `cat` in one batch instead of one by one. */
function batched(host: Host): host is Host & Required<Pick<Host, 'runBatch'>> {
  return host.kind === 'ssh' && 'roundTrips' in host && typeof host.runBatch === 'function';
}

async function readAll(host: Host, paths: readonly string[]): Promise<RawFile[]> {
  if (paths.length === 0) return [];
  if (batched(host)) {
    try {
      const results = await host.runBatch(paths.map((p) => ['cat', '--', p]));
      return paths.map((path, i): RawFile => {
        const r = results[i];
        if (r?.exitCode === 0) return { path, state: 'ok', text: r.stdout };
        if (r && /no such file/i.test(r.stderr)) return { path, state: 'missing', reason: 'no such file' };
        return { path, state: 'unknown', reason: r?.stderr.trim() || 'not read' };
      });
    } catch {
      // fall back to one read at a time
    }
  }
  return Promise.all(paths.map((p) => readOne(host, p)));
}

async function listOne(host: Host, path: string): Promise<string[] | undefined> {
  try {
    return await host.listDir(path);
  } catch {
    return undefined;
  }
}

/** One probe pass: the fixed commands and files, then what they point at (loader.conf.d, vm-bhyve guests). */
export async function collect(host: Host): Promise<RawProbe> {
  const [commands, files, confDir, vmmDir] = await Promise.all([
    runAll(host, PROBE_COMMANDS),
    readAll(host, PROBE_FILES),
    listOne(host, LOADER_CONF_DIR),
    listOne(host, VMM_DEV_DIR),
  ]);
  const dirs = new Map<string, string[] | undefined>([
    [LOADER_CONF_DIR, confDir],
    [VMM_DEV_DIR, vmmDir],
  ]);
  const confDFiles = (confDir ?? []).filter((n) => n.endsWith('.conf')).map((n) => `${LOADER_CONF_DIR}/${n}`);
  files.push(...(await readAll(host, confDFiles)));

  const raw: RawProbe = { commands, files, dirs };
  const rcText = RC_CONF_FILES.map((p) => files.find((f) => f.path === p)?.text ?? '').join('\n');
  const vmDirSpec = effectiveValue(parseShVars(rcText).assignments, 'vm_dir');
  if (vmDirSpec) {
    raw.vmDirSpec = vmDirSpec;
    let vmDir: string | undefined = vmDirSpec;
    if (vmDirSpec.startsWith('zfs:')) {
      const [zfs] = await runAll(host, [zfsMountpointProbe(vmDirSpec.slice(4))]);
      if (zfs) commands.push(zfs);
      const mp = zfs?.result?.exitCode === 0 ? zfs.result.stdout.trim() : undefined;
      vmDir = mp?.startsWith('/') ? mp : undefined;
    }
    if (vmDir) {
      raw.vmDir = vmDir;
      const guests = await listOne(host, vmDir);
      dirs.set(vmDir, guests);
      const names = (guests ?? []).filter((n) => !n.startsWith('.'));
      const confs = await readAll(
        host,
        names.map((n) => `${vmDir}/${n}/${n}.conf`),
      );
      files.push(...confs.filter((f) => f.state === 'ok'));
    }
  }
  return raw;
}

/** The text of a probed file, when it was read. */
export function fileText(raw: RawProbe, path: string): string | undefined {
  return raw.files.find((f) => f.path === path && f.state === 'ok')?.text;
}

/** A probed command's result, when it ran. */
export function commandResult(raw: RawProbe, argv: readonly string[]): RawCommand | undefined {
  const key = JSON.stringify(argv);
  return raw.commands.find((c) => JSON.stringify(c.argv) === key);
}

/** The loader files in the loader's order: loader.conf, loader.conf.d/*.conf (sorted), loader.conf.local. */
export function loaderFileOrder(raw: RawProbe): RawFile[] {
  const dir = raw.files
    .filter((f) => f.path.startsWith(`${LOADER_CONF_DIR}/`))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const first = raw.files.find((f) => f.path === LOADER_CONF);
  const last = raw.files.find((f) => f.path === LOADER_CONF_LOCAL);
  return [...(first ? [first] : []), ...dir, ...(last ? [last] : [])];
}

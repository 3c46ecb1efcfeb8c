/**
 * `bhyve-gpu update`: bring the patched bhyve back after freebsd-update (or onto a new patch level). Reads
 * the install manifest, tells whether the installed files were overwritten or the userland moved on, and
 * runs the same chain a user would (source -> patch with the recorded quirks -> build -> install) on the
 * host's new release. The install at the end is one journal entry, undone with `bhyve-gpu rollback`.
 */
import { posix } from 'node:path';
import { FileMissingError, NotCapturedError, ParseError, ToolError } from '../errors.js';
import type { Host } from '../host/types.js';
import { INSTALL_MANIFEST } from '../inventory/probes.js';
import type { InstallManifest } from '../inventory/types.js';
import { manifestQuirks, parseQuirkList, type QuirkSpec } from '../patch/quirks/words.js';
import { PATCH_RECORD_PATH, type PatchRun, readPatchRecord, runPatch } from '../patch/run.js';
import { sha256 } from '../plan/journal.js';
import {
  parseReleaseString,
  type ReleaseVersion,
  type SourceFlavor,
  wantedBranch,
} from '../srctree/branches.js';
import { gitInTree, RECORD_DIR } from '../srctree/git.js';
import { treePath } from '../srctree/layout.js';

/** The manifest, checked; undefined when bhyve-gpu never installed anything on this host. */
export async function readInstallManifest(host: Host): Promise<InstallManifest | undefined> {
  let text: string;
  try {
    text = await host.readFile(INSTALL_MANIFEST);
  } catch (e) {
    if (e instanceof FileMissingError) return undefined;
    throw e;
  }
  const hint = `the file is written by bhyve-gpu install; restore it from a backup or reinstall`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ParseError(`not valid JSON (${(e as Error).message})`, { file: INSTALL_MANIFEST }, hint);
  }
  const m = value as Partial<InstallManifest>;
  if (typeof m !== 'object' || m === null || m.format !== 'bhyve-gpu-install')
    throw new ParseError('not a bhyve-gpu install manifest (format)', { file: INSTALL_MANIFEST }, hint);
  if (
    !Array.isArray(m.files) ||
    !m.files.every((f) => typeof f?.path === 'string' && typeof f.sha256 === 'string')
  )
    throw new ParseError('field "files": expected [{path, sha256}]', { file: INSTALL_MANIFEST }, hint);
  if (!Array.isArray(m.patches))
    throw new ParseError('field "patches": expected an array', { file: INSTALL_MANIFEST }, hint);
  if (m.quirks !== undefined && !(Array.isArray(m.quirks) && m.quirks.every((q) => typeof q === 'string')))
    throw new ParseError(
      'field "quirks": expected an array of quirk words',
      { file: INSTALL_MANIFEST },
      hint,
    );
  return m as InstallManifest;
}

/** What the installed build carries: the manifest's `quirks`, or ["intpin"] for a manifest from before quirks. */
export interface RecordedPatches {
  quirks: string[];
  /** Patches that are not quirks (a `patch --patch FILE` diff): update cannot re-apply them by itself. */
  diffs: string[];
}

export function recordedPatches(manifest: InstallManifest): RecordedPatches {
  const diffs = manifest.patches.map((p) => p.name).filter((n) => n !== 'intpin-quirk' && n !== 'intpin');
  const quirks = [...manifestQuirks(manifest)];
  return { quirks, diffs: manifest.quirks?.length ? [] : diffs };
}

/** The flavor a recorded branch was chosen by, so that the same flavor is fetched at the new release. */
export function flavorOfBranch(branch: string): SourceFlavor | undefined {
  if (/^releng\/\d+\.\d+$/.test(branch) || branch === 'main') return 'upstream';
  if (/^stable\/\d+$/.test(branch)) return 'stable';
  if (/^phab\/corvink\/\d+\.\d+\/nvidia-wip$/.test(branch)) return 'nvidia-wip';
  return undefined;
}

export interface FileState {
  path: string;
  expected: string;
  /** The file's SHA-256 now; undefined when missing. */
  now: string | undefined;
  /** 'unknown' when it could not be read (a snapshot that holds neither the file nor its sha256). */
  state: 'current' | 'overwritten' | 'missing' | 'unknown';
}

export interface UpdateStatus {
  manifest: InstallManifest;
  files: FileState[];
  /** `freebsd-version -u` now, and when bhyve-gpu installed. */
  userland: { now: string | undefined; installed: string | undefined };
  /** Changes pending: what makes `--check` exit 3. */
  reasons: string[];
  /** Something could not be read: `--check` cannot say "current". */
  unknown: string[];
  pending: boolean;
}

async function fileSha(host: Host, path: string): Promise<string | undefined | 'unknown'> {
  let missing = false;
  try {
    return sha256(await host.readBytes(path));
  } catch (e) {
    if (!(e instanceof FileMissingError) && !(e instanceof NotCapturedError)) throw e;
    missing = e instanceof FileMissingError;
  }
  // A snapshot holds the probe set's `sha256 -q` outputs, not the binaries (under --root too).
  if (host.kind !== 'snapshot') return missing ? undefined : 'unknown';
  try {
    const r = await host.run(['sha256', '-q', path]);
    const value = r.stdout.trim();
    if (r.exitCode === 0 && /^[0-9a-f]{64}$/.test(value)) return value;
    return r.exitCode !== 0 && /No such file/i.test(r.stderr) ? undefined : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `freebsd-version -kru`: [installed kernel, running kernel, userland]. */
export async function hostVersions(
  host: Host,
): Promise<{ kernel?: string; running?: string; userland?: string }> {
  try {
    const r = await host.run(['freebsd-version', '-kru']);
    if (r.exitCode !== 0) return {};
    const [kernel, running, userland] = r.stdout.split('\n').map((l) => l.trim());
    return {
      ...(kernel ? { kernel } : {}),
      ...(running ? { running } : {}),
      ...(userland ? { userland } : {}),
    };
  } catch {
    return {};
  }
}

/** Compare the installed files and the userland with the manifest. */
export async function updateStatus(host: Host, manifest: InstallManifest): Promise<UpdateStatus> {
  const files: FileState[] = [];
  for (const f of manifest.files) {
    const now = await fileSha(host, f.path);
    files.push({
      path: f.path,
      expected: f.sha256,
      now: now === 'unknown' ? undefined : now,
      state:
        now === 'unknown'
          ? 'unknown'
          : now === undefined
            ? 'missing'
            : now === f.sha256
              ? 'current'
              : 'overwritten',
    });
  }
  const userlandNow = (await hostVersions(host)).userland;
  const reasons: string[] = [];
  const unknown: string[] = [];
  for (const f of files) {
    if (f.state === 'overwritten')
      reasons.push(
        `${f.path} was overwritten since bhyve-gpu installed it (${manifest.installedAt}): sha256 ${f.now?.slice(0, 12)}, installed ${f.expected.slice(0, 12)}`,
      );
    if (f.state === 'missing')
      reasons.push(`${f.path} is missing (bhyve-gpu installed it ${manifest.installedAt})`);
    if (f.state === 'unknown') unknown.push(`${f.path}: cannot read it or its sha256 on this host`);
  }
  if (manifest.userland && userlandNow && manifest.userland !== userlandNow)
    reasons.push(
      `the patched bhyve was built for ${manifest.userland}; the host's userland is ${userlandNow} now (freebsd-update ran since)`,
    );
  if (!userlandNow) unknown.push('freebsd-version -kru: the host userland could not be read');
  return {
    manifest,
    files,
    userland: { now: userlandNow, installed: manifest.userland },
    reasons,
    unknown,
    pending: reasons.length > 0,
  };
}

export interface SourceTarget {
  repo: string;
  branch: string;
  flavor: SourceFlavor | undefined;
  release: ReleaseVersion | undefined;
}

/** Same repository and flavor as the installed build, at the release the host runs now. */
export async function sourceTarget(
  host: Host,
  manifest: InstallManifest,
  override: { branch?: string; repo?: string } = {},
): Promise<SourceTarget> {
  const recorded = manifest.source?.branch;
  const repo = override.repo ?? manifest.source?.repo;
  if (!repo)
    throw new ToolError('update-no-source', `${INSTALL_MANIFEST} does not record the source repository`, {
      hint: 'run the chain by hand once: bhyve-gpu source && bhyve-gpu patch && bhyve-gpu build && bhyve-gpu install --yes',
    });
  const versions = await hostVersions(host);
  const release = parseReleaseString(versions.userland ?? versions.running ?? '');
  if (override.branch)
    return { repo, branch: override.branch, flavor: flavorOfBranch(override.branch), release };
  const flavor = recorded === undefined ? undefined : flavorOfBranch(recorded);
  if (!flavor || !recorded)
    throw new ToolError(
      'update-branch',
      `the installed build came from ${recorded ? `branch ${recorded}` : 'an unrecorded branch'}, which names no release to move on from`,
      { hint: 'name the branch to build from: bhyve-gpu update --branch NAME', exitCode: 2 },
    );
  if (!release)
    throw new ToolError(
      'update-release',
      'cannot tell the FreeBSD release of this host (freebsd-version -kru)',
      {
        hint: 'name the branch to build from: bhyve-gpu update --branch NAME',
      },
    );
  const branch = recorded === 'main' ? 'main' : wantedBranch(release, flavor);
  return { repo, branch, flavor, release };
}

/**
 * The one call from update into the patch engine: the recorded quirk words, parsed as `patch --quirk`
 * parses them, applied by the same engine. A word this version does not know is refused before anything
 * is written.
 */
export async function applyQuirks(
  host: Host,
  src: string,
  quirks: readonly string[],
  options: { dryRun?: boolean } = {},
): Promise<PatchRun> {
  if (quirks.length === 0)
    throw new ToolError('update-quirks', 'the install manifest records no quirk to re-apply', {
      hint: 'patch the tree by hand (bhyve-gpu patch --src DIR), then bhyve-gpu build and bhyve-gpu install --yes',
    });
  let specs: QuirkSpec[];
  try {
    specs = parseQuirkList(quirks.join(','));
  } catch (e) {
    throw new ToolError(
      'update-quirks',
      `this bhyve-gpu cannot re-apply the quirks ${quirks.join(', ')} recorded in ${INSTALL_MANIFEST}: ${e instanceof Error ? e.message : String(e)}`,
      {
        hint: 'patch the tree by hand (bhyve-gpu patch --src DIR --quirk LIST), then bhyve-gpu build and bhyve-gpu install --yes',
      },
    );
  }
  return runPatch(host, src, { dryRun: options.dryRun === true, quirks: specs });
}

/**
 * Put back the files the last `bhyve-gpu patch` changed, so that a newer commit can be checked out.
 * Refuses when a patched file was changed since (someone's own edit): update never throws work away.
 */
export async function unpatchTree(host: Host, src: string): Promise<string[]> {
  const record = await readPatchRecord(host, src);
  if (!record) return [];
  const restored: string[] = [];
  for (const f of record.files) {
    const path = treePath(src, f.path);
    let now: string | undefined;
    try {
      now = sha256(await host.readBytes(path));
    } catch (e) {
      if (!(e instanceof FileMissingError)) throw e;
    }
    if (now !== undefined && now !== f.sha256After && now !== f.sha256Before)
      throw new ToolError(
        'update-tree-changed',
        `${path} changed since bhyve-gpu patched it: update will not discard that`,
        {
          hint: `commit or move the change, or give update another tree: bhyve-gpu update --src DIR`,
        },
      );
    if (now === undefined || now === f.sha256Before) continue;
    if (f.sha256Before === undefined) await host.removeFile(path);
    else await gitInTree(host, src, ['checkout', '--quiet', '--', f.path]);
    restored.push(f.path);
  }
  for (const name of [PATCH_RECORD_PATH, posix.join(RECORD_DIR, 'build-record.json')]) {
    const path = treePath(src, name);
    if (await host.exists(path)) await host.removeFile(path);
  }
  return restored;
}

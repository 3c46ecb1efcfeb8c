import { posix } from 'node:path';
import { ToolError } from '../errors.js';
import type { Host } from '../host/types.js';
import { RECORD_DIR, readPin } from '../srctree/git.js';
import type { BuildResult } from './runner.js';
import { type BuildStep, parseShlibMajor, type RebuildOptions, rebuildSet } from './targets.js';

/** What the patch command records: `<src>/.bhyve-gpu/patch-record.json`. Only `files[].path` is read here. */
export interface PatchRecordFiles {
  files: { path: string }[];
}

/** `<src>/.bhyve-gpu/build-record.json`, read by the install step. */
export interface BuildRecord {
  src: string;
  commit?: string;
  steps: { name: string; dir: string; argv: string[]; installs: string[] }[];
  installs: string[];
  logFile: string;
  finishedAt: string;
}

export function recordPath(src: string, name: 'patch-record.json' | 'build-record.json'): string {
  return posix.join(src, RECORD_DIR, name);
}

/**
 * The files a build must cover: the patch record when the patch command wrote one, else
 * `git diff --name-only <pinned commit>` in the tree. `from` says which.
 */
export async function changedFiles(host: Host, src: string): Promise<{ files: string[]; from: string }> {
  const recordFile = recordPath(src, 'patch-record.json');
  if (await host.exists(recordFile)) {
    let record: Partial<PatchRecordFiles>;
    try {
      record = JSON.parse(await host.readFile(recordFile)) as Partial<PatchRecordFiles>;
    } catch (e) {
      throw new ToolError('bad-record', `${recordFile}: not JSON (${(e as Error).message})`);
    }
    const files = Array.isArray(record.files)
      ? record.files.map((f) => f?.path).filter((p): p is string => typeof p === 'string')
      : [];
    return { files, from: recordFile };
  }
  const pin = await readPin(host, src);
  if (!pin) {
    throw new ToolError('no-source', `${src} has neither a patch record nor a source pin`, {
      hint: 'fetch the tree with `bhyve-gpu source` and patch it with `bhyve-gpu patch` first',
    });
  }
  return { files: await changedSincePin(host, src, pin.commit), from: `git diff ${pin.commit.slice(0, 12)}` };
}

/** Build steps for a tree: changed files -> rebuildSet, with libvmmapi's SHLIB_MAJOR read from the tree. */
export async function planBuild(
  host: Host,
  src: string,
  files: readonly string[],
  options: Omit<RebuildOptions, 'libvmmapiMajor'>,
): Promise<BuildStep[]> {
  let libvmmapiMajor: number | undefined;
  try {
    libvmmapiMajor = parseShlibMajor(await host.readFile(posix.join(src, 'lib/libvmmapi/Makefile')));
  } catch {
    libvmmapiMajor = undefined;
  }
  return rebuildSet(files, libvmmapiMajor === undefined ? options : { ...options, libvmmapiMajor });
}

export async function writeBuildRecord(
  host: Host,
  src: string,
  steps: readonly BuildStep[],
  result: Extract<BuildResult, { ok: true }>,
  at: Date = new Date(),
): Promise<BuildRecord> {
  const pin = await readPin(host, src);
  const record: BuildRecord = {
    src,
    steps: steps.map(({ name, dir, argv, installs }) => ({ name, dir, argv, installs })),
    installs: steps.flatMap((s) => s.installs),
    logFile: result.logFile,
    finishedAt: at.toISOString(),
  };
  if (pin) record.commit = pin.commit;
  await host.mkdir(posix.join(src, RECORD_DIR));
  await host.writeFile(recordPath(src, 'build-record.json'), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** Files changed in the tree since the pinned commit (`git diff --name-only <commit>`), tracked and new. */
export async function changedSincePin(host: Host, dest: string, commit: string): Promise<string[]> {
  const files: string[] = [];
  for (const argv of [
    ['git', '-C', dest, 'diff', '--name-only', commit],
    ['git', '-C', dest, 'ls-files', '--others', '--exclude-standard'],
  ]) {
    const result = await host.run(argv, { env: { LC_ALL: 'C' } });
    if (result.exitCode !== 0) {
      throw new ToolError(
        'git-failed',
        `${argv.join(' ')} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
      );
    }
    files.push(...result.stdout.split('\n').filter((l) => l !== ''));
  }
  return [...new Set(files)].sort();
}

import { posix } from 'node:path';
import { NotCapturedError, ParseError, ToolError } from '../errors.js';
import { commandPath } from '../host/rooted.js';
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

/**
 * `--src` must name an existing directory: checked first, so that a typo does not surface later as a raw
 * ENOTDIR or a misleading "Makefile not found". A snapshot that did not capture the path leaves it unknown.
 */
export async function requireSourceDir(host: Host, dir: string): Promise<void> {
  let stat: Awaited<ReturnType<Host['stat']>>;
  try {
    stat = await host.stat(dir);
  } catch (e) {
    if (e instanceof NotCapturedError) return;
    throw e;
  }
  if (stat?.isDirectory) return;
  throw new ToolError(
    'no-source',
    `${dir}: ${stat === undefined ? 'no such directory' : 'not a directory'}`,
    {
      hint: '`bhyve-gpu source` fetches a FreeBSD source tree (default /usr/local/bhyve-gpu/src)',
      exitCode: 2,
    },
  );
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function parseRecordJson(text: string, file: string, hint: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ParseError(`not valid JSON (${(e as Error).message})`, { file }, hint);
  }
  if (!isObject(value)) throw new ParseError('expected a JSON object', { file }, hint);
  return value;
}

const BUILD_HINT = 'run `bhyve-gpu build` again to rewrite it';

/** Read and check `build-record.json`; a wrong shape is a ParseError naming the file and the field. */
export function parseBuildRecord(text: string, file: string): BuildRecord {
  const json = parseRecordJson(text, file, BUILD_HINT);
  function bad(field: string, expected: string): never {
    throw new ParseError(`field "${field}": expected ${expected}`, { file }, BUILD_HINT);
  }
  for (const field of ['src', 'logFile', 'finishedAt'] as const)
    if (typeof json[field] !== 'string') bad(field, 'a string');
  if (json.commit !== undefined && typeof json.commit !== 'string') bad('commit', 'a string');
  if (!isStrings(json.installs)) bad('installs', 'an array of paths');
  if (!Array.isArray(json.steps)) bad('steps', 'an array');
  for (const [i, step] of json.steps.entries()) {
    if (!isObject(step)) bad(`steps[${i}]`, 'an object');
    for (const field of ['name', 'dir'] as const)
      if (typeof step[field] !== 'string') bad(`steps[${i}].${field}`, 'a string');
    for (const field of ['argv', 'installs'] as const)
      if (!isStrings(step[field])) bad(`steps[${i}].${field}`, 'an array of strings');
  }
  return json as unknown as BuildRecord;
}

/** `<src>/.bhyve-gpu/build-record.json`, checked; undefined when there is none. */
export async function readBuildRecord(host: Host, src: string): Promise<BuildRecord | undefined> {
  const file = recordPath(src, 'build-record.json');
  if (!(await host.exists(file))) return undefined;
  return parseBuildRecord(await host.readFile(file), file);
}

/** Read and check the `files[].path` part of `patch-record.json`. */
export function parsePatchRecordFiles(text: string, file: string): PatchRecordFiles {
  const hint = 'run `bhyve-gpu patch` again to rewrite it';
  const json = parseRecordJson(text, file, hint);
  if (!Array.isArray(json.files)) throw new ParseError('field "files": expected an array', { file }, hint);
  const files = json.files.map((entry: unknown, i: number) => {
    if (!isObject(entry) || typeof entry.path !== 'string' || entry.path === '')
      throw new ParseError(`field "files[${i}].path": expected a path`, { file }, hint);
    return { path: entry.path };
  });
  return { files };
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
    const record = parsePatchRecordFiles(await host.readFile(recordFile), recordFile);
    return { files: record.files.map((f) => f.path), from: recordFile };
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
    ['git', '-C', commandPath(host, dest), 'diff', '--name-only', commit],
    ['git', '-C', commandPath(host, dest), 'ls-files', '--others', '--exclude-standard'],
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

import { posix } from 'node:path';
import { ToolError, UsageError } from '../errors.js';
import { commandPath } from '../host/rooted.js';
import type { Host, RunOptions, RunResult } from '../host/types.js';
import { LineSplitter } from '../make/progress.js';
import {
  nearestBranches,
  parseLsRemote,
  parseReleaseString,
  type ReleaseVersion,
  type RemoteRef,
} from './branches.js';

export const DEFAULT_SOURCE_DIR = '/usr/local/bhyve-gpu/src';
/** Where bhyve-gpu keeps its records inside a source tree (excluded from git status). */
export const RECORD_DIR = '.bhyve-gpu';

/** `<dest>/.bhyve-gpu/source.json`: the commit a tree was fetched at. */
export interface SourcePin {
  repo: string;
  branch: string;
  commit: string;
  fetchedAt: string;
}

export interface FetchOptions {
  repo: string;
  branch: string;
  dest?: string;
  /** Fetch again even when dest already holds the branch. */
  update?: boolean;
  /** git's progress lines (`Receiving objects:  42% (…)`), one at a time. */
  onProgress?: (line: string) => void;
  /** The remote's refs when the caller already listed them (saves a second ls-remote). */
  refs?: RemoteRef[];
  now?: () => Date;
}

export interface FetchResult {
  status: 'fetched' | 'present' | 'updated';
  repo: string;
  branch: string;
  commit: string;
  dest: string;
  /** The commit the remote branch points at now (differs from `commit` when an update is available). */
  remoteCommit: string;
  fetchedAt: string;
}

/** The git commands a fetch into an empty dest runs, for --dry-run. */
export function fetchSteps(repo: string, branch: string, dest: string = DEFAULT_SOURCE_DIR): string[][] {
  return [
    ['git', 'ls-remote', '--heads', '--tags', repo],
    ['git', 'init', '--quiet', dest],
    ['git', '-C', dest, 'remote', 'add', 'origin', repo],
    ['git', '-C', dest, 'fetch', '--depth', '1', '--progress', 'origin', branch],
    ['git', '-C', dest, 'checkout', '-B', localBranch(branch), 'FETCH_HEAD'],
  ];
}

export function localBranch(branch: string): string {
  return `bhyve-gpu/${branch}`;
}

export function pinPath(dest: string): string {
  return posix.join(dest, RECORD_DIR, 'source.json');
}

/** Refuse the system tree: bhyve-gpu works in its own checkout and never rewrites /usr/src. */
export function checkDestination(dest: string): string {
  const normal = posix.normalize(dest).replace(/\/+$/, '') || '/';
  if (!posix.isAbsolute(normal)) throw new UsageError(`--src must be an absolute path: ${dest}`);
  if (normal === '/' || normal === '/usr/src' || normal.startsWith('/usr/src/')) {
    throw new UsageError(
      `refusing to fetch into ${normal}`,
      `bhyve-gpu keeps its own checkout; use the default ${DEFAULT_SOURCE_DIR} or another --src directory`,
    );
  }
  return normal;
}

async function git(host: Host, argv: string[], options: RunOptions = {}): Promise<RunResult> {
  // The tree paths (`-C DIR`, `init DIR`) are host paths: under --root, git sees them below the root.
  const args = argv.map((a, i) =>
    (i === 1 && argv[0] === '-C') || (i === argv.length - 1 && argv[0] === 'init') ? commandPath(host, a) : a,
  );
  return host.run(['git', ...args], { ...options, env: { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } });
}

async function gitOk(host: Host, argv: string[], options: RunOptions = {}): Promise<string> {
  const result = await git(host, argv, options);
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim().split('\n').slice(-3).join('; ');
    throw new ToolError('git-failed', `git ${argv.join(' ')} failed (exit ${result.exitCode}): ${detail}`);
  }
  return result.stdout;
}

/** Branches and tags of a repository (`git ls-remote --heads --tags`). */
export async function listRemote(host: Host, repo: string): Promise<RemoteRef[]> {
  const result = await git(host, ['ls-remote', '--heads', '--tags', repo]);
  if (result.exitCode !== 0) {
    throw new ToolError(
      'git-remote',
      `cannot list ${repo}: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
      {
        hint: 'check the URL and the network (git ls-remote must reach it)',
      },
    );
  }
  return parseLsRemote(result.stdout);
}

export async function readPin(host: Host, dest: string): Promise<SourcePin | undefined> {
  try {
    const value = JSON.parse(await host.readFile(pinPath(dest))) as Partial<SourcePin>;
    if (typeof value.commit !== 'string' || typeof value.branch !== 'string') return undefined;
    return {
      repo: String(value.repo ?? ''),
      branch: value.branch,
      commit: value.commit,
      fetchedAt: String(value.fetchedAt ?? ''),
    };
  } catch {
    return undefined;
  }
}

async function headCommit(host: Host, dest: string): Promise<string | undefined> {
  const result = await git(host, ['-C', dest, 'rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Keep `.bhyve-gpu/` out of `git status` and `git diff` in the checkout. */
async function excludeRecords(host: Host, dest: string): Promise<void> {
  const path = posix.join(dest, '.git', 'info', 'exclude');
  let text = '';
  try {
    text = await host.readFile(path);
  } catch {
    await host.mkdir(posix.dirname(path));
  }
  if (text.split('\n').includes(`/${RECORD_DIR}/`)) return;
  await host.writeFile(path, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}/${RECORD_DIR}/\n`);
}

/**
 * Fetch `branch` of `repo` into `dest` shallowly and pin the commit. Resumable: an interrupted run leaves the
 * repository and remote in place, and the next run fetches again into them. A tree that already holds the
 * pinned branch is left alone unless `update` is set.
 */
export async function fetchSource(host: Host, options: FetchOptions): Promise<FetchResult> {
  const { repo, branch } = options;
  const dest = checkDestination(options.dest ?? DEFAULT_SOURCE_DIR);
  const refs = options.refs ?? (await listRemote(host, repo));
  const remote = refs.find((r) => r.name === branch);
  if (!remote) {
    const nearest = nearestBranches(
      branch,
      refs.map((r) => r.name),
    );
    throw new ToolError('branch-missing', `${repo} has no branch or tag ${branch}`, {
      hint: nearest.length > 0 ? `nearest: ${nearest.join(', ')} (pass --branch NAME)` : 'pass --branch NAME',
    });
  }

  const hasRepo = await host.exists(posix.join(dest, '.git'));
  const pin = hasRepo ? await readPin(host, dest) : undefined;
  const head = hasRepo ? await headCommit(host, dest) : undefined;
  if (pin && head === pin.commit && pin.branch === branch && pin.repo === repo && !options.update) {
    return {
      status: 'present',
      repo,
      branch,
      commit: pin.commit,
      dest,
      remoteCommit: remote.peeled ?? remote.sha,
      fetchedAt: pin.fetchedAt,
    };
  }

  if (!hasRepo) {
    await host.mkdir(dest);
    await gitOk(host, ['init', '--quiet', dest]);
  }
  await excludeRecords(host, dest);
  const origin = await git(host, ['-C', dest, 'remote', 'get-url', 'origin']);
  if (origin.exitCode !== 0) await gitOk(host, ['-C', dest, 'remote', 'add', 'origin', repo]);
  else if (origin.stdout.trim() !== repo)
    await gitOk(host, ['-C', dest, 'remote', 'set-url', 'origin', repo]);

  // A tree the user changed (patched) is never overwritten; deletions alone are an interrupted checkout.
  const force = head === undefined || (await onlyDeletions(host, dest));
  const splitter = new LineSplitter((line) => options.onProgress?.(line));
  await gitOk(host, ['-C', dest, 'fetch', '--depth', '1', '--progress', 'origin', branch], {
    onOutput: (chunk, stream) => {
      if (stream === 'stderr') splitter.push(chunk);
    },
  });
  splitter.flush();
  const checkout = [
    '-C',
    dest,
    'checkout',
    '--quiet',
    ...(force ? ['--force'] : []),
    '-B',
    localBranch(branch),
    'FETCH_HEAD',
  ];
  const result = await git(host, checkout);
  if (result.exitCode !== 0) {
    throw new ToolError('git-checkout', `cannot check out ${branch} in ${dest}: ${result.stderr.trim()}`, {
      hint: `the tree has local changes (a patch?); commit or stash them in ${dest}, or use another --src`,
    });
  }
  const commit = (await headCommit(host, dest)) ?? remote.peeled ?? remote.sha;
  const fetchedAt = (options.now?.() ?? new Date()).toISOString();
  const record: SourcePin = { repo, branch, commit, fetchedAt };
  await host.mkdir(posix.join(dest, RECORD_DIR));
  await host.writeFile(pinPath(dest), `${JSON.stringify(record, null, 2)}\n`);
  const status = pin && head !== undefined ? (head === commit ? 'present' : 'updated') : 'fetched';
  return { status, repo, branch, commit, dest, remoteCommit: remote.peeled ?? remote.sha, fetchedAt };
}

/** True when `git status` reports nothing but deleted tracked files (a checkout that was cut short or removed). */
async function onlyDeletions(host: Host, dest: string): Promise<boolean> {
  const result = await git(host, ['-C', dest, 'status', '--porcelain', '--untracked-files=no']);
  if (result.exitCode !== 0) return false;
  const lines = result.stdout.split('\n').filter((l) => l !== '');
  return lines.length > 0 && lines.every((l) => l.startsWith(' D '));
}

/** The running release: `freebsd-version -kru` (running kernel line), else `uname -r`. */
export async function hostRelease(host: Host): Promise<ReleaseVersion | undefined> {
  for (const argv of [
    ['freebsd-version', '-kru'],
    ['uname', '-r'],
  ]) {
    try {
      const result = await host.run(argv);
      if (result.exitCode !== 0) continue;
      const lines = result.stdout.split('\n').filter((l) => l.trim() !== '');
      // -kru prints installed kernel, running kernel, userland: prefer the running kernel.
      const ordered = lines.length >= 2 ? [lines[1] as string, ...lines] : lines;
      for (const line of ordered) {
        const release = parseReleaseString(line);
        if (release) return release;
      }
    } catch {
      // not FreeBSD, or not captured in a snapshot: try the next source
    }
  }
  return undefined;
}

/** Run `git -C dest ARGS` in a tree (dest a host path); a failure is a ToolError with git's message. */
export async function gitInTree(host: Host, dest: string, argv: string[]): Promise<string> {
  return gitOk(host, ['-C', dest, ...argv]);
}

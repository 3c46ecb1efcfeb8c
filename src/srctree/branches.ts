import { ParseError } from '../errors.js';
import { quoteArgv } from '../host/shell-quote.js';

/** Which tree to build bhyve from (docs/source-and-build.md, domain §2). */
export type SourceFlavor = 'upstream' | 'stable' | 'nvidia-wip';
export const SOURCE_FLAVORS: readonly SourceFlavor[] = ['upstream', 'stable', 'nvidia-wip'];

/** A FreeBSD release as `freebsd-version` / `uname -r` print it: 14.3-RELEASE-p4 -> {14, 3, RELEASE, 4}. */
export interface ReleaseVersion {
  major: number;
  minor: number;
  /** RELEASE, STABLE, CURRENT, BETA2, RC1, ALPHA3, PRERELEASE ... */
  branch: string;
  patch?: number;
}

export const DEFAULT_REPOSITORIES: Readonly<Record<SourceFlavor, string>> = {
  upstream: 'https://git.FreeBSD.org/src.git',
  stable: 'https://git.FreeBSD.org/src.git',
  'nvidia-wip': 'https://github.com/Beckhoff/freebsd-src.git',
};

/** One line of `git ls-remote --heads --tags`. */
export interface RemoteRef {
  sha: string;
  /** Full ref: refs/heads/releng/14.3. */
  ref: string;
  /** Short name: releng/14.3. */
  name: string;
  kind: 'branch' | 'tag';
  /** For an annotated tag: the commit it points at (from the `^{}` line). */
  peeled?: string;
}

export type BranchChoice =
  | { ok: true; branch: string; reason: string }
  | { ok: false; wanted: string; message: string; nearest: string[] };

const RELEASE_PATTERN = /^(\d+)\.(\d+)-([A-Z]+\d*)(?:-p(\d+))?/;

/** Parse `14.3-RELEASE-p4` (the first line of `freebsd-version -kru`, or `uname -r`); undefined when unknown. */
export function parseReleaseString(text: string): ReleaseVersion | undefined {
  const match = RELEASE_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const release: ReleaseVersion = {
    major: Number(match[1]),
    minor: Number(match[2]),
    branch: match[3] as string,
  };
  if (match[4] !== undefined) release.patch = Number(match[4]);
  return release;
}

/** `--release 15.0` (or 15.0-RELEASE): the version a user names on the command line. */
export function parseReleaseOption(text: string): ReleaseVersion | undefined {
  const plain = /^(\d+)\.(\d+)$/.exec(text.trim());
  if (plain) return { major: Number(plain[1]), minor: Number(plain[2]), branch: 'RELEASE' };
  return parseReleaseString(text);
}

export function formatRelease(release: ReleaseVersion): string {
  return `${release.major}.${release.minor}`;
}

/** Parse `git ls-remote --heads --tags <url>` output; peeled tag lines (`^{}`) are dropped. */
export function parseLsRemote(text: string): RemoteRef[] {
  const refs: RemoteRef[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const match = /^([0-9a-f]{40}(?:[0-9a-f]{24})?)\t(refs\/(heads|tags)\/(\S+))$/.exec(line);
    if (!match) {
      throw new ParseError(`not a git ls-remote line: ${JSON.stringify(line.slice(0, 80))}`, {
        file: 'git ls-remote',
        line: index + 1,
      });
    }
    const name = match[4] as string;
    if (name.endsWith('^{}')) {
      const tag = refs.find((r) => r.ref === (match[2] as string).slice(0, -3));
      if (tag) tag.peeled = match[1] as string;
      continue;
    }
    refs.push({
      sha: match[1] as string,
      ref: match[2] as string,
      name,
      kind: match[3] === 'heads' ? 'branch' : 'tag',
    });
  }
  return refs;
}

/** The branch name a flavor calls for on a release. */
export function wantedBranch(
  release: Pick<ReleaseVersion, 'major' | 'minor' | 'branch'>,
  flavor: SourceFlavor,
): string {
  const version = formatRelease(release);
  switch (flavor) {
    case 'upstream':
      return release.branch === 'CURRENT' ? 'main' : `releng/${version}`;
    case 'stable':
      return `stable/${release.major}`;
    case 'nvidia-wip':
      return `phab/corvink/${version}/nvidia-wip`;
  }
}

const REASONS: Record<SourceFlavor, string> = {
  upstream: 'the release engineering branch of the running release (handbook method)',
  stable: 'the stable branch of the running major version',
  'nvidia-wip': "Beckhoff's NVIDIA work-in-progress branch for this release (attested for 14.2 and 15.0)",
};

/** Pick the branch for a release and flavor from the branches a repository has. */
export function chooseBranch(
  release: Pick<ReleaseVersion, 'major' | 'minor' | 'branch'>,
  flavor: SourceFlavor,
  available: readonly string[],
): BranchChoice {
  const wanted = wantedBranch(release, flavor);
  if (available.includes(wanted)) {
    return { ok: true, branch: wanted, reason: `${wanted}: ${REASONS[flavor]}` };
  }
  const nearest = nearestBranches(wanted, available);
  const tail = nearest.length > 0 ? `nearest: ${nearest.join(', ')}` : 'no similar branch either';
  return {
    ok: false,
    wanted,
    nearest,
    message: `no ${flavor} branch matches ${formatRelease(release)}; ${tail} (looked for ${wanted})`,
  };
}

interface Versioned {
  name: string;
  major: number;
  minor: number;
}

/** Split a branch name into its shape (version replaced) and version: releng/14.3 -> releng/#, 14, 3. */
function versionOf(name: string): { shape: string; major: number; minor: number } | undefined {
  const match = /(^|\/)(\d+)(?:\.(\d+))?(\/|$)/.exec(name);
  if (!match) return undefined;
  const start = match.index + (match[1] as string).length;
  const end = start + (match[2] as string).length + (match[3] === undefined ? 0 : match[3].length + 1);
  return {
    shape: `${name.slice(0, start)}#${match[3] === undefined ? '' : '.#'}${name.slice(end)}`,
    major: Number(match[2]),
    minor: match[3] === undefined ? 0 : Number(match[3]),
  };
}

/**
 * Branches of the same shape as `wanted` (releng/X.Y, stable/X, phab/corvink/X.Y/nvidia-wip), closest version
 * first: same major before other majors, an older minor before a newer one at equal distance. At most three.
 */
export function nearestBranches(wanted: string, available: readonly string[]): string[] {
  const target = versionOf(wanted);
  if (!target) return [];
  const candidates: Versioned[] = [];
  for (const name of available) {
    const version = versionOf(name);
    if (version && version.shape === target.shape && name !== wanted) candidates.push({ name, ...version });
  }
  const distance = (c: Versioned): number =>
    Math.abs(c.major - target.major) * 1000 +
    Math.abs(c.minor - target.minor) * 2 +
    (c.major * 1000 + c.minor > target.major * 1000 + target.minor ? 1 : 0);
  return candidates
    .sort((a, b) => distance(a) - distance(b) || a.name.localeCompare(b.name))
    .slice(0, 3)
    .map((c) => c.name);
}

/**
 * Beckhoff nvidia-wip branches attested in public sources (a build guide that checks out the 14.2 branch, a
 * patch set taken from the 15.0 branch). No other release is known to have one: the name for another release
 * is the pattern's guess until `git ls-remote` shows it.
 */
export const KNOWN_NVIDIA_WIP_BRANCHES: readonly string[] = [
  'phab/corvink/14.2/nvidia-wip',
  'phab/corvink/15.0/nvidia-wip',
];

/** What is known, before any fetch, about a branch a flavor proposes. */
export interface BranchKnowledge {
  branch: string;
  /** true: attested to exist; false: a guess from the naming pattern; undefined: a branch every release has. */
  known: boolean | undefined;
  /** The branches of this shape that are known to exist (nvidia-wip only). */
  knownBranches: string[];
  /** One line for the user; absent when there is nothing to say. */
  message?: string;
  /** How to check a guessed branch without fetching anything. */
  check?: string[];
}

export function branchKnowledge(branch: string, flavor: SourceFlavor, repo: string): BranchKnowledge {
  if (flavor !== 'nvidia-wip') return { branch, known: undefined, knownBranches: [] };
  const knownBranches = [...KNOWN_NVIDIA_WIP_BRANCHES];
  const check = ['git', 'ls-remote', '--heads', repo, 'phab/corvink/*'];
  if (knownBranches.includes(branch))
    return {
      branch,
      known: true,
      knownBranches,
      message: `${branch} is known to exist (Beckhoff publishes nvidia-wip branches for ${knownBranches.map(releaseOfBranch).join(' and ')} only)`,
      check,
    };
  return {
    branch,
    known: false,
    knownBranches,
    message: `${branch} is a guess from the naming pattern: Beckhoff nvidia-wip branches are known only for ${knownBranches.map(releaseOfBranch).join(' and ')} (${knownBranches.join(', ')}); check which exist with: ${quoteArgv(check)}`,
    check,
  };
}

function releaseOfBranch(name: string): string {
  return /\/(\d+\.\d+)\//.exec(name)?.[1] ?? name;
}

/** `freebsd-version -kru` and `uname -a` / `uname -r` output -> typed versions. */
import type { FreebsdBranch, FreebsdRelease, FreebsdVersion, UnameInfo } from './types.js';

const RELEASE = /^(\d+)\.(\d+)-(RELEASE|STABLE|CURRENT|PRERELEASE|RC|BETA|ALPHA)(\d+)?(?:-p(\d+))?$/;

/** "14.3-RELEASE-p4" -> {major 14, minor 3, branch RELEASE, patch 4}; undefined for anything else. */
export function parseRelease(text: string): FreebsdRelease | undefined {
  const t = text.trim();
  const m = RELEASE.exec(t);
  if (!m) return undefined;
  const release: FreebsdRelease = {
    major: Number(m[1]),
    minor: Number(m[2]),
    branch: m[3] as FreebsdBranch,
    text: t,
  };
  if (m[4] !== undefined) release.candidate = Number(m[4]);
  if (m[5] !== undefined) release.patch = Number(m[5]);
  return release;
}

/**
 * `freebsd-version` prints the installed kernel (-k), running kernel (-r) and userland (-u), one per line,
 * always in that order whatever order the flags were given in. `flags` says which were asked for
 * (default "kru"); lines that are not a release string (prompts, other output) are skipped.
 */
export function parseFreebsdVersion(text: string, flags = 'kru'): FreebsdVersion {
  const wanted = (['k', 'r', 'u'] as const).filter((f) => flags.includes(f));
  const releases: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (parseRelease(t)) releases.push(t);
    if (releases.length === wanted.length) break;
  }
  const result: FreebsdVersion = {};
  wanted.forEach((flag, i) => {
    const value = releases[i];
    if (value === undefined) return;
    if (flag === 'k') result.installedKernel = value;
    else if (flag === 'r') result.runningKernel = value;
    else result.userland = value;
  });
  const main = result.runningKernel ?? result.userland ?? result.installedKernel;
  const release = main === undefined ? undefined : parseRelease(main);
  if (release) result.release = release;
  return result;
}

const MACHINES = new Set([
  'amd64',
  'i386',
  'arm64',
  'aarch64',
  'arm',
  'armv6',
  'armv7',
  'powerpc',
  'powerpc64',
  'powerpc64le',
  'riscv',
  'riscv64',
]);

/**
 * `uname -a` ("FreeBSD host 14.3-RELEASE FreeBSD 14.3-RELEASE releng/14.3-n271432-8c9ce319fef7 GENERIC amd64")
 * or `uname -r` ("14.3-RELEASE"). The line may sit among other text or inside backticks.
 * Undefined when no release string is found.
 */
export function parseUname(text: string): UnameInfo | undefined {
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/`/g, ' ').trim();
    const full = /(?:^|\s)(FreeBSD)\s+(\S+)\s+(\d+\.\d+-[A-Z]+\d*(?:-p\d+)?)(?:\s+(.*))?$/.exec(line);
    if (full && parseRelease(full[3]!)) return describe(full[3]!, full[1], full[2], full[4]);
  }
  for (const rawLine of text.split(/\r?\n/)) {
    const t = rawLine.replace(/`/g, ' ').trim();
    if (parseRelease(t)) return describe(t, undefined, undefined, undefined);
  }
  return undefined;
}

function describe(
  release: string,
  sysname: string | undefined,
  hostname: string | undefined,
  tail: string | undefined,
): UnameInfo {
  const info: UnameInfo = { release };
  if (sysname !== undefined) info.sysname = sysname;
  if (hostname !== undefined) info.hostname = hostname;
  const parsed = parseRelease(release);
  if (parsed) info.parsedRelease = parsed;
  if (tail === undefined) return info;
  const words = tail.trim().split(/\s+/);
  const last = words[words.length - 1];
  if (last !== undefined && MACHINES.has(last)) {
    info.machine = last;
    words.pop();
  }
  if (words.length > 0) info.version = words.join(' ');
  // 13+: "FreeBSD 14.3-RELEASE releng/14.3-n271432-8c9ce319fef7 GENERIC"; older: "... root@h:/usr/obj/usr/src/sys/GENERIC".
  const config = words[words.length - 1];
  if (config !== undefined && words.length >= 2) {
    const name = config.includes('/') ? config.slice(config.lastIndexOf('/') + 1) : config;
    if (/^[A-Z][A-Z0-9_-]*$/.test(name)) info.kernelConfig = name;
  }
  const branch = /\b((?:releng|stable|main)(?:\/[\d.]+)?)-n\d+/.exec(tail);
  if (branch) info.sourceBranch = branch[1]!;
  return info;
}

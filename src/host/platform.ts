import type { Host } from './types.js';

/** Which system a host is, and the line that says so. */
export interface Platform {
  os: 'freebsd' | 'linux' | 'unknown';
  evidence: string;
}

const FREEBSD_RELEASE = /^\d+\.\d+-(RELEASE|STABLE|CURRENT|BETA\d*|RC\d*|ALPHA\d*|PRERELEASE)\b/;

async function stdoutOf(host: Host, argv: string[]): Promise<string | undefined> {
  try {
    const r = await host.run(argv);
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tell a FreeBSD host from a Linux machine (a guest, or a guest snapshot from scripts/capture-guest.sh),
 * from `uname -s`/`uname -a`/`uname -r` and Linux's sysfs PCI tree. Only what was seen decides; otherwise
 * 'unknown'.
 */
export async function detectPlatform(host: Host): Promise<Platform> {
  const unameA = await stdoutOf(host, ['uname', '-a']);
  const sys = unameA?.split(/\s+/)[0] ?? (await stdoutOf(host, ['uname', '-s']));
  if (sys === 'FreeBSD') return { os: 'freebsd', evidence: `uname: ${unameA ?? sys}` };
  if (sys === 'Linux') return { os: 'linux', evidence: `uname: ${unameA ?? sys}` };
  const release = await stdoutOf(host, ['uname', '-r']);
  if (release !== undefined && FREEBSD_RELEASE.test(release))
    return { os: 'freebsd', evidence: `uname -r: ${release}` };
  const sysfs = await host.listDir('/sys/bus/pci/devices').catch(() => [] as string[]);
  if (sysfs.length > 0)
    return {
      os: 'linux',
      evidence: `/sys/bus/pci/devices (Linux sysfs) lists ${sysfs.length} PCI functions${release ? `; uname -r: ${release}` : ''}`,
    };
  const version = await stdoutOf(host, ['freebsd-version', '-kru']);
  if (version !== undefined) return { os: 'freebsd', evidence: `freebsd-version: ${version.split('\n')[0]}` };
  if (release !== undefined && sys !== undefined)
    return { os: 'unknown', evidence: `uname: ${sys} ${release}` };
  return { os: 'unknown', evidence: 'uname not available' };
}

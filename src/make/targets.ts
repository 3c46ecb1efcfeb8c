/**
 * Which parts of the tree to rebuild for a set of changed files (domain §1 step 4, §2 decision rule):
 *   - only usr.sbin/bhyve (or bhyvectl, bhyveload) changed: rebuild just those;
 *   - anything under sys/ or lib/libvmmapi changed: lib/libvmmapi, sys/modules/vmm, then bhyve, bhyvectl and
 *     bhyveload, because they share the vmm ioctl interface and must come from one tree;
 *   - a header under sys/ (or anything under include/) changed: `include` first, since a plain `make` in
 *     usr.sbin/bhyve compiles against the installed /usr/include (sys/dev/pci/pcireg.h ->
 *     /usr/include/dev/pci/pcireg.h). A .c file under sys/ only reaches vmm.ko and needs no header install;
 *   - the kernel only when asked (`--kernel`), `make buildkernel KERNCONF=GENERIC` from the top of the tree.
 */
export interface BuildStep {
  /** Short name: bhyve, vmm.ko, kernel ... */
  name: string;
  /** Directory relative to the source root ('.' for the top). */
  dir: string;
  argv: string[];
  /** Files (or directories) `make install` of this step puts on the host. */
  installs: string[];
  /** Why the step is in the set. */
  reason: string;
}

export interface RebuildOptions {
  kernel?: boolean;
  kernconf?: string;
  /** make -j value (default 1). */
  jobs?: number;
  /** SHLIB_MAJOR of lib/libvmmapi when known (the installed name is libvmmapi.so.N). */
  libvmmapiMajor?: number;
}

type Target = 'include' | 'libvmmapi' | 'vmm' | 'kernel' | 'bhyve' | 'bhyvectl' | 'bhyveload';
const ORDER: readonly Target[] = ['include', 'libvmmapi', 'vmm', 'kernel', 'bhyve', 'bhyvectl', 'bhyveload'];

const DIRS: Record<Target, string> = {
  include: 'include',
  libvmmapi: 'lib/libvmmapi',
  vmm: 'sys/modules/vmm',
  kernel: '.',
  bhyve: 'usr.sbin/bhyve',
  bhyvectl: 'usr.sbin/bhyvectl',
  bhyveload: 'usr.sbin/bhyveload',
};

const NAMES: Record<Target, string> = {
  include: 'include',
  libvmmapi: 'libvmmapi',
  vmm: 'vmm.ko',
  kernel: 'kernel',
  bhyve: 'bhyve',
  bhyvectl: 'bhyvectl',
  bhyveload: 'bhyveload',
};

function normalise(path: string): string {
  return path.replace(/^\.?\/+/, '').replace(/^usr\/src\//, '');
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

function installsOf(target: Target, options: RebuildOptions): string[] {
  switch (target) {
    case 'include':
      return ['/usr/include'];
    case 'libvmmapi': {
      const shared =
        options.libvmmapiMajor === undefined
          ? '/usr/lib/libvmmapi.so'
          : `/usr/lib/libvmmapi.so.${options.libvmmapiMajor}`;
      return [shared, '/usr/lib/libvmmapi.a', '/usr/include/vmmapi.h'];
    }
    case 'vmm':
      return ['/boot/kernel/vmm.ko'];
    case 'kernel':
      return ['/boot/kernel/kernel'];
    default:
      return [`/usr/sbin/${target}`];
  }
}

function argvOf(target: Target, options: RebuildOptions): string[] {
  const argv = ['make', `-j${Math.max(1, Math.floor(options.jobs ?? 1))}`];
  if (target === 'kernel') argv.push('buildkernel', `KERNCONF=${options.kernconf ?? 'GENERIC'}`);
  return argv;
}

/** Ordered build steps for the changed files (paths relative to the source root). */
export function rebuildSet(changedFiles: readonly string[], options: RebuildOptions = {}): BuildStep[] {
  const reasons = new Map<Target, string>();
  const add = (target: Target, reason: string): void => {
    if (!reasons.has(target)) reasons.set(target, reason);
  };
  for (const raw of changedFiles) {
    const path = normalise(raw);
    if (under(path, 'sys') || under(path, 'lib/libvmmapi')) {
      for (const target of ['libvmmapi', 'vmm', 'bhyve', 'bhyvectl', 'bhyveload'] as const) {
        add(target, `${path} changed (vmm interface: rebuild the set together)`);
      }
      if (under(path, 'sys') && path.endsWith('.h'))
        add('include', `${path} is a header installed under /usr/include`);
    } else if (under(path, 'include')) {
      add('include', `${path} changed`);
    }
    for (const target of ['bhyve', 'bhyvectl', 'bhyveload'] as const) {
      if (under(path, DIRS[target])) add(target, `${path} changed`);
    }
  }
  if (options.kernel === true) add('kernel', `--kernel (KERNCONF=${options.kernconf ?? 'GENERIC'})`);
  return ORDER.filter((t) => reasons.has(t)).map((target) => ({
    name: NAMES[target],
    dir: DIRS[target],
    argv: argvOf(target, options),
    installs: installsOf(target, options),
    reason: reasons.get(target) as string,
  }));
}

/** `SHLIB_MAJOR= 6` from lib/libvmmapi/Makefile text; undefined when the Makefile does not set it. */
export function parseShlibMajor(makefile: string): number | undefined {
  const match = /^SHLIB_MAJOR\s*[?:]?=\s*(\d+)\s*$/m.exec(makefile);
  return match ? Number(match[1]) : undefined;
}

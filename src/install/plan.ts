import { posix } from 'node:path';
import { ToolError } from '../errors.js';
import { commandPath, fromCommandPath } from '../host/rooted.js';
import type { Host } from '../host/types.js';
import { INSTALL_MANIFEST, STATE_DIR } from '../inventory/probes.js';
import type { InstallManifest } from '../inventory/types.js';
import { type BuildRecord, readBuildRecord } from '../make/plan.js';
import { readPatchRecord } from '../patch/run.js';
import { sha256 } from '../plan/journal.js';
import { type CommandStep, type FileInstall, makeFileEdit, type Plan } from '../plan/types.js';
import { RECORD_DIR } from '../srctree/git.js';

async function readJson<T>(host: Host, path: string): Promise<T | undefined> {
  if (!(await host.exists(path))) return undefined;
  try {
    return JSON.parse(await host.readFile(path)) as T;
  } catch (e) {
    throw new ToolError('bad-record', `${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Where bmake puts a directory's build output (`make -C dir -V .OBJDIR`). */
async function objdir(host: Host, dir: string): Promise<string> {
  const r = await host.run(['make', '-C', commandPath(host, dir), '-V', '.OBJDIR']);
  const printed = r.stdout.trim().split('\n').pop()?.trim();
  const out = printed === undefined ? undefined : fromCommandPath(host, printed);
  if (r.exitCode !== 0 || !out?.startsWith('/'))
    throw new ToolError(
      'objdir',
      `cannot find the build output of ${dir} (make -V .OBJDIR: ${r.stderr.trim() || `exit ${r.exitCode}`})`,
      {
        hint: 'run bhyve-gpu build --src DIR first, on this host',
      },
    );
  return out;
}

/** Artifacts of one build step: [built file, installed path, mode]. */
async function artifacts(
  host: Host,
  src: string,
  step: BuildRecord['steps'][number],
): Promise<[string, string, number][]> {
  const dir = posix.join(src, step.dir);
  switch (step.name) {
    case 'bhyve':
    case 'bhyvectl':
    case 'bhyveload':
      return [[posix.join(await objdir(host, dir), step.name), `/usr/sbin/${step.name}`, 0o555]];
    case 'vmm.ko':
      return [[posix.join(await objdir(host, dir), 'vmm.ko'), '/boot/kernel/vmm.ko', 0o555]];
    case 'libvmmapi': {
      const obj = await objdir(host, dir);
      const lib = step.installs.find((p) => p.startsWith('/usr/lib/libvmmapi.so')) ?? '/usr/lib/libvmmapi.so';
      return [
        [posix.join(obj, posix.basename(lib)), lib, 0o444],
        [posix.join(obj, 'libvmmapi.a'), '/usr/lib/libvmmapi.a', 0o444],
        [posix.join(dir, 'vmmapi.h'), '/usr/include/vmmapi.h', 0o444],
      ];
    }
    default:
      return [];
  }
}

export interface InstallPlan {
  plan: Plan;
  manifest: InstallManifest;
  /** What the user must do afterwards. */
  after: string[];
}

/**
 * The journaled install: copy every built file over the base system (each replaced file backed up in the
 * journal entry), run `make install` where a whole tree is installed (headers, kernel), and write the
 * install manifest that scan/doctor compare with the running system.
 */
export async function planInstall(host: Host, src: string, now = new Date()): Promise<InstallPlan> {
  const record = await readBuildRecord(host, src);
  if (!record)
    throw new ToolError('not-built', `no build record in ${src}/${RECORD_DIR}/`, {
      hint: `run bhyve-gpu build --src ${src} first`,
    });
  const patch = await readPatchRecord(host, src);
  const pin = await readJson<{ repo?: string; branch?: string; commit?: string }>(
    host,
    posix.join(src, RECORD_DIR, 'source.json'),
  );
  const plan: Plan = { title: `install the bhyve built in ${src}`, steps: [], notes: [] };
  const files: InstallManifest['files'] = [];
  const after: string[] = [];
  for (const step of record.steps) {
    if (step.name === 'include') {
      plan.steps.push({
        kind: 'command',
        argv: ['make', '-C', posix.join(src, 'include'), 'install'],
        reason: 'install the changed headers under /usr/include',
      } satisfies CommandStep);
      plan.notes.push(
        'headers installed by make install are not backed up (rollback does not restore /usr/include)',
      );
      continue;
    }
    if (step.name === 'kernel') {
      const kernconf = step.argv.find((a) => a.startsWith('KERNCONF=')) ?? 'KERNCONF=GENERIC';
      plan.steps.push({
        kind: 'command',
        argv: ['make', '-C', src, 'installkernel', kernconf],
        reason: 'install the kernel (the old one moves to /boot/kernel.old)',
      });
      after.push('reboot: a new kernel was installed (the previous one is in /boot/kernel.old)');
      continue;
    }
    for (const [from, path, mode] of await artifacts(host, src, step)) {
      let bytes: Uint8Array;
      try {
        bytes = await host.readBytes(from);
      } catch {
        throw new ToolError('not-built', `${from} is missing: the ${step.name} build output`, {
          hint: `run bhyve-gpu build --src ${src} again`,
        });
      }
      files.push({ path, sha256: sha256(bytes) });
      const installed = await host.readBytes(path).catch(() => undefined);
      if (installed && sha256(installed) === sha256(bytes)) continue; // already this build's file
      plan.steps.push({
        kind: 'file-install',
        path,
        from,
        mode,
        reason: `${step.name} built from ${src}`,
      } satisfies FileInstall);
    }
    if (step.name === 'vmm.ko')
      after.push(
        'vmm.ko replaced: the running kernel keeps the old vmm.ko until it is reloaded: reboot (simplest: pptdevs are claimed again only at boot), or stop every guest and run kldunload vmm && kldload vmm',
      );
  }
  if (files.length === 0 && plan.steps.length === 0)
    throw new ToolError('nothing-to-install', `the build record in ${src} lists nothing to install`);
  if (files.some((f) => f.path === '/usr/sbin/bhyve'))
    after.push('restart each guest (vm restart NAME) to run the new bhyve');
  const manifest: InstallManifest = {
    format: 'bhyve-gpu-install',
    version: 1,
    installedAt: now.toISOString(),
    source: {
      ...(pin?.repo ? { repo: pin.repo } : {}),
      ...(pin?.branch ? { branch: pin.branch } : {}),
      ...((pin?.commit ?? record.commit) ? { commit: pin?.commit ?? record.commit } : {}),
    },
    patches: patch
      ? [{ name: patch.patch === 'intpin' ? 'intpin-quirk' : patch.patch, sha256: patch.patchSha256 }]
      : [],
    files,
  };
  // The quirk words the build carries (issue 10): the patch record's list, or INTPIN for an older record.
  const quirks = patch?.quirks ?? (patch?.patch === 'intpin' ? ['intpin'] : undefined);
  if (quirks !== undefined) manifest.quirks = quirks;
  if (quirks?.includes('hide-hypervisor'))
    after.push(
      'hide the hypervisor from a guest (Windows Code 43): sysctl hw.vmm.hide_hypervisor=1 now, or hw.vmm.hide_hypervisor="1" in /boot/loader.conf; 0 (the default) shows it',
    );
  const mmio64 = quirks?.find((q) => q.startsWith('mmio64='));
  if (mmio64 !== undefined)
    after.push(
      `bhyve's 64-bit PCI window is now ${mmio64.slice('mmio64='.length)} by default; per guest: bhyve_options="-o pci.mmio64_size=SIZE" (bhyve-gpu attach sets it when the GPU needs it)`,
    );
  const version = await host.run(['freebsd-version', '-kru']).catch(() => undefined);
  const userland = version?.exitCode === 0 ? version.stdout.trim().split('\n')[2]?.trim() : undefined;
  if (userland) manifest.userland = userland;
  const before = (await host.exists(INSTALL_MANIFEST)) ? await host.readFile(INSTALL_MANIFEST) : undefined;
  // Installing the same build again changes nothing: keep the manifest (and its date) as it is.
  if (before === undefined || !sameInstall(before, manifest))
    plan.steps.push(
      makeFileEdit(
        INSTALL_MANIFEST,
        before,
        `${JSON.stringify(manifest, null, 2)}\n`,
        'record what was installed (scan and doctor compare it with the system)',
      ),
    );
  await host.mkdir(STATE_DIR);
  return { plan, manifest, after };
}

/** The manifest on disk records this very install (files, patches, source), whatever its date. */
function sameInstall(text: string, next: InstallManifest): boolean {
  try {
    const old = JSON.parse(text) as InstallManifest;
    const key = (m: InstallManifest) => JSON.stringify([m.files, m.patches, m.source, m.quirks]);
    return key(old) === key(next);
  } catch {
    return false;
  }
}

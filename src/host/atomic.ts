import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The file-system calls an atomic write makes; tests pass their own to inject faults. */
export interface AtomicFs {
  open(path: string, flags: string, mode: number): Promise<fsp.FileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  stat(path: string): Promise<{ mode: number; uid: number; gid: number }>;
  chown(path: string, uid: number, gid: number): Promise<void>;
}

export const realFs: AtomicFs = {
  open: (p, f, m) => fsp.open(p, f, m),
  rename: (a, b) => fsp.rename(a, b),
  unlink: (p) => fsp.unlink(p),
  stat: (p) => fsp.stat(p),
  chown: (p, u, g) => fsp.chown(p, u, g),
};

/** The temp file an atomic write of `path` uses: `.<name>.bhyve-gpu.<8 hex>.tmp` beside it. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.bhyve-gpu.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * The temp file of a create-if-absent (the lock): written before the lock is held, so it carries its
 * writer's pid (`.<name>.bhyve-gpu.p<pid>-<4 hex>.tmp`) and recovery removes it only when that process is gone.
 */
export function exclusiveTempPathFor(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.bhyve-gpu.p${process.pid}-${randomBytes(2).toString('hex')}.tmp`,
  );
}

/** Whether `name` is the temp file of an atomic write of a file called `target` (in the same directory). */
export function isTempOf(name: string, target: string): boolean {
  return (
    name.startsWith(`.${target}.bhyve-gpu.`) &&
    /^\.bhyve-gpu\.(?:[0-9a-f]{8}|p\d+-[0-9a-f]{4})\.tmp$/.test(name.slice(target.length + 1))
  );
}

/** The pid in a create-if-absent temp file's name, when it has one. */
export function tempOwnerPid(name: string): number | undefined {
  const m = /\.bhyve-gpu\.p(\d+)-[0-9a-f]{4}\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Write a file so that a reader sees either the old content or the new, never a mix: write a temp file in
 * the same directory, fsync it, rename it over the target, fsync the directory. The target's mode and
 * owner are kept; a new file gets `mode` (default 0644). On any failure the temp file is removed.
 */
export async function atomicWrite(
  path: string,
  content: string | Uint8Array,
  options: { mode?: number } = {},
  fs: AtomicFs = realFs,
): Promise<void> {
  let mode = options.mode ?? 0o644;
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = await fs.stat(path);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const tmp = tempPathFor(path);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'wx', mode);
    await handle.writeFile(content);
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (owner && (process.getuid?.() ?? -1) === 0) await fs.chown(tmp, owner.uid, owner.gid);
    await fs.rename(tmp, path);
  } catch (e) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(dir, 'r');
    await h.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await h?.close().catch(() => undefined);
  }
}

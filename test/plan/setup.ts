import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AtomicFs } from '../../src/host/atomic.js';
import { LocalHost } from '../../src/host/local.js';
import { RootedHost } from '../../src/host/rooted.js';

/** A temp directory standing for a host's `/`, with a RootedHost over it. */
export interface Root {
  dir: string;
  host: RootedHost;
  /** The real path of an absolute host path. */
  real(path: string): string;
  write(path: string, content: string | Uint8Array, mode?: number): void;
  read(path: string): Buffer | undefined;
  mode(path: string): number | undefined;
}

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function makeRoot(fs?: AtomicFs): Root {
  const dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-plan-'));
  made.push(dir);
  const real = (path: string) => join(dir, path);
  return {
    dir,
    host: hostOver(dir, fs),
    real,
    write(path, content, mode = 0o644) {
      mkdirSync(dirname(real(path)), { recursive: true });
      writeFileSync(real(path), content);
      chmodSync(real(path), mode);
    },
    read(path) {
      try {
        return readFileSync(real(path));
      } catch {
        return undefined;
      }
    },
    mode(path) {
      try {
        return statSync(real(path)).mode & 0o7777;
      } catch {
        return undefined;
      }
    },
  };
}

export function hostOver(dir: string, fs?: AtomicFs): RootedHost {
  const files = fs ? new LocalHost({ fs }) : new LocalHost();
  return new RootedHost(new LocalHost(), files, dir);
}

/** Every file under dir (relative paths), to look for left-over temp files. */
export function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out.sort();
}

export const JOURNAL = '/var/db/bhyve-gpu/journal';

import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { CommandNotFoundError, FileMissingError, ToolError } from '../errors.js';
import { type AtomicFs, atomicWrite, exclusiveTempPathFor, realFs } from './atomic.js';
import type { FileStat, Host, RunOptions, RunResult, WriteOptions } from './types.js';

/** Run argv (never through a shell) and collect its output. Shared by LocalHost and SshHost. */
export function spawnCollect(
  argv: readonly string[],
  options: RunOptions,
  hostName: string,
): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new ToolError('internal', 'run: empty argv'));
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 2000).unref();
          }, options.timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      options.onOutput?.(b.toString('utf8'), 'stdout');
    });
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      options.onOutput?.(b.toString('utf8'), 'stderr');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new CommandNotFoundError(cmd, hostName));
      else reject(new ToolError('run-failed', `${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        exitCode: timedOut ? 124 : (code ?? (signal ? 128 + 15 : 1)),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Math.round(performance.now() - started),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

function toStat(s: import('node:fs').Stats): FileStat {
  return {
    size: s.size,
    mode: s.mode & 0o7777,
    mtimeMs: s.mtimeMs,
    isFile: s.isFile(),
    isDirectory: s.isDirectory(),
    isSymbolicLink: s.isSymbolicLink(),
  };
}

/** The machine bhyve-gpu runs on. */
export class LocalHost implements Host {
  readonly kind = 'local' as const;
  readonly description = 'local';
  private readonly fs: AtomicFs;

  /** `fs`: the calls atomic writes make (tests inject faults through it). */
  constructor(options: { fs?: AtomicFs } = {}) {
    this.fs = options.fs ?? realFs;
  }

  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return spawnCollect(argv, options, 'this host');
  }

  async readFile(path: string): Promise<string> {
    return Buffer.from(await this.readBytes(path)).toString('utf8');
  }

  async readBytes(path: string): Promise<Uint8Array> {
    try {
      return await fsp.readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileMissingError(path, 'this host');
      throw new ToolError('read-failed', `${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  writeFile(path: string, content: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    return atomicWrite(path, content, options, this.fs);
  }

  /**
   * Create `path` with `content` only if nothing is there, never leaving it empty or half written: the
   * content goes to a temp file (same name pattern as atomicWrite's), which is hard-linked to `path`
   * (link fails with EEXIST when the path exists) and then removed.
   */
  async createExclusive(path: string, content: string): Promise<boolean> {
    const tmp = exclusiveTempPathFor(path);
    let handle: Awaited<ReturnType<AtomicFs['open']>>;
    try {
      handle = await this.fs.open(tmp, 'wx', 0o644);
    } catch (e) {
      throw new ToolError('write-failed', `${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.link(tmp, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new ToolError('write-failed', `${path}: ${(e as Error).message}`, { cause: e });
    } finally {
      await this.fs.unlink(tmp).catch(() => undefined);
    }
  }

  async removeFile(path: string): Promise<void> {
    await fsp.rm(path, { force: true });
  }

  async mkdir(path: string): Promise<void> {
    await fsp.mkdir(path, { recursive: true });
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      return toStat(await fsp.stat(path));
    } catch {
      return undefined;
    }
  }

  async exists(path: string): Promise<boolean> {
    return (await this.stat(path)) !== undefined;
  }

  async listDir(path: string): Promise<string[]> {
    try {
      return (await fsp.readdir(path)).sort();
    } catch {
      return [];
    }
  }

  async readLink(path: string): Promise<string | undefined> {
    try {
      return await fsp.readlink(path);
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {}
}

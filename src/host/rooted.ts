import { dirname, join } from 'node:path';
import { FileMissingError, NotCapturedError } from '../errors.js';
import type { FileStat, Host, RunOptions, RunResult, WriteOptions } from './types.js';

/**
 * `--root DIR`: every absolute path a file operation names is taken under DIR; commands still run on the
 * inner host. Used by tests (a snapshot's commands with a real file tree) and for preparing an image.
 * Over a snapshot (`fallback`), a file that is not under DIR is read from the snapshot: DIR overlays it,
 * and every write goes to DIR.
 */
export class RootedHost implements Host {
  readonly kind;
  readonly description: string;

  constructor(
    private readonly commands: Host,
    private readonly files: Host,
    readonly root: string,
    private readonly fallback?: Host,
  ) {
    this.kind = commands.kind;
    this.description = `${commands.description} (files under ${root})`;
  }

  private p(path: string): string {
    return join(this.root, path);
  }

  run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.commands.run(argv, options);
  }
  /**
   * Read from DIR when the path is there, else from the snapshot. DIR is authoritative: what the snapshot
   * did not capture counts as absent (`absent()`), not as unknown.
   */
  private async overlay<T>(
    path: string,
    own: () => Promise<T>,
    other: (h: Host) => Promise<T>,
    absent: () => T = () => {
      throw new FileMissingError(path, this.description);
    },
  ): Promise<T> {
    if (!this.fallback || (await this.files.exists(this.p(path)))) return own();
    try {
      return await other(this.fallback);
    } catch (e) {
      if (e instanceof NotCapturedError) return absent();
      throw e;
    }
  }
  readFile(path: string): Promise<string> {
    return this.overlay(
      path,
      () => this.files.readFile(this.p(path)),
      (h) => h.readFile(path),
    );
  }
  readBytes(path: string): Promise<Uint8Array> {
    return this.overlay(
      path,
      () => this.files.readBytes(this.p(path)),
      (h) => h.readBytes(path),
    );
  }
  async writeFile(path: string, content: string | Uint8Array, options?: WriteOptions): Promise<void> {
    // DIR is a staging tree: a file that only the snapshot had gets its directory created here.
    await this.files.mkdir(dirname(this.p(path)));
    return this.files.writeFile(this.p(path), content, options);
  }
  removeFile(path: string): Promise<void> {
    return this.files.removeFile(this.p(path));
  }
  mkdir(path: string): Promise<void> {
    return this.files.mkdir(this.p(path));
  }
  stat(path: string): Promise<FileStat | undefined> {
    return this.overlay(
      path,
      () => this.files.stat(this.p(path)),
      (h) => h.stat(path),
      () => undefined,
    );
  }
  async exists(path: string): Promise<boolean> {
    return (await this.stat(path)) !== undefined;
  }
  async listDir(path: string): Promise<string[]> {
    const own = await this.files.listDir(this.p(path));
    if (!this.fallback) return own;
    const other = await this.fallback.listDir(path).catch(() => [] as string[]);
    return [...new Set([...own, ...other])].sort();
  }
  readLink(path: string): Promise<string | undefined> {
    return this.overlay(
      path,
      () => this.files.readLink(this.p(path)),
      (h) => h.readLink(path),
      () => undefined,
    );
  }
  runBatch(argvs: readonly (readonly string[])[]): Promise<RunResult[]> {
    if (this.commands.runBatch) return this.commands.runBatch(argvs);
    return Promise.all(argvs.map((a) => this.commands.run(a)));
  }
  async createExclusive(path: string, content: string): Promise<boolean> {
    if (this.files.createExclusive) return this.files.createExclusive(this.p(path), content);
    if (await this.files.exists(this.p(path))) return false;
    await this.files.writeFile(this.p(path), content);
    return true;
  }
  async close(): Promise<void> {
    await this.commands.close();
  }
}

/**
 * The path a command run on `host` must be given for the host path `path`. Under `--root DIR` over the
 * local machine, commands (git, make) run here and see the root's tree at DIR/path; over a snapshot the
 * commands are replayed as recorded, and elsewhere paths are the host's own.
 */
export function commandPath(host: Host, path: string): string {
  if (host instanceof RootedHost && host.kind === 'local' && path.startsWith('/'))
    return join(host.root, path);
  return path;
}

/** The reverse of {@link commandPath}: a path a local command printed, as a path under `--root`. */
export function fromCommandPath(host: Host, path: string): string {
  if (!(host instanceof RootedHost) || host.kind !== 'local') return path;
  const root = host.root.replace(/\/+$/, '');
  if (path === root) return '/';
  return path.startsWith(`${root}/`) ? path.slice(root.length) : path;
}

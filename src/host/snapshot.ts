import { readFileSync } from 'node:fs';
import { FileMissingError, NotCapturedError, ToolError } from '../errors.js';
import { parseSnapshot, type Snapshot, type SnapshotFile } from './snapshot-format.js';
import type { FileStat, Host, RunOptions, RunResult } from './types.js';

const argvKey = (argv: readonly string[]): string => JSON.stringify(argv);

/**
 * Replays a recorded host. Commands match by exact argv; a command or file the snapshot does not hold
 * throws NotCapturedError, so the checks that need it report "unknown". Writes go to an in-memory overlay
 * (a snapshot is never modified), which lets a plan be computed and shown against it.
 */
export class SnapshotHost implements Host {
  readonly kind = 'snapshot' as const;
  readonly description: string;
  readonly snapshot: Snapshot;
  private readonly commands = new Map<string, Snapshot['commands'][number]>();
  private readonly files = new Map<string, SnapshotFile>();
  private readonly missing: Set<string>;
  /** Every argv run against this host, in order (benchmarks count them). */
  readonly runLog: string[][] = [];

  constructor(snapshot: Snapshot, source = 'snapshot') {
    this.snapshot = snapshot;
    this.description = `snapshot ${source}`;
    for (const c of snapshot.commands) this.commands.set(argvKey(c.argv), c);
    for (const [p, f] of Object.entries(snapshot.files)) this.files.set(p, f);
    this.missing = new Set(snapshot.missing);
  }

  static load(path: string): SnapshotHost {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ToolError('snapshot-unreadable', `${path}: ${(e as Error).message}`, {
        hint: 'pass --host local, ssh://host or the path of a snapshot written by `bhyve-gpu snapshot`',
        exitCode: 2,
      });
    }
    try {
      return new SnapshotHost(parseSnapshot(text, path), path);
    } catch (e) {
      // One rule for --host input the tool cannot use (missing, unreadable, not a snapshot): exit 2.
      if (e instanceof ToolError && e.exitCode !== 2)
        throw new ToolError(e.code, e.message, {
          exitCode: 2,
          cause: e,
          ...(e.hint ? { hint: e.hint } : {}),
        });
      throw e;
    }
  }

  async run(argv: readonly string[], _options: RunOptions = {}): Promise<RunResult> {
    this.runLog.push([...argv]);
    const c = this.commands.get(argvKey(argv));
    if (!c) throw new NotCapturedError(`command ${argv.join(' ')}`, this.snapshot.hostname);
    return { exitCode: c.exitCode, stdout: c.stdout, stderr: c.stderr, durationMs: 0 };
  }

  private entry(path: string): SnapshotFile {
    const f = this.files.get(path);
    if (f !== undefined) return f;
    if (this.missing.has(path)) throw new FileMissingError(path, `snapshot ${this.snapshot.hostname}`);
    throw new NotCapturedError(`file ${path}`, this.snapshot.hostname);
  }

  async readFile(path: string): Promise<string> {
    return Buffer.from(await this.readBytes(path)).toString('utf8');
  }

  async readBytes(path: string): Promise<Uint8Array> {
    const f = this.entry(path);
    if (typeof f === 'string') return Buffer.from(f, 'utf8');
    if ('base64' in f) return Buffer.from(f.base64, 'base64');
    throw new ToolError('is-link', `${path} is a symbolic link to ${f.link}`);
  }

  async writeFile(path: string, content: string | Uint8Array): Promise<void> {
    this.files.set(
      path,
      typeof content === 'string' ? content : { base64: Buffer.from(content).toString('base64') },
    );
    this.missing.delete(path);
  }

  async removeFile(path: string): Promise<void> {
    this.files.delete(path);
    this.missing.add(path);
  }

  async mkdir(): Promise<void> {}

  private isDir(path: string): boolean {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    for (const p of this.files.keys()) if (p.startsWith(prefix)) return true;
    return false;
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const f = this.files.get(path);
    if (f !== undefined) {
      const size =
        typeof f === 'string'
          ? Buffer.byteLength(f)
          : 'base64' in f
            ? Buffer.from(f.base64, 'base64').length
            : 0;
      const link = typeof f !== 'string' && 'link' in f;
      return { size, mode: 0o644, mtimeMs: 0, isFile: !link, isDirectory: false, isSymbolicLink: link };
    }
    if (this.isDir(path))
      return { size: 0, mode: 0o755, mtimeMs: 0, isFile: false, isDirectory: true, isSymbolicLink: false };
    if (this.missing.has(path)) return undefined;
    throw new NotCapturedError(`file ${path}`, this.snapshot.hostname);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.stat(path)) !== undefined;
  }

  async listDir(path: string): Promise<string[]> {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const names = new Set<string>();
    for (const p of this.files.keys()) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      const name = rest.split('/')[0];
      if (name) names.add(name);
    }
    if (names.size === 0 && !this.missing.has(path) && !this.missing.has(prefix))
      throw new NotCapturedError(`directory ${path}`, this.snapshot.hostname);
    return [...names].sort();
  }

  async readLink(path: string): Promise<string | undefined> {
    const f = this.files.get(path);
    if (f !== undefined) return typeof f !== 'string' && 'link' in f ? f.link : undefined;
    if (this.missing.has(path) || this.isDir(path)) return undefined;
    throw new NotCapturedError(`link ${path}`, this.snapshot.hostname);
  }

  async close(): Promise<void> {}
}

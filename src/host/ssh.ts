import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { CommandNotFoundError, FileMissingError, ToolError } from '../errors.js';
import { spawnCollect } from './local.js';
import {
  batchChunks,
  batchScript,
  commandScript,
  EXIT_255_MARKER,
  parseBatch,
  remoteCommand,
} from './shell-quote.js';
import {
  parseSshSpec,
  type Raw,
  type SpawnIo,
  type SshTarget,
  spawnSsh,
  sshFailure,
  statCommand,
  toFileStat,
  writeScript,
} from './ssh-remote.js';
import type { FileStat, Host, RunOptions, RunResult, WriteOptions } from './types.js';

export { parseSshSpec, type SshTarget } from './ssh-remote.js';

export interface SshHostOptions {
  /** Extra ssh arguments placed first (so they win), e.g. ['-F', cfg, '-i', key]. Default: $BHYVE_GPU_SSH_OPTS split on spaces. */
  sshOptions?: readonly string[];
  /** Seconds to wait for the TCP connection and the login (ssh ConnectTimeout); default 10. */
  connectTimeoutSec?: number;
  /** Sessions open at once over the shared connection (sshd's MaxSessions defaults to 10); default 8. */
  maxSessions?: number;
  /** The ssh client program; default `ssh` from PATH. */
  sshProgram?: string;
}

/** A shorter directory when TMPDIR is long: a unix socket path must stay under 104 bytes. */
function controlBase(): string {
  const t = tmpdir();
  return t.length <= 40 ? t : '/tmp';
}

/**
 * A remote host reached with the system OpenSSH client. ~/.ssh/config, the agent and known_hosts are used
 * as they are; BatchMode means a missing key or host key fails at once instead of prompting. All commands
 * share one multiplexed connection (ControlMaster) that `close()` ends.
 */
export class SshHost implements Host {
  readonly kind = 'ssh' as const;
  readonly description: string;
  /** `uname -s` of the remote host, read once at connect. */
  os = '';
  private trips = 0;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;
  private readonly onExit = (): void => this.closeNow();

  private constructor(
    readonly target: SshTarget,
    /** Private directory holding the multiplexing socket (removed by close). */
    readonly controlDir: string,
    private readonly args: readonly string[],
    private readonly program: string,
    private readonly maxSessions: number,
  ) {
    const port = target.port === undefined ? '' : `:${target.port}`;
    this.description = `ssh ${target.user === undefined ? '' : `${target.user}@`}${target.host}${port}`;
  }

  /** Parse `ssh://[user@]host[:port]`, start the shared connection and learn the remote OS. */
  static async connect(spec: string, options: SshHostOptions = {}): Promise<SshHost> {
    const target = parseSshSpec(spec);
    const extra = options.sshOptions ?? (process.env.BHYVE_GPU_SSH_OPTS ?? '').split(/\s+/).filter(Boolean);
    const timeout = options.connectTimeoutSec ?? 10;
    const dir = await fsp.mkdtemp(join(controlBase(), 'bhyve-gpu-ssh-'));
    const args = [
      ...extra,
      ...['-o', 'BatchMode=yes', '-o', `ConnectTimeout=${timeout}`],
      ...['-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3'],
      ...['-o', 'ControlMaster=auto', '-o', `ControlPath=${dir}/%C`, '-o', 'ControlPersist=60'],
      '-T',
      ...(target.port === undefined ? [] : ['-p', String(target.port)]),
      ...(target.user === undefined ? [] : ['-l', target.user]),
      '--',
      target.host,
    ];
    const host = new SshHost(target, dir, args, options.sshProgram ?? 'ssh', options.maxSessions ?? 8);
    process.once('exit', host.onExit);
    try {
      const r = await host.spawn(remoteCommand(commandScript(['uname', '-s'])), {
        timeoutMs: (timeout + 15) * 1000,
      });
      if (r.exitCode === 124) throw sshFailure(host.description, 'timed out while connecting');
      host.os = host.check(['uname', '-s'], r).stdout.toString('utf8').trim();
    } catch (e) {
      await host.close();
      throw e;
    }
    return host;
  }

  /** ssh invocations made so far (each one network round trip over the shared connection). */
  get roundTrips(): number {
    return this.trips;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const script: { cwd?: string; env?: Readonly<Record<string, string>>; timeoutSec?: number } = {};
    if (options.cwd !== undefined) script.cwd = options.cwd;
    if (options.env !== undefined) script.env = options.env;
    if (options.timeoutMs !== undefined) script.timeoutSec = Math.ceil(options.timeoutMs / 1000) + 1;
    const r = this.check(
      argv,
      await this.spawn(remoteCommand(commandScript(argv, script)), {
        ...(options.input === undefined ? {} : { input: Buffer.from(options.input, 'utf8') }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
      }),
    );
    return { ...r, stdout: r.stdout.toString('utf8') };
  }

  /** Run every argv in one ssh round trip; each gets stdin from /dev/null. A missing command gives 127. */
  async runBatch(argvs: readonly (readonly string[])[]): Promise<RunResult[]> {
    const results: RunResult[] = [];
    for (const chunk of batchChunks(argvs)) {
      const marker = `BHYVEGPU-${randomBytes(8).toString('hex')}`;
      const r = await this.spawn(remoteCommand(batchScript(chunk, marker)));
      if (r.exitCode === 255) throw sshFailure(this.description, r.stderr);
      const sections = parseBatch(r.stdout, marker, chunk.length, r.stderr);
      const share = Math.round(r.durationMs / chunk.length);
      for (const s of sections)
        results.push({
          exitCode: s.exitCode,
          stdout: s.stdout.toString('utf8'),
          stderr: s.stderr.toString('utf8'),
          durationMs: share,
        });
    }
    return results;
  }

  async readFile(path: string): Promise<string> {
    return Buffer.from(await this.readBytes(path)).toString('utf8');
  }

  async readBytes(path: string): Promise<Uint8Array> {
    const r = await this.raw(['cat', '--', path]);
    if (r.exitCode === 0) return r.stdout;
    if (/No such file or directory/i.test(r.stderr)) throw new FileMissingError(path, this.description);
    throw new ToolError('read-failed', `${path} on ${this.description}: ${r.stderr.trim()}`);
  }

  async writeFile(path: string, content: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    const tmp = posix.join(
      posix.dirname(path),
      `.${posix.basename(path)}.bhyve-gpu.${randomBytes(4).toString('hex')}.tmp`,
    );
    const mode = (options.mode ?? 0o644).toString(8);
    const argv = ['sh', '-c', writeScript(this.os), 'sh', path, tmp, mode];
    const r = await this.raw(argv, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    if (r.exitCode !== 0)
      throw new ToolError('write-failed', `${path} on ${this.description}: ${r.stderr.trim()}`);
  }

  /** Create `path` only if nothing is there (sh noclobber, O_EXCL): true when created. */
  async createExclusive(path: string, content: string): Promise<boolean> {
    // `true`, not `:`: a failed redirection on a special built-in would end sh itself.
    const script = [
      'umask 022; set -C',
      'if ! { true >"$1"; } 2>/dev/null; then',
      '  if [ -e "$1" ] || [ -L "$1" ]; then exit 3; fi',
      '  true >"$1"; exit 1',
      'fi',
      'cat >>"$1"',
    ].join('\n');
    const r = await this.raw(['sh', '-c', script, 'sh', path], Buffer.from(content, 'utf8'));
    if (r.exitCode === 0) return true;
    if (r.exitCode === 3) return false;
    throw new ToolError('write-failed', `${path} on ${this.description}: ${r.stderr.trim()}`);
  }

  async removeFile(path: string): Promise<void> {
    await this.mustSucceed(['rm', '-f', '--', path], path);
  }

  async mkdir(path: string): Promise<void> {
    await this.mustSucceed(['mkdir', '-p', '--', path], path);
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const r = await this.raw(statCommand(this.os, path));
    return r.exitCode === 0 ? toFileStat(this.os, r.stdout.toString('utf8')) : undefined;
  }

  async exists(path: string): Promise<boolean> {
    return (await this.stat(path)) !== undefined;
  }

  async listDir(path: string): Promise<string[]> {
    const r = await this.raw(['sh', '-c', '[ -d "$1" ] || exit 0; ls -1A -- "$1"', 'sh', path]);
    if (r.exitCode !== 0) return [];
    return r.stdout
      .toString('utf8')
      .split('\n')
      .filter((name) => name !== '')
      .sort();
  }

  async readLink(path: string): Promise<string | undefined> {
    const r = await this.raw(['readlink', '--', path]);
    return r.exitCode === 0 ? r.stdout.toString('utf8').replace(/\n$/, '') : undefined;
  }

  /** End the shared connection (`ssh -O exit`) and remove its socket directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.onExit);
    await spawnCollect(
      [this.program, ...this.args.slice(0, -2), '-O', 'exit', ...this.args.slice(-2)],
      { timeoutMs: 5000 },
      'this host',
    ).catch(() => undefined);
    await fsp.rm(this.controlDir, { recursive: true, force: true });
  }

  /** At process exit without close(): the same, synchronously. */
  private closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    spawnSync(this.program, [...this.args.slice(0, -2), '-O', 'exit', ...this.args.slice(-2)], {
      stdio: 'ignore',
      timeout: 5000,
    });
    rmSync(this.controlDir, { recursive: true, force: true });
  }

  private async mustSucceed(argv: readonly string[], path: string): Promise<void> {
    const r = await this.raw(argv);
    if (r.exitCode !== 0)
      throw new ToolError('write-failed', `${path} on ${this.description}: ${r.stderr.trim()}`);
  }

  /** One command with byte-exact stdin and stdout. */
  private async raw(argv: readonly string[], input?: Uint8Array): Promise<Raw> {
    return this.check(argv, await this.spawn(remoteCommand(commandScript(argv)), input ? { input } : {}));
  }

  /** ssh's own failure (255 without the remote marker) and a missing remote command become errors. */
  private check(argv: readonly string[], r: Raw): Raw {
    if (r.exitCode === 255) {
      const lines = r.stderr.split('\n');
      const at = lines.lastIndexOf(EXIT_255_MARKER);
      if (at < 0) throw sshFailure(this.description, r.stderr);
      lines.splice(at, 1);
      return { ...r, stderr: lines.join('\n') };
    }
    const name = argv[0] ?? '';
    if (
      r.exitCode === 127 &&
      r.stderr.includes(name) &&
      /not found|No such file or directory/i.test(r.stderr)
    )
      throw new CommandNotFoundError(name, this.description);
    return r;
  }

  /** One ssh client over the shared connection, counted as a round trip. */
  private async spawn(command: string, io: SpawnIo = {}): Promise<Raw> {
    const r = await this.slot(() => spawnSsh(this.program, [...this.args, command], io));
    this.trips++;
    return r;
  }

  /** At most `maxSessions` ssh clients at once; a freed slot passes straight to the next waiter. */
  private async slot<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxSessions) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

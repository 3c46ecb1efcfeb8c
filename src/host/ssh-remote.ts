/** The parts of SshHost that know about the remote side: the spec, ssh's errors, stat and write dialects. */
import { spawn } from 'node:child_process';
import { CommandNotFoundError, ToolError, UsageError } from '../errors.js';
import type { FileStat, RunOptions } from './types.js';

export interface SpawnIo {
  input?: Uint8Array;
  timeoutMs?: number;
  onOutput?: RunOptions['onOutput'];
}

/** What one ssh client run gave back: stdout as bytes (files may be binary). */
export interface Raw {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
  durationMs: number;
}

/**
 * Run the local ssh client (argv, no shell). On a timeout the streams are cut at once: the multiplexing
 * master holds the client's pipes, so they would stay open until the remote command ends (the remote
 * side runs it under timeout(1) when it has one). Exit status 124 then, as LocalHost gives.
 */
export function spawnSsh(program: string, args: readonly string[], io: SpawnIo): Promise<Raw> {
  return new Promise<Raw>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      io.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
            child.stdout.destroy();
            child.stderr.destroy();
          }, io.timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      io.onOutput?.(b.toString('utf8'), 'stdout');
    });
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      io.onOutput?.(b.toString('utf8'), 'stderr');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new CommandNotFoundError(program, 'this host'));
      else reject(new ToolError('ssh-failed', `${program}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({
        exitCode: timedOut ? 124 : (code ?? 1),
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Math.round(performance.now() - started),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(io.input ?? Buffer.alloc(0));
  });
}

export interface SshTarget {
  user?: string;
  /** Host name or address as ssh takes it (an IPv6 address without brackets). */
  host: string;
  port?: number;
}

const SPEC_HINT = 'use ssh://[user@]host[:port], e.g. ssh://root@gpu-box or ssh://admin@10.0.0.5:2222';

/** `ssh://[user@]host[:port]` -> target. Names that ssh could read as options are refused. */
export function parseSshSpec(spec: string): SshTarget {
  const m = /^ssh:\/\/(?:([^@/]*)@)?(\[[0-9A-Fa-f:.%a-z]+\]|[^:/@[\]]*)(?::(\d*))?\/?$/.exec(spec);
  if (!m) throw new UsageError(`invalid ssh host spec: ${spec}`, SPEC_HINT);
  const [, user, rawHost = '', port] = m;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (!/^[A-Za-z0-9_:][A-Za-z0-9._:%-]*$/.test(host))
    throw new UsageError(`invalid host name in ${spec}: ${JSON.stringify(host)}`, SPEC_HINT);
  if (user !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(user))
    throw new UsageError(`invalid user name in ${spec}: ${JSON.stringify(user)}`, SPEC_HINT);
  const target: SshTarget = { host };
  if (user !== undefined) target.user = user;
  if (port !== undefined) {
    const n = Number(port);
    if (port === '' || !Number.isInteger(n) || n < 1 || n > 65535)
      throw new UsageError(`invalid port in ${spec}: ${JSON.stringify(port)}`, SPEC_HINT);
    target.port = n;
  }
  return target;
}

/** ssh itself failed (exit 255): say why in ssh's words and what to check. */
export function sshFailure(description: string, stderr: string): ToolError {
  const detail =
    stderr
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .slice(-3)
      .join('; ') || 'ssh exited 255 without a message';
  let hint =
    'run `ssh -v` to the same host by hand to see why; ~/.ssh/config, the agent and known_hosts are used as they are';
  if (/Permission denied|Too many authentication failures|no mutual signature/i.test(stderr))
    hint =
      'ssh could not log in without a prompt (BatchMode): load your key in the agent (ssh-add), or pass -i KEY in BHYVE_GPU_SSH_OPTS, and check authorized_keys on the host';
  else if (/Host key verification failed|HOST IDENTIFICATION HAS CHANGED|host key is known/i.test(stderr))
    hint =
      'the host key is not in known_hosts (or changed): connect once with plain `ssh` to check and accept it';
  else if (
    /Connection refused|timed out|No route to host|Could not resolve|unreachable|Connection closed|reset by peer/i.test(
      stderr,
    )
  )
    hint = 'check the host name and port, that sshd runs there, and that no firewall is in the way';
  return new ToolError('ssh-failed', `${description}: connection failed: ${detail}`, { hint });
}

/** BSD stat(1) (FreeBSD, macOS, *BSD) versus GNU stat (Linux). */
function isGnu(os: string): boolean {
  return os === 'Linux';
}

/** argv printing `size mode mtime` for a path (links followed): mode in hex on GNU, octal on BSD. */
export function statCommand(os: string, path: string): string[] {
  return isGnu(os)
    ? ['stat', '-L', '-c', '%s %f %Y', '--', path]
    : ['stat', '-L', '-f', '%z %p %m', '--', path];
}

export function toFileStat(os: string, text: string): FileStat | undefined {
  const [size, mode, mtime] = text.trim().split(/\s+/);
  const raw = Number.parseInt(mode ?? '', isGnu(os) ? 16 : 8);
  if (size === undefined || mtime === undefined || Number.isNaN(raw)) return undefined;
  const type = raw & 0o170000;
  return {
    size: Number(size),
    mode: raw & 0o7777,
    mtimeMs: Number(mtime) * 1000,
    isFile: type === 0o100000,
    isDirectory: type === 0o040000,
    isSymbolicLink: type === 0o120000,
  };
}

/**
 * `sh -c <this> sh PATH TMP MODE`, content on stdin: write TMP (no clobber, umask 077), give it the old
 * file's mode and owner (or MODE for a new file), fsync it, rename it over PATH, fsync the directory.
 */
export function writeScript(os: string): string {
  const stat = isGnu(os) ? 'stat -L -c' : 'stat -L -f';
  const rawMode = isGnu(os) ? '%f' : '%p';
  const base = isGnu(os) ? '0x' : '0';
  return [
    'p=$1 t=$2 m=$3 o=',
    'flush() { if command -v fsync >/dev/null 2>&1; then fsync "$1"; else sync -- "$1" 2>/dev/null || sync; fi; }',
    'if [ -e "$p" ]; then',
    `  x=$(${stat} ${rawMode} -- "$p") && o=$(${stat} %u:%g -- "$p") || exit 1`,
    `  m=$(printf %o $((${base}$x & 4095)))`,
    'fi',
    'umask 077',
    'set -C',
    'cat >"$t" || { rm -f -- "$t"; exit 1; }',
    '{ chmod "$m" "$t" && { [ -z "$o" ] || [ "$(id -u)" != 0 ] || chown "$o" "$t"; } &&',
    '  { flush "$t" 2>/dev/null || :; } && mv -f -- "$t" "$p"; } || { rm -f -- "$t"; exit 1; }',
    'flush "$(dirname -- "$p")" 2>/dev/null || :',
  ].join('\n');
}

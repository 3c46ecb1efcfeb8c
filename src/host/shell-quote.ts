/**
 * The one place where text for a remote shell is built. Everything the tool runs over ssh is an argv
 * array; it reaches the remote POSIX sh through `quoteArgv`, and the whole script reaches the remote
 * login shell (sh, bash, csh or tcsh: FreeBSD's root used csh before 14.0) through `remoteCommand`.
 */
import { ToolError } from '../errors.js';

/** Words that sh would read as syntax (reserved words) when left unquoted as a command name. */
const RESERVED = new Set([
  'case',
  'do',
  'done',
  'elif',
  'else',
  'esac',
  'fi',
  'for',
  'if',
  'in',
  'then',
  'until',
  'while',
]);

/** Characters that mean nothing to sh in any position of a word (no `=`: `A=b` would be an assignment). */
const PLAIN = /^[A-Za-z0-9_./:@,+%-]+$/;
/**
 * The same, for a word after the command name, where sh reads `=` as itself (`--quirk intpin,mmio64=128G`,
 * `sysrc pptdevs=1/0/0`); not at the start of a word, where zsh would expand `=name` to a path.
 */
const PLAIN_ARGUMENT = /^[A-Za-z0-9_./:@,+%-][A-Za-z0-9_./:@,+%=-]*$/;

function quoted(arg: string): string {
  if (arg.includes('\0'))
    throw new ToolError('internal', 'an argument for a remote command contains a NUL byte');
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** One word, quoted for POSIX sh where needed: single quotes, and `'` written as `'\''`. */
export function quoteArg(arg: string): string {
  if (PLAIN.test(arg) && !RESERVED.has(arg)) return arg;
  return quoted(arg);
}

/** An argv array as one sh command line: each word reaches the program unchanged. */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new ToolError('internal', 'quoteArgv: empty argv');
  return argv.map((arg, i) => (i > 0 && PLAIN_ARGUMENT.test(arg) ? arg : quoteArg(arg))).join(' ');
}

/** Commands run in order, as one sh line: each argv quoted, joined with && (the human output of advice). */
export function commandsLine(commands: readonly (readonly string[])[]): string {
  return commands.map((c) => quoteArgv(c)).join(' && ');
}

/** Bytes that pass unchanged through csh single quotes, sh double quotes and a printf format. */
const SAFE_BYTE = /[A-Za-z0-9 _,./:=+@-]/;

/**
 * The string handed to `ssh host <command>`: sshd gives it to the user's login shell, which may be csh.
 * The sh script is carried as a printf format of octal escapes, so the login shell sees no quote,
 * newline, `!` or `$` of its own, and /bin/sh runs the script exactly as written.
 */
export function remoteCommand(script: string): string {
  let format = '';
  for (const byte of Buffer.from(script, 'utf8')) {
    const c = String.fromCharCode(byte);
    format += byte < 0x80 && SAFE_BYTE.test(c) ? c : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `/bin/sh -c 'eval "$(printf "${format}")"'`;
}

/** Bytes that `remoteCommand` makes of one argv in a batch: to keep one ssh command line bounded. */
export function encodedLength(argv: readonly string[]): number {
  let n = 40;
  for (const byte of Buffer.from(quoteArgv(argv), 'utf8'))
    n += byte < 0x80 && SAFE_BYTE.test(String.fromCharCode(byte)) ? 1 : 4;
  return n;
}

/** Exit status the remote side adds a marker for, so it is not mistaken for ssh's own failure (255). */
export const EXIT_255_MARKER = 'bhyve-gpu: remote command exited 255';

/** The script for one command: optional cwd and environment, stdin passed through, 255 marked. */
export function commandScript(
  argv: readonly string[],
  options: { cwd?: string; env?: Readonly<Record<string, string>>; timeoutSec?: number } = {},
): string {
  let command = quoteArgv(argv);
  // timeout(1) (FreeBSD base, GNU coreutils) ends the remote command too when the local side gives up.
  if (options.timeoutSec !== undefined) command = `$limit ${command}`;
  const env = Object.entries(options.env ?? {});
  if (env.length > 0) {
    for (const [key] of env)
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
        throw new ToolError('internal', `invalid environment variable name: ${JSON.stringify(key)}`);
    command = `env ${env.map(([k, v]) => quoteArg(`${k}=${v}`)).join(' ')} ${command}`;
  }
  if (options.cwd !== undefined) command = `cd -- ${quoteArg(options.cwd)} && ${command}`;
  return [
    ...(options.timeoutSec === undefined
      ? []
      : [
          `limit=; if command -v timeout >/dev/null 2>&1; then limit='timeout -k 2 ${Math.max(1, Math.ceil(options.timeoutSec))}'; fi`,
        ]),
    command,
    'rc=$?',
    `if [ "$rc" -eq 255 ]; then printf '%s\\n' ${quoteArg(EXIT_255_MARKER)} >&2; fi`,
    'exit "$rc"',
  ].join('\n');
}

/**
 * One sh script that runs every argv (each in a subshell, stdin from /dev/null) and prints, per command,
 * a header `<marker> <exit> <stdout bytes> <stderr bytes>` followed by the raw stdout and stderr bytes.
 * Length-prefixed sections survive any output, binary included.
 */
export function batchScript(argvs: readonly (readonly string[])[], marker: string): string {
  const lines = [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a sh parameter expansion, not a template
    'd=$(mktemp -d "${TMPDIR:-/tmp}/bhyve-gpu.XXXXXXXX") || exit 97',
    `trap 'rm -rf -- "$d"' EXIT`,
    `section() { printf '%s %s %s %s\\n' ${quoteArg(marker)} "$1" $(wc -c <"$d/o") $(wc -c <"$d/e"); cat "$d/o" "$d/e"; }`,
  ];
  for (const argv of argvs) lines.push(`( ${quoteArgv(argv)} ) </dev/null >"$d/o" 2>"$d/e"; section $?`);
  return lines.join('\n');
}

export interface BatchSection {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Split the output of `batchScript`; throws ToolError('ssh-batch') when it is cut short or garbled. */
export function parseBatch(output: Buffer, marker: string, count: number, stderr = ''): BatchSection[] {
  const why = stderr.trim() === '' ? '' : `: ${stderr.trim().split('\n').slice(-3).join('; ')}`;
  const sections: BatchSection[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const eol = output.indexOf(0x0a, pos);
    const header = eol < 0 ? '' : output.subarray(pos, eol).toString('latin1');
    const m = /^(\S+) (\d+) (\d+) (\d+)$/.exec(header);
    if (!m || m[1] !== marker)
      throw new ToolError(
        'ssh-batch',
        `batch output ends or is garbled at command ${i + 1} of ${count}${why}`,
      );
    const outEnd = eol + 1 + Number(m[3]);
    const errEnd = outEnd + Number(m[4]);
    if (errEnd > output.length)
      throw new ToolError('ssh-batch', `batch output is cut short at command ${i + 1} of ${count}${why}`);
    sections.push({
      exitCode: Number(m[2]),
      stdout: output.subarray(eol + 1, outEnd),
      stderr: output.subarray(outEnd, errEnd),
    });
    pos = errEnd;
  }
  return sections;
}

/** Split a batch so that no single ssh command line grows past ~100 kB (ARG_MAX stays far away). */
export function batchChunks(argvs: readonly (readonly string[])[]): (readonly string[])[][] {
  const out: (readonly string[])[][] = [];
  let current: (readonly string[])[] = [];
  let size = 0;
  for (const argv of argvs) {
    const n = encodedLength(argv);
    if (current.length > 0 && size + n > 100_000) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(argv);
    size += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}

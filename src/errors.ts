/**
 * One error type for everything the tool reports to a user. `code` is stable (scripts may match on it),
 * `hint` says what to do next, `exitCode` is mapped to the process exit status by the CLI only.
 */
export type ExitCode = 0 | 1 | 2 | 3 | 4 | 130;

export class ToolError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; exitCode?: ExitCode; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ToolError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A usage mistake (bad flag value, unknown device spec): exit 2. */
export class UsageError extends ToolError {
  constructor(message: string, hint?: string) {
    super('usage', message, { exitCode: 2, ...(hint === undefined ? {} : { hint }) });
    this.name = 'UsageError';
  }
}

/** Input text that could not be understood, with the place it came from. */
export class ParseError extends ToolError {
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(message: string, where: { file?: string; line?: number } = {}, hint?: string) {
    const place = [where.file, where.line].filter((x) => x !== undefined).join(':');
    super('parse', place ? `${place}: ${message}` : message, hint === undefined ? {} : { hint });
    this.name = 'ParseError';
    this.file = where.file;
    this.line = where.line;
  }
}

/** A program the tool wanted to run is not installed on the host. */
export class CommandNotFoundError extends ToolError {
  readonly command: string;
  constructor(command: string, host: string) {
    super('command-not-found', `${command}: command not found on ${host}`, {
      hint: `install ${command} or run bhyve-gpu on a host that has it`,
    });
    this.name = 'CommandNotFoundError';
    this.command = command;
  }
}

/** A snapshot does not hold the command output or file that was asked for. */
export class NotCapturedError extends ToolError {
  readonly what: string;
  constructor(what: string, snapshot: string) {
    super('not-captured', `${what}: not captured in snapshot ${snapshot}`, {
      hint: what.startsWith('command ')
        ? 'a snapshot holds only the probe set (docs/snapshot-format.md): run this on the host itself, or with --host ssh://HOST'
        : 'record a new snapshot with `bhyve-gpu snapshot -o host.json` on the host',
    });
    this.name = 'NotCapturedError';
    this.what = what;
  }
}

/** A file that does not exist on the host. */
export class FileMissingError extends ToolError {
  readonly path: string;
  constructor(path: string, host: string) {
    super('file-missing', `${path}: no such file on ${host}`);
    this.name = 'FileMissingError';
    this.path = path;
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

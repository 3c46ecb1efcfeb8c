/**
 * Find the first real error in build output: the compiler's `file.c:12:5: error: ...` (clang and gcc), the
 * linker's `ld: error: ...` / `undefined reference to`, and make's `*** [target] Error code 1` (bmake) or
 * `make[1]: *** [Makefile:3: x.o] Error 1` (GNU make). A compiler or linker error wins over the make line that
 * follows it; make's own line is reported only when nothing better was printed.
 */
export interface FirstError {
  kind: 'compiler' | 'linker' | 'make';
  file?: string;
  line?: number;
  column?: number;
  message: string;
  /** The output line as printed. */
  text: string;
  /** Where make was when the error was printed (`Entering directory` or `===> dir`), when it said so. */
  directory?: string;
}

const COMPILER = /^(.+?):(\d+):(?:(\d+):)? (?:fatal )?error: (.+)$/;
const LINKER = /^(?:.*\bld(?:\.lld)?|collect2): error: (.+)$|^(.+?):\(.+\): (undefined reference to .+)$/;
const MAKE = /\*\*\* (?:\[([^\]]+)\] )?Error(?: code)? (\d+)/;

export function matchErrorLine(text: string): FirstError | undefined {
  const line = text.replace(/\s+$/, '');
  const compiler = COMPILER.exec(line);
  if (compiler) {
    const error: FirstError = {
      kind: 'compiler',
      file: compiler[1] as string,
      line: Number(compiler[2]),
      message: compiler[4] as string,
      text: line,
    };
    if (compiler[3] !== undefined) error.column = Number(compiler[3]);
    return error;
  }
  const linker = LINKER.exec(line);
  if (linker) {
    if (linker[1] !== undefined) return { kind: 'linker', message: linker[1], text: line };
    return { kind: 'linker', file: linker[2] as string, message: linker[3] as string, text: line };
  }
  const make = MAKE.exec(line);
  if (make) {
    const error: FirstError = { kind: 'make', message: line.slice(make.index), text: line };
    const target = make[1];
    const gnu = target === undefined ? undefined : /^(.+?):(\d+): (.+)$/.exec(target);
    if (gnu) {
      error.file = gnu[1] as string;
      error.line = Number(gnu[2]);
    } else if (target !== undefined) error.file = target;
    return error;
  }
  return undefined;
}

/** Feed output lines in order; `result()` is the first compiler/linker error, else the first make error. */
export class FirstErrorScanner {
  private best: FirstError | undefined;
  private makeError: FirstError | undefined;
  private directory: string | undefined;

  push(line: string): void {
    if (this.best) return;
    const entering =
      /^\S*make(?:\[\d+\])?: Entering directory [`'](.+)'$/.exec(line) ?? /^===> (\S+)/.exec(line);
    if (entering) {
      this.directory = entering[1];
      return;
    }
    const found = matchErrorLine(line);
    if (!found) return;
    if (this.directory !== undefined && found.kind !== 'make') found.directory = this.directory;
    if (found.kind === 'make') this.makeError ??= found;
    else this.best = found;
  }

  result(): FirstError | undefined {
    return this.best ?? this.makeError;
  }
}

/** Scan a whole text (a log) for its first error. */
export function findFirstError(text: string): FirstError | undefined {
  const scanner = new FirstErrorScanner();
  for (const line of text.split(/\r?\n/)) scanner.push(line);
  return scanner.result();
}

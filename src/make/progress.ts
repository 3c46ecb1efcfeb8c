/**
 * Progress on stderr for long runs (git fetch, make): on a TTY one line that is rewritten in place; otherwise
 * plain lines, at most one per `intervalMs` unless the phase changes, so CI logs stay short.
 */
export interface ProgressDisplay {
  /** Show the current state (rewritten in place on a TTY). */
  update(text: string, phase?: string): void;
  /** A line that stays (a step finished, a note). */
  line(text: string): void;
  /** Clear the updating line. */
  done(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Force TTY behaviour on or off (default: the stream's isTTY). */
  tty?: boolean;
  /** Minimum time between plain lines of the same phase (default 10 s). */
  intervalMs?: number;
  now?: () => number;
}

export function createProgress(options: ProgressOptions = {}): ProgressDisplay {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const intervalMs = options.intervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  let shown = false;
  let lastPhase: string | undefined;
  let lastAt = -Infinity;

  const clear = (): void => {
    if (tty && shown) stream.write('\r\x1b[K');
    shown = false;
  };
  return {
    update(text, phase) {
      if (tty) {
        const width = Math.max(20, (stream.columns || 80) - 1);
        stream.write(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
        shown = true;
        return;
      }
      const t = now();
      // git ends a phase with `, done.`: always show that one, so plain logs read 100%.
      if (phase !== lastPhase || t - lastAt >= intervalMs || text.endsWith(', done.')) {
        stream.write(`${text}\n`);
        lastPhase = phase;
        lastAt = t;
      }
    },
    line(text) {
      clear();
      stream.write(`${text}\n`);
    },
    done() {
      clear();
    },
  };
}

/** Seconds as `1m05s` / `42s`. */
export function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes > 0 ? `${minutes}m${String(seconds).padStart(2, '0')}s` : `${seconds}s`;
}

/**
 * Split streamed output into complete lines; git rewrites its progress with `\r`, so a carriage return ends a
 * line too. The remainder waits for the next chunk.
 */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const parts = (this.rest + chunk).split(/\r\n|\r|\n/);
    this.rest = parts.pop() ?? '';
    for (const part of parts) if (part.trim() !== '') this.onLine(part.trimEnd());
  }

  flush(): void {
    if (this.rest.trim() !== '') this.onLine(this.rest.trimEnd());
    this.rest = '';
  }
}

/** The phase of a git progress line: `remote: Counting objects:  50% (…)` -> `remote: Counting objects`. */
export function gitPhase(line: string): string {
  return /^(.*?):\s+\d/.exec(line)?.[1] ?? line;
}

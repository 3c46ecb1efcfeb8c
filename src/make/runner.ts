import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { cpus } from 'node:os';
import { posix } from 'node:path';
import { errorMessage, NotCapturedError, ToolError, UsageError } from '../errors.js';
import { commandPath } from '../host/rooted.js';
import type { Host } from '../host/types.js';
import { STATE_DIR } from '../inventory/probes.js';
import { type FirstError, FirstErrorScanner } from './first-error.js';
import { LineSplitter } from './progress.js';
import type { BuildStep } from './targets.js';

export interface BuildProgress {
  /** `[2/5] vmm.ko`. */
  phase: string;
  step: BuildStep;
  index: number;
  total: number;
  elapsedMs: number;
  lastLine: string;
}

export interface RunBuildOptions {
  src: string;
  logFile: string;
  onProgress?: (progress: BuildProgress) => void;
  now?: () => number;
}

export interface StepOutcome {
  name: string;
  dir: string;
  argv: string[];
  exitCode: number;
  durationMs: number;
}

export type BuildResult =
  | { ok: true; steps: StepOutcome[]; logFile: string; durationMs: number }
  | {
      ok: false;
      step: BuildStep;
      exitCode: number;
      firstError: FirstError | undefined;
      steps: StepOutcome[];
      logFile: string;
      durationMs: number;
    };

/** Appends build output to the log: a node stream on the local host, read-append-write elsewhere. */
interface LogSink {
  write(text: string): void;
  close(): Promise<void>;
}

function logError(path: string, cause: Error): ToolError {
  const code = (cause as NodeJS.ErrnoException).code;
  return new ToolError('build-log', `cannot write the build log ${path}: ${code ?? cause.message}`, {
    hint: 'pass --log FILE with a writable file path',
    cause,
  });
}

/**
 * Check a --log path before anything runs: it must not be a directory, and its directory must exist.
 * A snapshot host that did not capture the path leaves it to the build.
 */
export async function checkLogPath(host: Host, path: string): Promise<void> {
  const stat = async (p: string) => {
    try {
      return await host.stat(p);
    } catch (e) {
      if (e instanceof NotCapturedError) return 'unknown' as const;
      throw e;
    }
  };
  const own = await stat(path);
  if (own !== 'unknown' && own?.isDirectory)
    throw new UsageError(
      `--log ${path}: is a directory`,
      `name a file, e.g. --log ${posix.join(path, 'build.log')}`,
    );
  const dir = posix.dirname(path);
  const parent = await stat(dir);
  if (parent === undefined) throw new UsageError(`--log ${path}: directory ${dir} does not exist`);
  if (parent !== 'unknown' && !parent.isDirectory)
    throw new UsageError(`--log ${path}: ${dir} is not a directory`);
}

async function openLog(host: Host, path: string): Promise<LogSink> {
  await host.mkdir(posix.dirname(path));
  if (host.kind === 'local') {
    // Under --root the log is a host path below the root, like every other file the tool writes.
    const stream: WriteStream = createWriteStream(commandPath(host, path), { flags: 'a' });
    // Every stream error is kept and reported as a ToolError: none may escape as an unhandled 'error'.
    let failure: Error | undefined;
    stream.on('error', (e: Error) => {
      failure ??= e;
    });
    await new Promise<void>((resolve) => {
      stream.once('open', () => resolve());
      stream.once('error', () => resolve());
    });
    if (failure) throw logError(path, failure);
    return {
      write: (text) => {
        if (!failure) stream.write(text);
      },
      close: async () => {
        if (!failure) await new Promise<void>((resolve) => stream.end(() => resolve()));
        // A failed write (ENOSPC) may end the stream before its 'error' is emitted: wait for 'close'.
        if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
        if (failure) throw logError(path, failure);
      },
    };
  }
  let pending = '';
  return {
    write: (text) => {
      pending += text;
    },
    close: async () => {
      const before = (await host.exists(path)) ? await host.readFile(path) : '';
      await host.writeFile(path, before + pending);
    },
  };
}

/** Run each step's make in order, stream everything to the log, stop at the first failing step. */
export async function runBuild(
  host: Host,
  steps: readonly BuildStep[],
  options: RunBuildOptions,
): Promise<BuildResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const log = await openLog(host, options.logFile);
  const outcomes: StepOutcome[] = [];
  try {
    log.write(`# bhyve-gpu build ${new Date(started).toISOString()} in ${options.src}\n`);
    for (const [index, step] of steps.entries()) {
      const cwd = step.dir === '.' ? options.src : posix.join(options.src, step.dir);
      const phase = `[${index + 1}/${steps.length}] ${step.name}`;
      const stepStarted = now();
      let lastLine = '';
      const scanner = new FirstErrorScanner();
      const report = (): void =>
        options.onProgress?.({
          phase,
          step,
          index,
          total: steps.length,
          elapsedMs: now() - started,
          lastLine,
        });
      const splitter = new LineSplitter((line) => {
        lastLine = line;
        scanner.push(line);
        report();
      });
      log.write(`\n==> ${phase}: ${step.argv.join(' ')} (in ${cwd})\n`);
      report();
      let exitCode: number;
      try {
        const result = await host.run(step.argv, {
          cwd: commandPath(host, cwd),
          onOutput: (chunk) => {
            log.write(chunk);
            splitter.push(chunk);
          },
        });
        exitCode = result.exitCode;
      } catch (e) {
        log.write(`\n${errorMessage(e)}\n`);
        throw e;
      }
      splitter.flush();
      const durationMs = now() - stepStarted;
      outcomes.push({ name: step.name, dir: step.dir, argv: step.argv, exitCode, durationMs });
      log.write(`==> ${phase}: exit ${exitCode} after ${Math.round(durationMs / 1000)}s\n`);
      if (exitCode !== 0) {
        const firstError = scanner.result();
        if (
          firstError?.file !== undefined &&
          firstError.kind !== 'make' &&
          !posix.isAbsolute(firstError.file)
        ) {
          firstError.file = relativeToSource(options.src, step.dir, firstError.directory, firstError.file);
        }
        return {
          ok: false,
          step,
          exitCode,
          firstError,
          steps: outcomes,
          logFile: options.logFile,
          durationMs: now() - started,
        };
      }
    }
    return { ok: true, steps: outcomes, logFile: options.logFile, durationMs: now() - started };
  } finally {
    await log.close();
  }
}

/** A compiler's relative path, made relative to the source root (make may have changed directory). */
function relativeToSource(src: string, stepDir: string, directory: string | undefined, file: string): string {
  let base = stepDir;
  if (directory !== undefined) {
    base = posix.isAbsolute(directory) ? posix.relative(src, directory) : posix.join(stepDir, directory);
  }
  return posix.normalize(posix.join(base, file));
}

/** Parallel jobs for make: `sysctl -n hw.ncpu` (FreeBSD), else `nproc`, else this machine's CPUs (local only). */
export async function detectJobs(host: Host): Promise<number> {
  for (const argv of [['sysctl', '-n', 'hw.ncpu'], ['nproc']]) {
    try {
      const result = await host.run(argv);
      const value = Number.parseInt(result.stdout.trim(), 10);
      if (result.exitCode === 0 && Number.isInteger(value) && value > 0) return value;
    } catch {
      // not installed, or not in a snapshot: try the next source
    }
  }
  return host.kind === 'local' ? Math.max(1, cpus().length) : 1;
}

/**
 * Default log: `<state dir>/build-<time>.log` (/var/db/bhyve-gpu, below DIR under --root) when that directory
 * can be made and written, else `<src>/.bhyve-gpu/build.log`.
 */
export async function defaultLogFile(host: Host, src: string, at: Date = new Date()): Promise<string> {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  try {
    await host.mkdir(STATE_DIR);
    if (host.kind === 'local') await fsp.access(commandPath(host, STATE_DIR), 2);
    return `${STATE_DIR}/build-${stamp}.log`;
  } catch {
    return posix.join(src, '.bhyve-gpu', 'build.log');
  }
}

export function describeFailure(result: Extract<BuildResult, { ok: false }>): ToolError {
  const where = result.firstError;
  const place =
    where?.file === undefined ? '' : `${where.file}${where.line === undefined ? '' : `:${where.line}`}: `;
  const detail = where ? `${place}${where.message}` : `exit ${result.exitCode}`;
  return new ToolError('build-failed', `build of ${result.step.name} failed: ${detail}`, {
    hint: `full output in ${result.logFile}`,
  });
}

import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { feedAll, feedRange, HEAD_BYTES, LineFeeder } from './feed.js';
import { Matcher } from './matcher.js';
import {
  type ChunkPlan,
  chunkBounds,
  claimedFront,
  claimFront,
  PARALLEL_MIN,
  planChunks,
  ScanThread,
  scanThreads,
} from './parallel.js';
import type { CommandContext, DiagnoseReport } from './types.js';

/** Lines read from the start of each input to guess its kind. */
const SAMPLE_LINES = 64;

function sample(head: Buffer): string[] {
  return head.toString('utf8', 0, Math.min(head.length, HEAD_BYTES)).split('\n').slice(0, SAMPLE_LINES);
}

/** Diagnose texts already in memory (e.g. captured by `guest check`). */
export function diagnoseText(
  inputs: { name: string; text: string }[],
  context: CommandContext = {},
): DiagnoseReport {
  const matcher = new Matcher(undefined, context);
  for (const { name, text } of inputs) {
    const buf = Buffer.from(text, 'utf8');
    const lines = matcher.scan(name, buf, buf.length, 0);
    matcher.addInput(name, sample(buf), lines);
  }
  return matcher.report();
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk), 'utf8');
}

/** A feeder that scans into the matcher as input `name`, lines counted on from `line`. */
function feeder(matcher: Matcher, name: string, line: number, head?: Buffer): LineFeeder {
  return new LineFeeder(
    matcher.input(),
    (len, firstLine, start) => matcher.scanInput(name, len, firstLine, start),
    line,
    head,
  );
}

/** A stream's chunks copied into the matcher's input area, in constant memory. */
async function scanStream(matcher: Matcher, name: string, stream: NodeJS.ReadableStream): Promise<void> {
  const head = Buffer.alloc(HEAD_BYTES);
  const feed = feeder(matcher, name, 0, head);
  const view = feed.view;
  for await (const chunk of stream) {
    let rest = toBuffer(chunk);
    while (rest.length > 0) {
      const { at, max } = feed.space();
      const n = rest.copy(view, at, 0, Math.min(max, rest.length));
      rest = rest.subarray(n);
      feed.push(n);
    }
  }
  const lines = feed.finish();
  matcher.addInput(name, sample(head.subarray(0, feed.headBytes())), lines);
}

/** How a file read by two threads was shared. */
export interface ChunkStats {
  chunks: number;
  /** Chunks the scan thread scanned (the rest the main thread did). */
  byThread: number;
}

/**
 * A large file in two threads (parallel.ts), once its chunks are offered (`claims`): the main thread
 * scans chunks from the front, in order, into the matcher; then the scan thread's chunks are replayed
 * after them in order (a chunk it took but did not report is scanned here). Returns the lines.
 */
export async function scanOffered(
  matcher: Matcher,
  name: string,
  fd: number,
  plan: ChunkPlan,
  thread: ScanThread,
  claims: Int32Array,
  stats?: ChunkStats,
): Promise<number> {
  const scratch = Buffer.alloc(65536);
  let line = 0;
  const scan = (k: number) => {
    const { from, to } = chunkBounds(fd, plan, k, scratch);
    line = feedRange(feeder(matcher, name, line), fd, from, to);
  };
  for (let k = claimFront(claims); k >= 0; k = claimFront(claims)) scan(k);
  const front = claimedFront(claims);
  const results = await thread.collect(front, plan.count);
  results.forEach((result, j) => {
    if (result === undefined) scan(front + j);
    else line = matcher.replay(name, line, result);
  });
  if (stats !== undefined) {
    stats.chunks = plan.count;
    stats.byThread = results.filter((r) => r !== undefined).length;
  }
  return line;
}

/** One input: a stream (stdin, a pipe), or a regular file read by path (the fastest way in). */
export type DiagnoseInput = { name: string; stream: NodeJS.ReadableStream } | { name: string; path: string };

/** How files are read (tests set these; the defaults are parallel.ts's). */
export interface ScanOptions {
  /** 1: one thread; 2: a scan thread for files of parallelMin bytes or more. Default: scanThreads(). */
  threads?: number;
  parallelMin?: number;
  /** Chunk size of a file scanned by two threads. */
  chunk?: number;
  /** Told, for each file read by two threads, how the chunks were shared (`--debug` prints it). */
  onChunks?: (name: string, stats: ChunkStats) => void;
}

function fileSize(path: string): number {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

/** A scan thread started ahead by startScanThread, for the next diagnoseInputs. */
let ahead: ScanThread | undefined;

/**
 * Start the scan thread ahead of a diagnose of large files (a thread takes tens of milliseconds to start
 * and set up): the next diagnoseInputs that reads a file of PARALLEL_MIN bytes or more uses it, and
 * closes it either way. diagnoseInputs itself starts one before it loads the knowledge base; the bench
 * starts one in its load phase, as the command's run does while the knowledge base loads.
 */
export function startScanThread(): void {
  if (ahead === undefined && scanThreads() > 1) ahead = new ScanThread();
}

/**
 * Diagnose inputs in constant memory, in order, into one report: a file is read straight into the
 * matcher's input area (no buffer per chunk), a large one by two threads; a stream's chunks are copied
 * there.
 */
export async function diagnoseInputs(
  inputs: DiagnoseInput[],
  context: CommandContext = {},
  options: ScanOptions = {},
): Promise<DiagnoseReport> {
  const min = options.parallelMin ?? PARALLEL_MIN;
  const threads = options.threads ?? scanThreads();
  // The scan thread starts before the knowledge base loads, so it is ready when the scan begins.
  const big = inputs.some((input) => 'path' in input && fileSize(input.path) >= min);
  const started = ahead;
  ahead = undefined;
  const thread = threads > 1 && big ? (started ?? new ScanThread()) : undefined;
  if (started !== undefined && started !== thread) started.close();
  try {
    const matcher = new Matcher(undefined, context);
    thread?.setup(matcher.scanTables());
    for (const input of inputs) {
      if ('stream' in input) {
        await scanStream(matcher, input.name, input.stream);
        continue;
      }
      // Plain reads into the input area: no promise and no thread hop per read (the reads are large).
      const fd = openSync(input.path, 'r');
      try {
        const st = fstatSync(fd);
        const head = Buffer.alloc(HEAD_BYTES);
        let lines: number;
        if (thread !== undefined && st.isFile() && st.size >= min) {
          const headBytes = readSync(fd, head, 0, HEAD_BYTES, 0);
          const plan = planChunks(st.size, options.chunk);
          const stats: ChunkStats = { chunks: 0, byThread: 0 };
          lines = await scanOffered(matcher, input.name, fd, plan, thread, thread.offer(fd, plan), stats);
          options.onChunks?.(input.name, stats);
          matcher.addInput(input.name, sample(head.subarray(0, headBytes)), lines);
        } else {
          const feed = feeder(matcher, input.name, 0, head);
          lines = feedAll(feed, fd);
          matcher.addInput(input.name, sample(head.subarray(0, feed.headBytes())), lines);
        }
      } finally {
        closeSync(fd);
      }
    }
    return matcher.report();
  } finally {
    thread?.close();
  }
}

/** Diagnose streams (stdin, pipes, files opened by the caller) in constant memory. */
export function diagnoseStreams(
  inputs: { name: string; stream: NodeJS.ReadableStream }[],
  context: CommandContext = {},
): Promise<DiagnoseReport> {
  return diagnoseInputs(inputs, context);
}

/** Diagnose files by path in constant memory. */
export function diagnoseFiles(
  inputs: { name: string; path: string }[],
  context: CommandContext = {},
  options: ScanOptions = {},
): Promise<DiagnoseReport> {
  return diagnoseInputs(inputs, context, options);
}

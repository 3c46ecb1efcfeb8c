import { closeSync, openSync, readSync } from 'node:fs';
import { Matcher } from './matcher.js';
import type { CommandContext, DiagnoseReport } from './types.js';

/** Lines read from the start of each input to guess its kind. */
const SAMPLE_LINES = 64;
/** At most this much of the start of an input is kept for kind detection. */
const HEAD_BYTES = 16384;
/** A line longer than this keeps only its end (memory stays flat on input without newlines). */
const MAX_CARRY = 1 << 20;
/** Reads start at a multiple of this in the input area (a cache line). */
const ALIGN = 64;
/** Scan once this much is in the input area (it holds twice as much). */
const SCAN_AT = 1 << 20;

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

/** Writes up to `max` bytes at view[at..]; resolves to how many (0 at the end of the input). */
type Fill = (view: Buffer, at: number, max: number) => Promise<number>;

function streamFill(stream: NodeJS.ReadableStream): Fill {
  const chunks = stream[Symbol.asyncIterator]();
  let rest: Buffer | undefined;
  return async (view, at, max) => {
    if (rest === undefined || rest.length === 0) {
      const next = await chunks.next();
      if (next.done) return 0;
      rest = toBuffer(next.value);
    }
    const n = Math.min(max, rest.length);
    rest.copy(view, at, 0, n);
    rest = rest.subarray(n);
    return n;
  };
}

/**
 * Read one input through the matcher in constant memory: bytes go into the matcher's input area, complete
 * lines are scanned in place, only the partial last line is moved to the front for the next read. It is
 * moved so that it ends on a 64-byte boundary, where the next read starts: the kernel copies into an
 * address that is not cache-line aligned several times slower (on the machines measured, 30 ms instead of
 * 7 for 60 MB), more than the scan itself costs.
 */
async function scanInput(matcher: Matcher, name: string, fill: Fill): Promise<void> {
  const view = matcher.input();
  const head = Buffer.alloc(HEAD_BYTES);
  let headLength = 0;
  // view[start..filled): read and not scanned yet
  let start = 0;
  let filled = 0;
  let line = 0;
  for (;;) {
    if (filled === view.length) {
      // a line longer than the input area: keep its end
      view.copyWithin(0, filled - MAX_CARRY, filled);
      start = 0;
      filled = MAX_CARRY;
    }
    const n = await fill(view, filled, view.length - filled);
    if (n === 0) break;
    if (headLength < HEAD_BYTES) headLength += view.copy(head, headLength, filled, filled + n);
    filled += n;
    if (filled < SCAN_AT) continue;
    const end = view.lastIndexOf(10, filled - 1) + 1;
    if (end <= start) continue;
    line = matcher.scanInput(name, end, line, start);
    const carry = filled - end;
    start = (ALIGN - (carry % ALIGN)) % ALIGN;
    view.copyWithin(start, end, filled);
    filled = start + carry;
  }
  if (filled > start) line = matcher.scanInput(name, filled, line, start);
  matcher.addInput(name, sample(head.subarray(0, headLength)), line);
}

/** One input: a stream (stdin, a pipe), or a regular file read by path (the fastest way in). */
export type DiagnoseInput = { name: string; stream: NodeJS.ReadableStream } | { name: string; path: string };

/**
 * Diagnose inputs in constant memory, in order, into one report: a file is read straight into the
 * matcher's input area (no buffer per chunk), a stream's chunks are copied there.
 */
export async function diagnoseInputs(
  inputs: DiagnoseInput[],
  context: CommandContext = {},
): Promise<DiagnoseReport> {
  const matcher = new Matcher(undefined, context);
  for (const input of inputs) {
    if ('stream' in input) {
      await scanInput(matcher, input.name, streamFill(input.stream));
      continue;
    }
    // Plain reads into the input area: no promise and no thread hop per read (the reads are large).
    const fd = openSync(input.path, 'r');
    try {
      await scanInput(matcher, input.name, async (view, at, max) => readSync(fd, view, at, max, null));
    } finally {
      closeSync(fd);
    }
  }
  return matcher.report();
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
): Promise<DiagnoseReport> {
  return diagnoseInputs(inputs, context);
}

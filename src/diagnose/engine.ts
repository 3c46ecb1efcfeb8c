import { Matcher } from './matcher.js';
import type { CommandContext, DiagnoseReport } from './types.js';

/** Lines read from the start of each input to guess its kind. */
const SAMPLE_LINES = 64;
/** At most this much of the start of an input is kept for kind detection. */
const HEAD_BYTES = 16384;
/** A line longer than this keeps only its end (memory stays flat on input without newlines). */
const MAX_CARRY = 1 << 20;

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

/**
 * Diagnose streams (files, stdin) in constant memory: each chunk is scanned as soon as its lines are
 * complete; only the partial last line is carried over to the next chunk.
 */
export async function diagnoseStreams(
  inputs: { name: string; stream: NodeJS.ReadableStream }[],
  context: CommandContext = {},
): Promise<DiagnoseReport> {
  const matcher = new Matcher(undefined, context);
  for (const { name, stream } of inputs) {
    let carry: Buffer | undefined;
    let line = 0;
    let head = Buffer.alloc(0);
    for await (const chunk of stream) {
      const bytes = toBuffer(chunk);
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, bytes.subarray(0, HEAD_BYTES - head.length)]);
      const buf = carry ? Buffer.concat([carry, bytes]) : bytes;
      const end = buf.lastIndexOf(10) + 1;
      if (end === 0) {
        carry = buf.length > MAX_CARRY ? buf.subarray(buf.length - MAX_CARRY) : buf;
        continue;
      }
      line = matcher.scan(name, buf, end, line);
      carry = end < buf.length ? buf.subarray(end) : undefined;
    }
    if (carry) line = matcher.scan(name, carry, carry.length, line);
    matcher.addInput(name, sample(head), line);
  }
  return matcher.report();
}

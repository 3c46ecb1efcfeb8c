import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';

/** How much of the start of an input decides whether it is text. */
export const BINARY_PROBE_BYTES = 4096;
/** Above this share of control bytes and invalid UTF-8, an input is not a log. */
const NON_TEXT_SHARE = 0.3;

/**
 * Whether the start of an input looks like binary data rather than a log: a NUL byte in the first 4 KiB,
 * or mostly bytes that are neither printable text nor whitespace (ESC is allowed: colour codes in logs).
 */
export function looksBinary(head: Buffer): boolean {
  const probe = head.subarray(0, BINARY_PROBE_BYTES);
  if (probe.length === 0) return false;
  if (probe.includes(0)) return true;
  let odd = 0;
  for (const byte of probe)
    if (byte < 0x20 && byte !== 9 && byte !== 10 && byte !== 13 && byte !== 12 && byte !== 27) odd++;
  // Invalid UTF-8 sequences decode to U+FFFD; a partial character cut at the probe's end is one at most.
  const text = probe.toString('utf8');
  for (const ch of text) if (ch === '\ufffd') odd++;
  return odd > probe.length * NON_TEXT_SHARE;
}

export interface InputProbe {
  /** The input's stream, passed through unchanged. */
  stream: NodeJS.ReadableStream;
  /**
   * The first bytes seen (up to BINARY_PROBE_BYTES), the byte count, and whether every byte was blank
   * (spaces, tabs, line breaks), once the stream is read.
   */
  result(): { head: Buffer; bytes: number; blank: boolean };
}

/** Wrap a stream so that its first bytes and total size can be inspected after it was consumed. */
export function probeInput(source: NodeJS.ReadableStream): InputProbe {
  let head = Buffer.alloc(0);
  let bytes = 0;
  let blank = true;
  const tap = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      if (head.length < BINARY_PROBE_BYTES)
        head = Buffer.concat([head, buf.subarray(0, BINARY_PROBE_BYTES - head.length)]);
      bytes += buf.length;
      if (blank)
        for (const byte of buf)
          if (byte !== 32 && byte !== 9 && byte !== 10 && byte !== 13 && byte !== 11 && byte !== 12) {
            blank = false;
            break;
          }
      done(undefined, buf);
    },
  });
  source.on('error', (e: Error) => tap.destroy(e));
  source.pipe(tap);
  return { stream: tap, result: () => ({ head, bytes, blank }) };
}

function blankBytes(buf: Buffer, length: number): boolean {
  for (let i = 0; i < length; i++) {
    const byte = buf[i] as number;
    if (byte !== 32 && byte !== 9 && byte !== 10 && byte !== 13 && byte !== 11 && byte !== 12) return false;
  }
  return true;
}

/** The same facts as probeInput, for a regular file read by path (its first bytes, size, blankness). */
export async function probeFile(path: string): Promise<{ head: Buffer; bytes: number; blank: boolean }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buf = Buffer.alloc(1 << 16);
    let head = Buffer.alloc(0);
    let blank = true;
    for (let position = 0; blank; ) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (bytesRead === 0) break;
      if (position === 0) head = Buffer.from(buf.subarray(0, Math.min(bytesRead, BINARY_PROBE_BYTES)));
      blank = blankBytes(buf, bytesRead);
      position += bytesRead;
    }
    return { head, bytes: size, blank };
  } finally {
    await handle.close();
  }
}

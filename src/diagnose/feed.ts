import { readSync } from 'node:fs';

/** A line longer than this keeps only its end (memory stays flat on input without newlines). */
const MAX_CARRY = 1 << 20;
/** Reads start at a multiple of this in the input area (a cache line). */
const ALIGN = 64;
/** Scan once this much is in the input area (it holds twice as much). */
const SCAN_AT = 1 << 20;
/** At most this much of the start of an input is kept for kind detection. */
export const HEAD_BYTES = 16384;

/**
 * Scans input()[start..len) as whole lines (the last may lack its newline), `firstLine` lines before;
 * returns the lines counted so far (firstLine, plus the newlines, plus one for a last line without one).
 */
export type ScanLines = (len: number, firstLine: number, start: number) => number;

/**
 * Feeds an input through a scanner's input area in constant memory: the caller writes bytes at space()
 * (a read straight into the area, or a copy of a stream's chunk) and says how many with push(); complete
 * lines are scanned in place, only the partial last line is moved to the front for the next write. It is
 * moved so that it ends on a 64-byte boundary, where the next write starts: the kernel copies into an
 * address that is not cache-line aligned several times slower (on the machines measured, 30 ms instead of
 * 7 for 60 MB), more than the scan itself costs.
 */
export class LineFeeder {
  // view[start..filled): written and not scanned yet
  private start = 0;
  private filled = 0;
  private headLength = 0;

  /** `head`, when given, receives the first bytes of the input (up to its length). */
  constructor(
    /** The scanner's input area. */
    readonly view: Buffer,
    private readonly scan: ScanLines,
    private line: number,
    private readonly head?: Buffer,
  ) {}

  /** Where the next bytes go, and how many fit. */
  space(): { at: number; max: number } {
    const view = this.view;
    if (this.filled === view.length) {
      // a line longer than the input area: keep its end
      view.copyWithin(0, this.filled - MAX_CARRY, this.filled);
      this.start = 0;
      this.filled = MAX_CARRY;
    }
    return { at: this.filled, max: view.length - this.filled };
  }

  /** n bytes were written at space().at. */
  push(n: number): void {
    const view = this.view;
    if (this.head !== undefined && this.headLength < this.head.length)
      this.headLength += view.copy(this.head, this.headLength, this.filled, this.filled + n);
    this.filled += n;
    if (this.filled < SCAN_AT) return;
    const end = view.lastIndexOf(10, this.filled - 1) + 1;
    if (end <= this.start) return;
    this.line = this.scan(end, this.line, this.start);
    const carry = this.filled - end;
    this.start = (ALIGN - (carry % ALIGN)) % ALIGN;
    view.copyWithin(this.start, end, this.filled);
    this.filled = this.start + carry;
  }

  /** The input ended: scan what is left; returns the lines counted. */
  finish(): number {
    if (this.filled > this.start) this.line = this.scan(this.filled, this.line, this.start);
    this.start = this.filled = 0;
    return this.line;
  }

  /** How many bytes of the head were filled. */
  headBytes(): number {
    return this.headLength;
  }
}

/** Feed fd's bytes [from, to) (reads at those positions, not moving the file offset); returns the lines. */
export function feedRange(feeder: LineFeeder, fd: number, from: number, to: number): number {
  let pos = from;
  while (pos < to) {
    const { at, max } = feeder.space();
    const n = readSync(fd, feeder.view, at, Math.min(max, to - pos), pos);
    if (n === 0) break;
    pos += n;
    feeder.push(n);
  }
  return feeder.finish();
}

/** Feed fd from its current offset to its end (a file read by path, whatever its size becomes). */
export function feedAll(feeder: LineFeeder, fd: number): number {
  for (;;) {
    const { at, max } = feeder.space();
    const n = readSync(fd, feeder.view, at, max, null);
    if (n === 0) break;
    feeder.push(n);
  }
  return feeder.finish();
}

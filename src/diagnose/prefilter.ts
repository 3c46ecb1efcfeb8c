import {
  ARENA,
  ARENA_SIZE,
  BITMAP,
  fingerprintHash,
  HI,
  INPUT,
  INPUT_CAPACITY,
  kernel,
  LO,
  MASKS,
  PAD,
  SHIFT,
  SLOT_COUNT,
  SLOT_LIMIT,
  SLOTS,
  STATE,
  STEP,
} from './kernel.js';
import { instantiate, type WasmMemory } from './wasm.js';

/**
 * The first level of the matcher: one pass over each chunk's raw bytes that counts its lines and hands on
 * only the lines that may hold an anchor (a literal some signature needs, src/diagnose/anchors.ts), each
 * distinct line once. Everything else in a log is never decoded.
 *
 * How (a WebAssembly SIMD kernel, written in the WebAssembly text format in kernel.ts):
 * - Every anchor gets a fingerprint: 8 bytes of it (4 or 1 for short anchors) starting at a byte of a small
 *   start set R, chosen to be rare in logs (planPrefilter).
 * - The kernel reads 16 bytes at a time: one compare finds the newlines (counted), two table lookups
 *   (nibble masks) find the bytes of R. At each byte of R it hashes the fingerprint-long word there and
 *   tests the hash in a bitmap of the fingerprints' hashes. A line holding an anchor holds its fingerprint,
 *   so it always passes; a line that passes without an anchor is dropped by the exact second level.
 * - A passing line is looked up in a table of the lines already handed on (hash, length, bytes). A repeat
 *   is only counted there; a new line stops the kernel and goes to the caller, which decides whether it is
 *   kept in the table. So a log that repeats a message costs one decode and one regex run per distinct line.
 */

/**
 * Printable ASCII from the most to the least frequent in GPU passthrough logs, and the share of each in
 * 1/10000 of all bytes (dmesg, journal, lspci, bhyve and vm-bhyve logs: the byte counts of the project
 * corpus). The start set is chosen to be rare by these numbers.
 */
const BYTE_ORDER =
  ' 0e-iroatn:sd1l.fm2pcu3,vb4=gI/SC8A6MPRED5h9x[]NTV7yGUFBk_()wLH|O+X>z<\\#*KQY"WJ@\'q!$~`Zj%&;?{}^';
const BYTE_SHARE = [
  1801, 647, 444, 407, 309, 300, 285, 273, 266, 236, 233, 208, 193, 171, 158, 152, 152, 151, 147, 142, 136,
  128, 110, 109, 95, 95, 93, 92, 90, 89, 88, 85, 84, 82, 81, 81, 80, 80, 73, 70, 66, 65, 64, 63, 63, 62, 62,
  60, 54, 53, 53, 42, 41, 40, 38, 36, 33, 30, 29, 29, 25, 24, 23, 22, 21, 21, 16, 13, 13, 12, 12, 10, 9, 8, 8,
  8, 6, 6, 5, 5, 5, 5, 5, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1,
];

const SHARE = Float64Array.from({ length: 256 }, (_, byte) => {
  const rank = byte < 128 ? BYTE_ORDER.indexOf(String.fromCharCode(byte)) : -1;
  return rank < 0 ? 1e-5 : (BYTE_SHARE[rank] as number) / 10000;
});

/** Estimated share of a byte among log bytes (control and non-ASCII bytes: very rare). */
export function byteShare(byte: number): number {
  return SHARE[byte] as number;
}

export interface Fingerprint {
  /** The anchor it stands for. */
  anchor: string;
  /** Where the fingerprint starts in the anchor's bytes. */
  at: number;
  /** Its bytes: 8 (or 4 or 1) bytes of the anchor, starting at a byte of the start set. */
  bytes: Buffer;
  /** Its index in the kernel's bitmap (fingerprintHash). */
  hash: number;
}

export interface PrefilterPlan {
  /** The start set R. */
  starts: number[];
  /** Fingerprint length by start byte (all fingerprints that start with a byte have the same length). */
  lengths: Map<number, number>;
  fingerprints: Fingerprint[];
}

interface Option {
  at: number;
  length: number;
}

/** Where an anchor's fingerprint may start: 8 bytes where it has them, else 4, else 1 (anchors under 4). */
function optionsOf(anchor: string, bytes: Buffer): Option[] {
  if (bytes.length === 0) throw new Error('an anchor is empty');
  if (bytes.includes(10)) throw new Error(`anchor ${JSON.stringify(anchor)} holds a newline`);
  const out: Option[] = [];
  const min = bytes.length >= 4 ? 4 : 1;
  for (let at = 0; at + min <= bytes.length; at++) {
    if ((bytes[at] as number) >= 128) continue;
    out.push({ at, length: at + 8 <= bytes.length ? 8 : min });
  }
  if (out.length === 0) throw new Error(`anchor ${JSON.stringify(anchor)} has no ASCII byte to start from`);
  return out;
}

const LOG_SHARE = Float64Array.from({ length: 256 }, (_, b) => Math.log(byteShare(b)));

/** Sum of log shares of the bytes: lower is rarer. */
function rarity(bytes: Buffer, at: number, length: number): number {
  let score = 0;
  for (let k = 0; k < length; k++) score += LOG_SHARE[bytes[at + k] as number] as number;
  return score;
}

/**
 * A start set holding a member of every set in `needs`: greedily by the byte that serves most of the
 * sets left per share of log bytes (a weighted set cover), then dropping bytes the others make redundant,
 * most frequent first.
 */
function cover(needs: Set<number>[]): Set<number> {
  const starts = new Set<number>();
  let open = needs;
  while (open.length > 0) {
    const gain = new Map<number, number>();
    for (const set of open) for (const b of set) gain.set(b, (gain.get(b) ?? 0) + 1);
    let pick = -1;
    let pickScore = -1;
    for (const [b, g] of gain) {
      const score = g / byteShare(b);
      if (score > pickScore || (score === pickScore && b < pick)) {
        pick = b;
        pickScore = score;
      }
    }
    starts.add(pick);
    open = open.filter((set) => !set.has(pick));
  }
  for (const b of [...starts].sort((x, y) => byteShare(y) - byteShare(x) || x - y)) {
    starts.delete(b);
    if (needs.some((set) => ![...set].some((x) => starts.has(x)))) starts.add(b);
  }
  return starts;
}

/**
 * Choose the start set, the fingerprint length of each start byte and one fingerprint per anchor.
 * - The start set must hold a start byte of every anchor (one with 8 bytes after it, where the anchor is
 *   long enough). It is grown greedily by the byte that serves most
 *   of the anchors left per share of log bytes (a weighted set cover), then bytes that the others make
 *   redundant are dropped, most frequent first: the kernel stops on few positions.
 * - A start byte's fingerprints are 8 bytes long, unless an anchor that has no 8-byte option needs it (then
 *   4, or 1): such an anchor takes the start byte already shortened, else the one fewest anchors need.
 * - Each anchor then takes its longest fingerprint (as long as its start byte's length), of the rarest
 *   bytes.
 */
export function planPrefilter(anchors: string[]): PrefilterPlan {
  const encoded = [...new Set(anchors)].map((anchor) => {
    const bytes = Buffer.from(anchor, 'utf8');
    return { anchor, bytes, options: optionsOf(anchor, bytes) };
  });
  // Anchors of 8 bytes or more are covered by their 8-byte options only.
  const startBytes = encoded.map(({ bytes, options }) => {
    const longest = Math.max(...options.map((o) => o.length));
    return new Set(options.filter((o) => o.length === longest).map((o) => bytes[o.at] as number));
  });
  const starts = cover(startBytes);
  const usable = encoded.map(({ bytes, options }) =>
    options.filter((o) => starts.has(bytes[o.at] as number)),
  );
  const lengths = new Map([...starts].map((b) => [b, 8]));
  const needs = new Map<number, number>();
  for (const [i, { bytes }] of encoded.entries())
    for (const b of new Set((usable[i] as Option[]).map((o) => bytes[o.at] as number)))
      needs.set(b, (needs.get(b) ?? 0) + 1);
  for (const [i, { bytes }] of encoded.entries()) {
    const options = usable[i] as Option[];
    if (options.some((o) => o.length === 8)) continue;
    const length = Math.max(...options.map((o) => o.length));
    const fits = options.filter((o) => o.length === length);
    const shortened = fits.find((o) => (lengths.get(bytes[o.at] as number) as number) <= length);
    const chosen =
      shortened ??
      [...fits].sort(
        (x, y) => (needs.get(bytes[x.at] as number) ?? 0) - (needs.get(bytes[y.at] as number) ?? 0),
      )[0];
    const b = bytes[(chosen as Option).at] as number;
    lengths.set(b, Math.min(lengths.get(b) as number, length));
  }
  const fingerprints = encoded.map(({ anchor, bytes }, i) => {
    let best: Option | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const o of usable[i] as Option[]) {
      // the kernel hashes as many bytes as the start byte's length: the option must have them
      const length = lengths.get(bytes[o.at] as number) as number;
      if (o.length < length) continue;
      const score = rarity(bytes, o.at, length);
      if (best === undefined || length > best.length || (length === best.length && score < bestScore)) {
        best = { at: o.at, length };
        bestScore = score;
      }
    }
    const o = best as Option;
    const fingerprint = Buffer.from(bytes.subarray(o.at, o.at + o.length));
    return { anchor, at: o.at, bytes: fingerprint, hash: fingerprintHash(fingerprint) };
  });
  return { starts: [...starts].sort((a, b) => a - b), lengths, fingerprints };
}

/** What the caller does with the candidate lines. */
export interface LineSink<T> {
  /**
   * A candidate line not seen before (buffer offsets; lineIndex counts newlines from the scan's start).
   * Returns what to remember for its repeats, or undefined to have each repeat handed on again.
   */
  line(start: number, end: number, lineIndex: number): T | undefined;
  /** `count` more lines identical to a remembered one. */
  repeats(entry: T, count: number): void;
}

const PLANS = new WeakMap<string[], PrefilterPlan>();
const FINDERS = new WeakMap<string[], AnchorFinder>();

/** The kernel with its tables for one anchor set, and its table of seen lines. */
export class Prefilter<T> {
  readonly plan: PrefilterPlan;
  /** The exact second level over the same fingerprints (see AnchorFinder). */
  readonly finder: AnchorFinder;
  private readonly memory: WasmMemory;
  private readonly scanFn: (end: number) => number;
  private readonly mem: Uint8Array;
  private readonly state: Uint32Array;
  /** Remembered entries by slot, and the slots in use. */
  private readonly kept: (T | undefined)[] = new Array(SLOT_COUNT);
  private readonly used: number[] = [];
  /** The slots as words: hash, length, arena address, repeats. */
  private readonly slots: Uint32Array;
  private arenaUsed = 0;
  private readonly tail = new Uint8Array(PAD);

  /** `anchors` is kept as the key of the plan made for it: pass the same array to reuse the plan. */
  constructor(anchors: string[]) {
    let plan = PLANS.get(anchors);
    if (plan === undefined) {
      plan = planPrefilter(anchors);
      PLANS.set(anchors, plan);
    }
    this.plan = plan;
    let finder = FINDERS.get(anchors);
    if (finder === undefined) {
      finder = new AnchorFinder(plan, anchors);
      FINDERS.set(anchors, finder);
    }
    this.finder = finder;
    const exports = instantiate(kernel());
    this.memory = exports.memory as WasmMemory;
    this.scanFn = exports.scan as (end: number) => number;
    this.mem = new Uint8Array(this.memory.buffer);
    this.state = new Uint32Array(this.memory.buffer, STATE, 9);
    this.slots = new Uint32Array(this.memory.buffer, SLOTS, SLOT_COUNT * 4);
    const mem = this.mem;
    for (const b of this.plan.starts) {
      mem[LO + (b & 15)] = (mem[LO + (b & 15)] as number) | (1 << (b >> 4));
      mem[HI + (b >> 4)] = 1 << (b >> 4);
    }
    for (const [b, length] of this.plan.lengths) mem[SHIFT + b] = 64 - 8 * length;
    for (let n = 0; n <= 16; n++) mem.fill(0xff, MASKS + 16 * n, MASKS + 16 * n + n);
    for (const { hash: h } of this.plan.fingerprints) {
      mem[BITMAP + (h >> 3)] = (mem[BITMAP + (h >> 3)] as number) | (1 << (h & 7));
    }
  }

  /** The input area, INPUT_CAPACITY bytes: fill it and call scanInput, without copying. */
  input(): Buffer {
    return Buffer.from(this.memory.buffer, INPUT, INPUT_CAPACITY);
  }

  /**
   * Scan input()[start..len) (whole lines; the last may lack its newline): new candidate lines go to
   * sink.line in order (offsets into input()), repeats of remembered ones are counted (see flush). Returns
   * the newlines.
   */
  scanInput(len: number, sink: LineSink<T>, before = 0, start = 0): number {
    if (len > INPUT_CAPACITY) throw new RangeError(`scanInput: ${len} bytes exceed the input area`);
    const state = this.state;
    state[2] = 0;
    // In steps that end at a newline (a run's first calls are short: see STEP).
    for (let from = start; from < len; ) {
      let to = len;
      if (len - from > STEP) {
        const nl = this.mem.lastIndexOf(10, INPUT + from + STEP - 1);
        if (nl >= INPUT + from) to = nl + 1 - INPUT;
      }
      this.step(from, to, sink, before);
      from = to;
    }
    return state[2] as number;
  }

  /** Run the kernel over input()[from..to), whole lines, counting on from the newlines before. */
  private step(from: number, to: number, sink: LineSink<T>, before: number): void {
    const state = this.state;
    // The kernel reads a little past the end: zeros there, and what was there put back after.
    const tail = this.tail;
    tail.set(this.mem.subarray(INPUT + to, INPUT + to + PAD));
    this.mem.fill(0, INPUT + to, INPUT + to + PAD);
    state[0] = INPUT + from;
    state[1] = INPUT + from;
    while (this.scanFn(INPUT + to) === 1) {
      const ls = state[3] as number;
      const le = state[4] as number;
      const entry = sink.line(ls - INPUT, le - INPUT, before + (state[5] as number));
      const slot = state[7] as number;
      if (entry !== undefined && slot !== 0xffffffff)
        this.keep(entry, slot, state[6] as number, state[8] as number, le, sink);
    }
    this.mem.set(tail, INPUT + to);
  }

  /**
   * Scan buf[start..end) by copying it into the input area, in windows that end at a newline where one
   * is (a line longer than the input area is scanned in pieces). Offsets given to the sink are into
   * input(). Returns the newlines.
   */
  scan(buf: Uint8Array, start: number, end: number, sink: LineSink<T>): number {
    let newlines = 0;
    let from = start;
    while (from < end) {
      let to = end;
      if (to - from > INPUT_CAPACITY) {
        const nl = buf.lastIndexOf(10, from + INPUT_CAPACITY - 1);
        to = nl >= from ? nl + 1 : from + INPUT_CAPACITY;
      }
      this.mem.set(buf.subarray(from, to), INPUT);
      newlines += this.scanInput(to - from, sink, newlines);
      from = to;
    }
    return newlines;
  }

  private keep(entry: T, slot: number, hash: number, start: number, end: number, sink: LineSink<T>): void {
    const len = end - start;
    let at = slot;
    if (this.used.length >= SLOT_LIMIT || this.arenaUsed + len + 8 > ARENA_SIZE) {
      this.flush(sink);
      this.mem.fill(0, SLOTS, SLOTS + SLOT_COUNT * 16);
      for (const u of this.used) this.kept[u] = undefined;
      this.used.length = 0;
      this.arenaUsed = 0;
      at = hash & (SLOT_COUNT - 1);
    }
    const words = this.slots;
    words[at * 4] = hash;
    words[at * 4 + 1] = len;
    words[at * 4 + 2] = ARENA + this.arenaUsed;
    words[at * 4 + 3] = 0;
    this.mem.copyWithin(ARENA + this.arenaUsed, start, end);
    this.arenaUsed += (len + 7) & ~7;
    this.kept[at] = entry;
    this.used.push(at);
  }

  /** Hand the repeats counted since the last flush to the sink. */
  flush(sink: LineSink<T>): void {
    const counts = this.slots;
    for (const slot of this.used) {
      const n = counts[slot * 4 + 3] as number;
      if (n > 0) {
        sink.repeats(this.kept[slot] as T, n);
        counts[slot * 4 + 3] = 0;
      }
    }
  }
}

/** A 32-bit hash of buf[at..at+length) (FNV-1a), for the exact second level. */
function bytesKey(buf: Uint8Array, at: number, length: number): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < length; k++) h = Math.imul(h ^ (buf[at + k] as number), 0x01000193);
  return h >>> 0;
}

/**
 * The exact second level: which anchors a line holds, found through the same fingerprints (every anchor
 * holds its fingerprint at a known offset): at each start byte of the line, the fingerprint-long bytes
 * there name the fingerprints to check, and each is confirmed by comparing its whole anchor in place.
 */
export class AnchorFinder {
  private readonly lengths = new Uint8Array(256);
  /** Fingerprints' first two bytes (one byte: all pairs), a cheap test before the hash. */
  private readonly pairs = new Uint8Array(65536);
  private readonly index = new Map<number, { at: number; bytes: Buffer; anchor: number }[]>();

  /** `anchors` in the order the caller numbers them. */
  constructor(plan: PrefilterPlan, anchors: string[]) {
    for (const [b, length] of plan.lengths) this.lengths[b] = length;
    const number = new Map(anchors.map((a, i) => [a, i]));
    for (const fp of plan.fingerprints) {
      const first = fp.bytes[0] as number;
      if (fp.bytes.length === 1) for (let b = 0; b < 256; b++) this.pairs[first | (b << 8)] = 1;
      else this.pairs[first | ((fp.bytes[1] as number) << 8)] = 1;
      const key = bytesKey(fp.bytes, 0, fp.bytes.length);
      const list = this.index.get(key) ?? [];
      list.push({
        at: fp.at,
        bytes: Buffer.from(fp.anchor, 'utf8'),
        anchor: number.get(fp.anchor) as number,
      });
      this.index.set(key, list);
    }
  }

  /** Calls found(anchor number) for each anchor occurrence in buf[start..end) (an anchor may repeat). */
  find(buf: Buffer, start: number, end: number, found: (anchor: number) => void): void {
    const { lengths, pairs } = this;
    for (let q = start; q < end; q++) {
      const first = buf[q] as number;
      const length = lengths[first] as number;
      if (length === 0 || q + length > end || pairs[first | ((buf[q + 1] ?? 0) << 8)] === 0) continue;
      const list = this.index.get(bytesKey(buf, q, length));
      if (list === undefined) continue;
      for (const c of list) {
        const from = q - c.at;
        const bytes = c.bytes;
        if (from < start || from + bytes.length > end) continue;
        let k = 0;
        while (k < bytes.length && buf[from + k] === bytes[k]) k++;
        if (k === bytes.length) found(c.anchor);
      }
    }
  }
}

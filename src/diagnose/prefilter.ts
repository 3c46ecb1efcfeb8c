import {
  ARENA,
  ARENA_SIZE,
  BITMAP,
  fingerprintHash,
  INPUT,
  INPUT_CAPACITY,
  type KernelShape,
  kernel,
  MASKS,
  MAX_LENGTHS,
  PAD,
  SLOT_COUNT,
  SLOT_LIMIT,
  SLOTS,
  SPLATS,
  STATE,
  STEP,
  TABLES,
  WINDOW,
} from './kernel.js';
import { compile, instantiate, type WasmMemory, type WasmModule } from './wasm.js';

/**
 * The first level of the matcher: one pass over each chunk's raw bytes that counts its lines and hands on
 * only the lines that may hold an anchor (a literal some signature needs, src/diagnose/anchors.ts), each
 * distinct line once. Everything else in a log is never decoded.
 *
 * How (a WebAssembly SIMD kernel, written in the WebAssembly text format in kernel.ts):
 * - Every anchor gets a fingerprint: 8 bytes of it (4, or the whole anchor, for short anchors), whose first
 *   WINDOW (3) bytes, its window, go into one of 8 buckets (planPrefilter). A bucket allows, per window
 *   byte, the high nibbles and the low nibbles its windows have there.
 * - The kernel's find reads 16 bytes at a time: one compare finds the newlines (counted), six table
 *   lookups (a low- and a high-nibble table per window byte, each entry the buckets that allow it) give
 *   at each of the 16 positions the buckets whose window fits the 3 bytes there; in a log, about 3
 *   positions in 100. At each of them it hashes the fingerprint-long word there and tests the hash in a
 *   bitmap of the fingerprints' hashes. A line holding an anchor holds its fingerprint, so it always
 *   passes; a line that passes without an anchor is dropped by the exact second level.
 * - A passing line is looked up in a table of the lines already handed on (hash, length, bytes). A repeat
 *   is only counted there; a new line stops the kernel and goes to the caller, which decides whether it is
 *   kept in the table. So a log that repeats a message costs one decode and one regex run per distinct line.
 */

/**
 * Printable ASCII from the most to the least frequent in GPU passthrough logs, and the share of each in
 * 1/10000 of all bytes (dmesg, journal, lspci, bhyve and vm-bhyve logs: the byte counts of the project
 * corpus). The buckets' windows are chosen to be rare by these numbers.
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
  /** Its bytes: 8 bytes of the anchor (4 for anchors of 4 to 7 bytes, the whole of a shorter one). */
  bytes: Buffer;
  /** Its index in the kernel's bitmap (fingerprintHash). */
  hash: number;
  /** The bucket its first WINDOW bytes are in. */
  bucket: number;
}

export interface PrefilterPlan {
  /**
   * The kernel's window tables (TABLES): for window byte j, at 32 * j a table by low nibble and at
   * 32 * j + 16 a table by high nibble, each entry the buckets (bits) that allow that nibble there.
   */
  tables: Uint8Array;
  /** The fingerprint lengths in use, longest first. */
  lengths: number[];
  fingerprints: Fingerprint[];
}

/** Buckets of the window test: one bit each in the kernel's tables. */
const BUCKETS = 8;

/**
 * ROW_SHARE[(h * 2 + half) * 256 + m]: the share of the bytes with high nibble h and a low nibble in m,
 * where m is the low (half 0) or high (half 1) byte of a 16-bit mask of low nibbles.
 */
const ROW_SHARE = (() => {
  const rows = new Float64Array(16 * 2 * 256);
  for (let h = 0; h < 16; h++)
    for (let half = 0; half < 2; half++)
      for (let m = 0; m < 256; m++) {
        let share = 0;
        for (let l = 0; l < 8; l++) if ((m >> l) & 1) share += SHARE[h * 16 + half * 8 + l] as number;
        rows[(h * 2 + half) * 256 + m] = share;
      }
  return rows;
})();

/** Share of log bytes whose high nibble is in `hi` and low nibble in `lo` (masks of 16 bits). */
function boxShare(hi: number, lo: number): number {
  let share = 0;
  for (let h = 0; h < 16; h++)
    if ((hi >> h) & 1)
      share += (ROW_SHARE[h * 512 + (lo & 255)] as number) + (ROW_SHARE[h * 512 + 256 + (lo >> 8)] as number);
  return share;
}

/** Where an anchor's fingerprint may start, and its length: 8 bytes where it has them, else 4, else all. */
function optionsOf(anchor: string, bytes: Buffer): { starts: number[]; length: number } {
  if (bytes.length === 0) throw new Error('an anchor is empty');
  if (bytes.includes(10)) throw new Error(`anchor ${JSON.stringify(anchor)} holds a newline`);
  const length = bytes.length >= 8 ? 8 : Math.min(4, bytes.length);
  return { starts: Array.from({ length: bytes.length - length + 1 }, (_, at) => at), length };
}

/**
 * Choose each anchor's fingerprint and bucket (how the kernel's first test finds them):
 * - A fingerprint is 8 bytes of its anchor (4, or the whole anchor, for shorter ones); its first WINDOW
 *   bytes are its window, and each bucket allows, per window byte, the nibbles its windows have there (a
 *   box: high nibbles x low nibbles). The kernel stops where the bytes fit some bucket's box.
 * - Anchors are placed one at a time, those with fewest choices first, each at the start and in the bucket
 *   that grow the estimated share of log positions the buckets let through the least (byte shares from
 *   BYTE_SHARE, the window bytes taken as independent).
 */
export function planPrefilter(anchors: string[]): PrefilterPlan {
  const encoded = [...new Set(anchors)].map((anchor) => {
    const bytes = Buffer.from(anchor, 'utf8');
    return { anchor, bytes, ...optionsOf(anchor, bytes) };
  });
  // The buckets' boxes: per bucket and window byte, the high and the low nibbles allowed (bit n: nibble n).
  const his = new Uint16Array(BUCKETS * WINDOW);
  const los = new Uint16Array(BUCKETS * WINDOW);
  const costs = new Float64Array(BUCKETS);
  const order = encoded.map((_, i) => i);
  order.sort(
    (x, y) => (encoded[x]?.starts.length as number) - (encoded[y]?.starts.length as number) || x - y,
  );
  const chosen = new Array<{ at: number; bucket: number }>(encoded.length);
  for (const i of order) {
    const { bytes, starts, length } = encoded[i] as (typeof encoded)[number];
    const width = Math.min(WINDOW, length);
    let best = { at: 0, bucket: 0, cost: 0 };
    let bestDelta = Number.POSITIVE_INFINITY;
    search: for (const at of starts)
      for (let k = 0; k < BUCKETS; k++) {
        // the bucket's estimated share of positions once this window is in it (a short window allows
        // anything after it)
        let cost = 1;
        for (let j = 0; j < WINDOW; j++) {
          const b = bytes[at + j] as number;
          const hi = j < width ? (his[k * WINDOW + j] as number) | (1 << (b >> 4)) : 0xffff;
          const lo = j < width ? (los[k * WINDOW + j] as number) | (1 << (b & 15)) : 0xffff;
          cost *= boxShare(hi, lo);
        }
        const delta = cost - (costs[k] as number);
        if (delta < bestDelta) {
          bestDelta = delta;
          best = { at, bucket: k, cost };
          if (delta <= 0) break search; // fits a box as it is
        }
      }
    const k = best.bucket;
    for (let j = 0; j < WINDOW; j++) {
      const b = bytes[best.at + j] as number;
      his[k * WINDOW + j] = j < width ? (his[k * WINDOW + j] as number) | (1 << (b >> 4)) : 0xffff;
      los[k * WINDOW + j] = j < width ? (los[k * WINDOW + j] as number) | (1 << (b & 15)) : 0xffff;
    }
    costs[k] = best.cost;
    chosen[i] = { at: best.at, bucket: k };
  }
  const tables = new Uint8Array(WINDOW * 32);
  for (let k = 0; k < BUCKETS; k++)
    for (let j = 0; j < WINDOW; j++)
      for (let n = 0; n < 16; n++) {
        if (((los[k * WINDOW + j] as number) >> n) & 1)
          tables[32 * j + n] = (tables[32 * j + n] as number) | (1 << k);
        if (((his[k * WINDOW + j] as number) >> n) & 1)
          tables[32 * j + 16 + n] = (tables[32 * j + 16 + n] as number) | (1 << k);
      }
  const fingerprints = encoded.map(({ anchor, bytes, length }, i) => {
    const { at, bucket } = chosen[i] as { at: number; bucket: number };
    const fingerprint = Buffer.from(bytes.subarray(at, at + length));
    return { anchor, at, bytes: fingerprint, hash: fingerprintHash(fingerprint), bucket };
  });
  const lengths = [...new Set(fingerprints.map((f) => f.bytes.length))].sort((a, b) => b - a);
  if (lengths.length > MAX_LENGTHS) throw new Error('too many fingerprint lengths');
  return { tables, lengths, fingerprints };
}

/** What the kernel is assembled for: the plan's fingerprint lengths, and per length the buckets holding it. */
export function kernelShape(plan: PrefilterPlan): KernelShape {
  return {
    lengths: plan.lengths,
    buckets: plan.lengths.map((length) =>
      plan.fingerprints.reduce((m, f) => (f.bytes.length === length ? m | (1 << f.bucket) : m), 0),
    ),
  };
}

/** What the caller does with the candidate lines. */
export interface LineSink<T> {
  /**
   * A candidate line not seen before (buffer offsets; lineIndex counts newlines from the scan's start).
   * Returns what to remember for its repeats, or undefined to have each repeat handed on again. `key`:
   * where its key starts (after a timestamp: lines with equal keys say the same); `hash`: the kernel's
   * hash of the key, never 0, or 0 for a line too long to be kept.
   */
  line(start: number, end: number, lineIndex: number, key: number, hash: number): T | undefined;
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

  /** The compiled kernel module (a scan thread instantiates the same one). */
  readonly module: WasmModule;

  /**
   * `anchors` is kept as the key of the plan made for it: pass the same array to reuse the plan. `bytes`:
   * the kernel module for the plan's shape (by default kernel(kernelShape(plan)); tests pass the
   * one built without relaxed SIMD), or the module already compiled.
   * A scan thread passes the plan and the module it was given, so nothing is planned or compiled twice.
   */
  constructor(anchors: string[], bytes?: Uint8Array | WasmModule, given?: PrefilterPlan) {
    let plan = given ?? PLANS.get(anchors);
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
    const code = bytes ?? kernel(kernelShape(plan));
    this.module = code instanceof Uint8Array ? compile(code) : code;
    const exports = instantiate(this.module);
    this.memory = exports.memory as WasmMemory;
    this.scanFn = exports.scan as (end: number) => number;
    this.mem = new Uint8Array(this.memory.buffer);
    this.state = new Uint32Array(this.memory.buffer, STATE, 11);
    this.slots = new Uint32Array(this.memory.buffer, SLOTS, SLOT_COUNT * 4);
    const mem = this.mem;
    mem.set(this.plan.tables, TABLES);
    for (let n = 0; n <= 16; n++) mem.fill(0xff, MASKS + 16 * n, MASKS + 16 * n + n);
    mem.fill(10, SPLATS, SPLATS + 16);
    mem.fill(15, SPLATS + 16, SPLATS + 32);
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
      const slot = state[7] as number;
      const entry = sink.line(
        ls - INPUT,
        le - INPUT,
        before + (state[5] as number),
        (state[8] as number) - INPUT,
        slot === 0xffffffff ? 0 : (state[6] as number),
      );
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
      this.reset(sink);
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

  /** Flush, then forget the lines seen: the next scan hands on every distinct line again. */
  reset(sink: LineSink<T>): void {
    this.flush(sink);
    this.mem.fill(0, SLOTS, SLOTS + SLOT_COUNT * 16);
    for (const u of this.used) this.kept[u] = undefined;
    this.used.length = 0;
    this.arenaUsed = 0;
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
  private readonly lengths: number[];
  /** Fingerprints' first two bytes (one byte: all pairs), a cheap test before the hash. */
  private readonly pairs = new Uint8Array(65536);
  private readonly index = new Map<number, { at: number; bytes: Buffer; anchor: number }[]>();

  /** `anchors` in the order the caller numbers them. */
  constructor(plan: PrefilterPlan, anchors: string[]) {
    this.lengths = plan.lengths;
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
      if (pairs[(buf[q] as number) | ((q + 1 < end ? (buf[q + 1] as number) : 0) << 8)] === 0) continue;
      for (const length of lengths) {
        if (q + length > end) continue;
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
}

import { readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fromSources, workerModule } from '../assets.js';
import { ENV_LINES, LineEvaluator, type LineResult, MAX_TEXT, Recent } from './evaluate.js';
import { feedRange, LineFeeder } from './feed.js';
import { type LineSink, Prefilter, type PrefilterPlan } from './prefilter.js';
import type { WasmModule } from './wasm.js';

/**
 * A large regular file is scanned by two threads (docs/knowledge-base.md, "Speed"): it is cut into chunks
 * at line starts; the main thread takes chunks from the front and scans them as one input, the scan
 * thread (scan-worker.ts) takes them from the back. Each chunk is one thread's alone (an atomic word holds
 * how far each end has got), so when they meet the file is covered once. The scan thread reports, per
 * chunk, only its line count and the lines that matched (with their line in the chunk and how often they
 * repeat); the main thread replays those after its own chunks, in file order, so the report is the one a
 * single thread makes. The scan thread starts while the knowledge base loads; if it is late, the main
 * thread simply takes more chunks, and if it fails, the main thread scans what it had taken. The file is
 * read as large as it was when opened (a log that grows meanwhile: its new lines are left for next time).
 */

/** Files this large or larger are scanned by two threads (a smaller one is done before a thread starts). */
export const PARALLEL_MIN = 64 << 20;
/** Chunk size: a few milliseconds of scanning, so that the last chunk taken is not waited for long. */
export const CHUNK = 8 << 20;
/** Chunks are counted in 16 bits (each end of the claim word). */
const MAX_CHUNKS = 0xffff;

/** What a scan thread needs to build the matcher's two levels: plain data, cloned to the thread. */
export interface ScanTables {
  anchors: string[];
  plan: PrefilterPlan;
  module: WasmModule;
  /** Per signature, its regexes' sources. */
  patterns: string[][];
  /** Per anchor, the signatures it stands for (numbers past the signatures: environment keywords). */
  owners: number[][];
}

/** A line of a chunk that matched signatures: `line` newlines come before it in the chunk. */
export interface ChunkRecord {
  line: number;
  sigs: number[];
  text: string;
  /** Lines after it in the chunk with the same key (the same bytes after a timestamp). */
  repeats: number;
}

/** An environment line of a chunk (a hypervisor or DMI line), in the chunk's first ENV_LINES. */
export interface ChunkEnvironment {
  platform: string;
  line: number;
  text: string;
}

/** What a scan thread reports for one chunk. */
export interface ChunkResult {
  index: number;
  /** Lines in the chunk (a last line without a newline counts). */
  lines: number;
  records: ChunkRecord[];
  environment: ChunkEnvironment[];
}

/** The chunking of one file: chunk k holds the lines that start in [k * size, (k + 1) * size). */
export interface ChunkPlan {
  fileSize: number;
  size: number;
  count: number;
}

export function planChunks(fileSize: number, chunk: number = CHUNK): ChunkPlan {
  const size = Math.max(chunk, Math.ceil(fileSize / MAX_CHUNKS));
  return { fileSize, size, count: Math.max(1, Math.ceil(fileSize / size)) };
}

/**
 * Where the first line that starts at or after `at` starts (a line starts at 0 or after a newline), or
 * the file's size when none does. Both threads find a chunk's bounds this way, so they agree on them.
 */
export function lineStartAt(fd: number, at: number, fileSize: number, scratch: Buffer): number {
  if (at <= 0) return 0;
  let pos = at - 1;
  while (pos < fileSize) {
    const n = readSync(fd, scratch, 0, Math.min(scratch.length, fileSize - pos), pos);
    if (n === 0) break;
    const nl = scratch.subarray(0, n).indexOf(10);
    if (nl >= 0) return pos + nl + 1;
    pos += n;
  }
  return fileSize;
}

/** The bytes [from, to) of chunk k. */
export function chunkBounds(
  fd: number,
  plan: ChunkPlan,
  k: number,
  scratch: Buffer,
): { from: number; to: number } {
  const edge = (j: number) =>
    j >= plan.count ? plan.fileSize : lineStartAt(fd, j * plan.size, plan.fileSize, scratch);
  return { from: edge(k), to: edge(k + 1) };
}

/**
 * The claim word: the next chunk from the front in its low 16 bits, the end of what is left (the chunk
 * after the last unclaimed one) in its high 16 bits. Claims are compare-and-swap loops, so each chunk
 * goes to exactly one thread.
 */
export function newClaims(count: number): Int32Array {
  const claims = new Int32Array(new SharedArrayBuffer(4));
  claims[0] = count << 16;
  return claims;
}

/** Take the next chunk from the front or the last one left (`back`); -1 when none is left. */
function claim(claims: Int32Array, back: boolean): number {
  for (;;) {
    const word = Atomics.load(claims, 0);
    const front = word & 0xffff;
    const end = word >>> 16;
    if (front >= end) return -1;
    const next = back ? ((end - 1) << 16) | front : (word & ~0xffff) | (front + 1);
    if (Atomics.compareExchange(claims, 0, word, next) === word) return back ? end - 1 : front;
  }
}

/** Take the next chunk from the front; -1 when none is left. */
export function claimFront(claims: Int32Array): number {
  return claim(claims, false);
}

/** Take the last chunk left; -1 when none is left. */
export function claimBack(claims: Int32Array): number {
  return claim(claims, true);
}

/** Where the front stopped once no chunk is left: chunks from there on were the scan thread's. */
export function claimedFront(claims: Int32Array): number {
  return Atomics.load(claims, 0) & 0xffff;
}

/** Keys kept per generation of KeyedResults. */
const KEYED = 4096;

/**
 * What lines said, by their key's bytes (the kernel's hash names the candidates): the scan thread forgets
 * the lines it has seen at each chunk, so that each chunk reports its own first lines, but a line met in
 * an earlier chunk is not evaluated again.
 */
class KeyedResults {
  private readonly known = new Recent<number, { key: Buffer; result: LineResult }>(KEYED);

  get(hash: number, buf: Buffer, key: number, end: number): LineResult | undefined {
    const known = this.known.get(hash);
    if (known === undefined || known.key.length !== end - key) return undefined;
    return buf.compare(known.key, 0, known.key.length, key, end) === 0 ? known.result : undefined;
  }

  set(hash: number, buf: Buffer, key: number, end: number, result: LineResult): void {
    this.known.set(hash, { key: Buffer.from(buf.subarray(key, end)), result });
  }
}

/** A chunk's matching lines, collected as the matcher would record them (its sink, in a scan thread). */
class ChunkRecorder implements LineSink<ChunkRecord> {
  readonly records: ChunkRecord[] = [];
  readonly environment: ChunkEnvironment[] = [];

  constructor(
    private readonly evaluator: LineEvaluator,
    private readonly known: KeyedResults,
    private readonly buf: Buffer,
  ) {}

  line(start: number, end: number, index: number, key: number, hash: number): ChunkRecord | undefined {
    let result = hash === 0 ? undefined : this.known.get(hash, this.buf, key, end);
    if (result === undefined) {
      result = this.evaluator.evaluate(this.buf, start, end);
      if (hash !== 0) this.known.set(hash, this.buf, key, end, result);
    }
    const record = { line: index, sigs: result.sigs, text: result.text, repeats: 0 };
    if (result.sigs.length > 0) this.records.push(record);
    if (result.env === undefined || this.environment.length >= ENV_LINES) return record;
    // the first environment lines are listed by line: until there are enough, each one comes again
    this.environment.push({ platform: result.env, line: index, text: result.text.slice(0, MAX_TEXT) });
    return undefined;
  }

  repeats(record: ChunkRecord, count: number): void {
    record.repeats += count;
  }
}

/** The scan thread's side: the two levels built from ScanTables, scanning one chunk at a time. */
export class ChunkScanner {
  private readonly prefilter: Prefilter<ChunkRecord>;
  private readonly evaluator: LineEvaluator;
  private readonly view: Buffer;
  private readonly scratch = Buffer.alloc(65536);
  private readonly known = new KeyedResults();

  constructor(tables: ScanTables) {
    // structured cloning turned the fingerprints' Buffers into Uint8Arrays
    const plan: PrefilterPlan = {
      ...tables.plan,
      fingerprints: tables.plan.fingerprints.map((f) => ({
        ...f,
        bytes: Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength),
      })),
    };
    this.prefilter = new Prefilter(tables.anchors, tables.module, plan);
    this.evaluator = new LineEvaluator(this.prefilter.finder, tables.patterns, tables.owners);
    this.view = this.prefilter.input();
  }

  /** Scan chunk k of the file open at fd (each distinct line of the chunk is evaluated once). */
  chunk(fd: number, plan: ChunkPlan, k: number): ChunkResult {
    const { from, to } = chunkBounds(fd, plan, k, this.scratch);
    const recorder = new ChunkRecorder(this.evaluator, this.known, this.view);
    const view = this.view;
    const feeder = new LineFeeder(
      view,
      (len, firstLine, start) =>
        firstLine +
        this.prefilter.scanInput(len, recorder, firstLine, start) +
        (len > start && view[len - 1] !== 10 ? 1 : 0),
      0,
    );
    const lines = feedRange(feeder, fd, from, to);
    this.prefilter.reset(recorder);
    return { index: k, lines, records: recorder.records, environment: recorder.environment };
  }
}

/** Messages to the scan thread. */
export type ToScanThread =
  | { type: 'setup'; tables: ScanTables }
  | { type: 'job'; job: number; fd: number; plan: ChunkPlan; claims: SharedArrayBuffer };

/** Messages from it. */
export type FromScanThread =
  | { type: 'chunk'; job: number; result: ChunkResult }
  | { type: 'failed'; message: string };

/** workerData.role of the scan thread: scan-worker's module starts serving only in such a thread. */
export const SCAN_WORKER = 'bhyve-gpu-scan';

/**
 * Start the scan thread on scan-worker's module (embedded in the bundle: see workerModule). From
 * the TypeScript sources (tests, under tsx) the thread registers tsx first: Node 20 does not give a
 * worker the parent's --import hooks.
 */
function spawn(): Worker {
  const workerData = { role: SCAN_WORKER };
  const entry = workerModule('diagnose/scan-worker');
  if (!fromSources()) return new Worker(entry, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((t) => t.register()).then(() => import(${JSON.stringify(entry.href)}))`;
  return new Worker(code, { eval: true, workerData });
}

/**
 * How many threads a scan may use: BHYVE_GPU_THREADS (1 or 2) when set, else two where there are two
 * cores or more. Run from the TypeScript sources (development, tests), one unless asked: there the scan
 * thread loads its own TypeScript loader, which costs it 300 ms and 40 MB.
 */
export function scanThreads(): number {
  const asked = Number(process.env.BHYVE_GPU_THREADS);
  if (Number.isInteger(asked) && asked >= 1) return Math.min(asked, 2);
  if (fromSources()) return 1;
  return Math.min(availableParallelism(), 2);
}

/** The main thread's handle on the scan thread. */
export class ScanThread {
  private readonly worker: Worker;
  private dead = false;
  private readonly results = new Map<number, ChunkResult>();
  /** The file offered last: results for one offered before are dropped. */
  private job = 0;
  private wake: (() => void) | undefined;

  /** `worker`: one already started on a scan thread's module (tests start the bundle's). */
  constructor(worker: Worker = spawn()) {
    this.worker = worker;
    this.worker.on('message', (m: FromScanThread) => {
      if (m.type === 'chunk' && m.job === this.job) this.results.set(m.result.index, m.result);
      else if (m.type === 'failed') this.dead = true;
      this.wake?.();
    });
    const stop = () => {
      this.dead = true;
      this.wake?.();
    };
    this.worker.on('error', stop);
    this.worker.on('exit', stop);
  }

  /** Give the thread the tables (once, before the first file). */
  setup(tables: ScanTables): void {
    this.post({ type: 'setup', tables });
  }

  /** Offer a file's chunks to the thread; the caller claims from the front with the returned word. */
  offer(fd: number, plan: ChunkPlan): Int32Array {
    const claims = newClaims(plan.count);
    this.job++;
    this.results.clear();
    this.post({ type: 'job', job: this.job, fd, plan, claims: claims.buffer as SharedArrayBuffer });
    return claims;
  }

  /**
   * Once the front has stopped: the thread's result for each chunk from `front` to the end, in order
   * (undefined for a chunk it took but could not finish: the caller scans that one itself).
   */
  async collect(front: number, count: number): Promise<(ChunkResult | undefined)[]> {
    const missing = () => {
      for (let k = front; k < count; k++) if (!this.results.has(k)) return true;
      return false;
    };
    while (!this.dead && missing()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
    const out: (ChunkResult | undefined)[] = [];
    for (let k = front; k < count; k++) out.push(this.results.get(k));
    this.results.clear();
    return out;
  }

  close(): void {
    this.dead = true;
    void this.worker.terminate();
  }

  private post(message: ToScanThread): void {
    if (this.dead) return;
    this.worker.postMessage(message);
  }
}

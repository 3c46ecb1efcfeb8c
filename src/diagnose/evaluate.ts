import { detectEnvironment } from './environment.js';
import type { AnchorFinder } from './prefilter.js';
import { stripPrefix } from './prefix.js';

/**
 * A line that is no log evidence: a `#` comment header (`# key: ...`, `# ---`, `#!`, a lone `#`), a `#`
 * line that starts with a link (`# https://...`), or a shell prompt with the command typed at it (`$ `,
 * `% `, `user@host:~$ `, `[user@host dir]# `). Other `# ` lines stay: collections of logs quote a
 * message (an issue's title) that way, and a kernel line such as `#PF: ...` starts with `#` too.
 */
export const NOT_LOG =
  /^[ \t]*(#[ \t]+([A-Za-z][A-Za-z0-9_-]*:([ \t]|$)|[a-z]+:\/\/|-{3,}[ \t]*$)|#[ \t]*$|#-{3,}|#!|\$ |% |[A-Za-z0-9._-]+@[A-Za-z0-9._-]+(:[^ ]*)? ?[$#%] |\[[^\]]*@[^\]]*\][$#] )/;

/** What a candidate line says: the signatures it matches, its text, the platform an environment line names. */
export interface LineResult {
  sigs: number[];
  text: string;
  env: string | undefined;
}

/** Characters kept of an evidence line's text. */
export const MAX_TEXT = 400;
/** Environment lines the report lists (the first ones, by line). */
export const ENV_LINES = 8;

export const NOTHING: LineResult = { sigs: [], text: '', env: undefined };
/** Texts whose signature matches are remembered (two generations of this many: memory stays bounded). */
const TEXT_CACHE = 4096;
const MAX_CACHED_TEXT = 1024;

/**
 * A map that keeps the last `size` to 2 * `size` entries set: two generations, the older dropped when the
 * newer is full, so memory stays bounded and what is used often stays.
 */
export class Recent<K, V> {
  private current = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(private readonly size: number) {}

  get(key: K): V | undefined {
    return this.current.get(key) ?? this.old.get(key);
  }

  set(key: K, value: V): void {
    if (this.current.size >= this.size) {
      this.old = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}

/**
 * The second level of the matcher, for one candidate line: the anchors it really holds (AnchorFinder) name
 * the signatures to try; only their regexes run, on the line decoded and without its prefix. Built from
 * plain data (the regexes, which signatures each anchor stands for), so a scan thread (scan-worker.ts)
 * builds the same one as the matcher.
 */
export class LineEvaluator {
  private readonly pending: number[] = [];
  private readonly marked: Uint8Array;
  private readonly texts = new Recent<string, LineResult>(TEXT_CACHE);

  private readonly regexes: (RegExp[] | undefined)[];

  /**
   * `patterns[i]`: signature i's regexes, or their sources (made into regexes when first needed: a scan
   * thread so skips parsing the hundreds it never runs); `owners[a]`: the signatures anchor a stands for
   * (numbers from patterns.length on are environment keywords).
   */
  constructor(
    private readonly finder: AnchorFinder,
    private readonly patterns: readonly (readonly (RegExp | string)[])[],
    private readonly owners: number[][],
  ) {
    this.regexes = patterns.map((list) =>
      list.every((p) => p instanceof RegExp) ? (list as RegExp[]) : undefined,
    );
    let top = patterns.length;
    for (const list of owners) for (const i of list) top = Math.max(top, i + 1);
    this.marked = new Uint8Array(top);
  }

  private regexesOf(i: number): RegExp[] {
    let list = this.regexes[i];
    if (list === undefined) {
      list = (this.patterns[i] ?? []).map((p) => (p instanceof RegExp ? p : new RegExp(p)));
      this.regexes[i] = list;
    }
    return list;
  }

  /** The signatures buf[start..stop) matches (and the platform it names). */
  evaluate(buf: Buffer, start: number, stop: number): LineResult {
    const pending = this.pending;
    const marked = this.marked;
    this.finder.find(buf, start, stop, (anchor) => {
      for (const sig of this.owners[anchor] as number[]) {
        if (marked[sig] === 0) {
          marked[sig] = 1;
          pending.push(sig);
        }
      }
    });
    if (pending.length === 0) return NOTHING;
    for (const i of pending) marked[i] = 0;
    const raw = buf.toString('utf8', start, stop);
    if (NOT_LOG.test(raw)) {
      pending.length = 0;
      return NOTHING;
    }
    const text = stripPrefix(raw);
    let result = this.texts.get(text);
    if (result === undefined) {
      const count = this.regexes.length;
      const sigs: number[] = [];
      let env: string | undefined;
      for (const i of pending) {
        if (i >= count) env ??= detectEnvironment(text);
        else if (this.regexesOf(i).some((r) => r.test(text))) sigs.push(i);
      }
      sigs.sort((a, b) => a - b);
      result = sigs.length === 0 && env === undefined ? NOTHING : { sigs, text, env };
      if (text.length <= MAX_CACHED_TEXT) this.texts.set(text, result);
    }
    pending.length = 0;
    return result;
  }
}

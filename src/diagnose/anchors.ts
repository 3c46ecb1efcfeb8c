/**
 * Required literals of a pattern: strings of which every line the pattern matches holds at least one. The
 * prefilter looks for them in the raw bytes, so a line holding none is never decoded nor tested.
 *
 * Patterns are in the subset JavaScript and POSIX ERE read alike (docs/knowledge-base.md): literals,
 * escaped metacharacters, `.`, `[...]` classes, groups with `|`, the quantifiers `* + ? {m,n}`, `^ $`.
 * The reading is conservative: whatever is not surely a literal ends a literal run, so a derived anchor
 * is always a substring of every match (a test checks this on every example line of the knowledge base).
 */

/** A pattern part: a literal run, something that breaks runs, or a group's alternatives. */
type Part = { lit: string } | { brk: true } | { group: Part[][]; optional: boolean; repeated: boolean };

const QUANTIFIER = /(\*|\+|\?|\{([0-9]*)(,[0-9]*)?\})\??/y;

class Reader {
  pos = 0;
  constructor(readonly src: string) {}

  /** Alternatives until `)` or the end. */
  alternatives(): Part[][] {
    const alts: Part[][] = [[]];
    while (this.pos < this.src.length) {
      const c = this.src[this.pos] as string;
      if (c === ')') break;
      if (c === '|') {
        this.pos++;
        alts.push([]);
        continue;
      }
      const parts = alts[alts.length - 1] as Part[];
      for (const part of this.atom()) {
        // consecutive literals as one run (fewer parts and string copies)
        const last = parts[parts.length - 1];
        if ('lit' in part && last !== undefined && 'lit' in last) last.lit += part.lit;
        else parts.push(part);
      }
    }
    return alts;
  }

  /** One atom with its quantifier, as parts. */
  private atom(): Part[] {
    const c = this.src[this.pos] as string;
    let base: Part;
    if (c === '(') {
      this.pos++;
      const group = this.alternatives();
      if (this.src[this.pos] !== ')') throw new Error(`unbalanced ( in ${this.src}`);
      this.pos++;
      base = { group, optional: false, repeated: false };
    } else if (c === '[') {
      this.skipClass();
      base = { brk: true };
    } else if (c === '\\') {
      const n = this.src[this.pos + 1];
      if (n === undefined) throw new Error(`trailing \\ in ${this.src}`);
      this.pos += 2;
      // \d, \n, \1 ...: not a literal of its own (and outside the portable subset anyway).
      base = /[0-9A-Za-z]/.test(n) ? { brk: true } : { lit: n };
    } else if (c === '.' || c === '^' || c === '$') {
      this.pos++;
      base = { brk: true };
    } else {
      this.pos++;
      base = { lit: c };
    }
    QUANTIFIER.lastIndex = this.pos;
    const q = QUANTIFIER.exec(this.src);
    if (!q) return [base];
    this.pos += q[0].length;
    const min = q[1] === '+' ? 1 : q[1] === '*' || q[1] === '?' ? 0 : Number(q[2] || '0');
    const once = q[1] !== '*' && q[1] !== '+' && q[3] === undefined && min <= 1;
    if ('group' in base) {
      base.optional = min === 0;
      base.repeated = !once;
      return [base];
    }
    // x* x? x{0,n}: not required. x+ x{n,}: required, but what follows is not next to it.
    if (min === 0) return [{ brk: true }];
    return once ? [base] : [base, { brk: true }];
  }

  private skipClass(): void {
    let i = this.pos + 1;
    if (this.src[i] === '^') i++;
    if (this.src[i] === ']') i++;
    while (i < this.src.length && this.src[i] !== ']') i += this.src[i] === '\\' ? 2 : 1;
    if (i >= this.src.length) throw new Error(`unbalanced [ in ${this.src}`);
    this.pos = i + 1;
  }
}

/** Upper bound on the literal sets a group's alternatives expand into (beyond it the group breaks runs). */
const MAX_EXPANSION = 16;

/**
 * For a sequence of parts: the set of strings one of which every match contains, chosen as the best
 * literal run (see score). Runs continue through a mandatory, non-repeated group by expanding its
 * alternatives (`(load|register) device` gives `load device`, `register device`).
 */
function bestSet(parts: Part[]): string[] | undefined {
  // Current runs: every match holds, at this point, one of these strings ending here.
  let runs: string[] = [''];
  let best: string[] | undefined;
  const close = () => {
    if (runs.every((r) => r.length > 0) && (best === undefined || score(runs) > score(best)))
      best = [...new Set(runs)];
    runs = [''];
  };
  for (const p of parts) {
    if ('lit' in p) runs = runs.map((r) => r + p.lit);
    else if ('brk' in p) close();
    else {
      // The group's own best set counts as a candidate wherever the group is mandatory.
      const inner = p.optional ? undefined : groupSet(p.group);
      const expansions = p.optional || p.repeated ? undefined : expand(p.group);
      if (expansions && expansions.length * runs.length <= MAX_EXPANSION)
        runs = runs.flatMap((r) => expansions.map((e) => r + e));
      else {
        close();
        if (inner && (best === undefined || score(inner) > score(best))) best = inner;
      }
    }
  }
  close();
  return best;
}

/** A group's required set: one from each alternative, or undefined when an alternative has none. */
function groupSet(alts: Part[][]): string[] | undefined {
  const out: string[] = [];
  for (const a of alts) {
    const s = bestSet(a);
    if (!s) return undefined;
    out.push(...s);
  }
  return [...new Set(out)];
}

/** The strings a group can match when every alternative is a plain literal (else undefined). */
function expand(alts: Part[][]): string[] | undefined {
  const out: string[] = [];
  for (const a of alts) {
    let s = '';
    for (const p of a) {
      if (!('lit' in p)) return undefined;
      s += p.lit;
    }
    out.push(s);
  }
  return out;
}

/** A set is as good as its weakest member: longer is rarer; fewer members is better at equal length. */
function score(set: string[]): number {
  const shortest = Math.min(...set.map((s) => Buffer.byteLength(s, 'utf8')));
  return shortest * 4 - set.length;
}

/** Anchors by pattern (the knowledge-base check and the matcher both ask). */
const DERIVED = new Map<string, string[] | undefined>();

/**
 * The anchors of one pattern: strings, one of which is in every line the pattern matches; undefined when
 * the pattern has no literal (the caller refuses such a pattern).
 */
export function patternAnchors(pattern: string): string[] | undefined {
  if (DERIVED.has(pattern)) return DERIVED.get(pattern);
  const r = new Reader(pattern);
  const alts = r.alternatives();
  if (r.pos !== pattern.length) throw new Error(`unbalanced ) in ${pattern}`);
  const set = groupSet(alts);
  DERIVED.set(pattern, set);
  return set;
}

/**
 * The anchors of a signature (the union over its patterns). Throws when a pattern has no literal that every
 * match holds (such a pattern would have to run on every line).
 */
export function signatureAnchors(id: string, patterns: string[]): string[] {
  const out = new Set<string>();
  for (const p of patterns) {
    const set = patternAnchors(p);
    if (!set) throw new Error(`${id}: pattern ${p} has no literal that every match holds`);
    for (const s of set) out.add(s);
  }
  return [...out];
}

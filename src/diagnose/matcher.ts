import { SCHEMA_VERSION } from '../version.js';
import { type Automaton, buildAutomaton } from './automaton.js';
import { decodeLine } from './decode.js';
import { loadKnowledgeBase } from './knowledge-base.js';
import { detectKind, stripPrefix } from './prefix.js';
import type { DiagnoseReport, Evidence, Finding, InputSummary, Severity, Signature } from './types.js';

/** Distinct evidence lines kept per finding; further lines only raise the counts. */
export const EVIDENCE_LIMIT = 5;
const MAX_TEXT = 400;
const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

interface Hit {
  evidence: Map<string, Evidence>;
  occurrences: number;
  decoded: Finding['decoded'];
}

/**
 * The matcher: an Aho-Corasick automaton over every signature keyword finds candidate lines in one pass
 * over the bytes; only those lines are decoded, stripped of their log prefix and tested against the
 * signatures whose keywords they contain.
 */
export class Matcher {
  readonly signatures: Signature[];
  private readonly regexes: RegExp[][];
  private readonly automaton: Automaton;
  private readonly hits = new Map<number, Hit>();
  private readonly inputs: InputSummary[] = [];
  private readonly pending: number[] = [];
  private readonly marked: Uint8Array;

  constructor(signatures: Signature[] = loadKnowledgeBase()) {
    this.signatures = signatures;
    this.regexes = signatures.map((s) => s.patterns.map((p) => new RegExp(p)));
    const byKeyword = new Map<string, number[]>();
    signatures.forEach((s, i) => {
      for (const k of s.keywords) byKeyword.set(k, [...(byKeyword.get(k) ?? []), i]);
    });
    this.automaton = buildAutomaton(byKeyword);
    this.marked = new Uint8Array(signatures.length);
  }

  /**
   * Scan buf[0..end) as complete lines (the last one may lack its newline); `firstLine` lines came
   * before. Returns the number of lines seen so far.
   */
  scan(file: string, buf: Buffer, end: number, firstLine: number): number {
    const { classes, classCount, table, outputs } = this.automaton;
    const pending = this.pending;
    const marked = this.marked;
    let line = firstLine;
    let lineStart = 0;
    let row = 0;
    for (let i = 0; i < end; i++) {
      const byte = buf[i] as number;
      if (byte === 10) {
        if (pending.length > 0) this.flush(file, line + 1, buf, lineStart, i);
        line++;
        lineStart = i + 1;
        row = 0;
        continue;
      }
      row = table[row + (classes[byte] as number)] as number;
      if (row < 0) {
        row = -row - 1;
        for (const sig of outputs[row / classCount] as number[]) {
          if (marked[sig] === 0) {
            marked[sig] = 1;
            pending.push(sig);
          }
        }
      }
    }
    if (lineStart < end) {
      if (pending.length > 0) this.flush(file, line + 1, buf, lineStart, end);
      line++;
    }
    return line;
  }

  private flush(file: string, line: number, buf: Buffer, start: number, stop: number): void {
    const text = stripPrefix(buf.toString('utf8', start, stop));
    for (const i of this.pending) {
      this.marked[i] = 0;
      if ((this.regexes[i] as RegExp[]).some((r) => r.test(text))) this.record(i, file, line, text);
    }
    this.pending.length = 0;
  }

  private record(i: number, file: string, line: number, text: string): void {
    let hit = this.hits.get(i);
    if (!hit) {
      hit = { evidence: new Map(), occurrences: 0, decoded: undefined };
      this.hits.set(i, hit);
    }
    hit.occurrences++;
    const key = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
    const seen = hit.evidence.get(key);
    if (seen) seen.count = (seen.count ?? 1) + 1;
    else if (hit.evidence.size < EVIDENCE_LIMIT) hit.evidence.set(key, { file, line, text: key });
    const decoder = (this.signatures[i] as Signature).decode;
    if (decoder !== undefined && hit.decoded === undefined) hit.decoded = decodeLine(decoder, text);
  }

  addInput(name: string, firstLines: string[], lines: number): void {
    this.inputs.push({ name, kind: detectKind(firstLines), lines });
  }

  /** The findings, ranked: root causes first (error > warning > info), then consequences. */
  report(): DiagnoseReport {
    const fired = new Set([...this.hits.keys()].map((i) => (this.signatures[i] as Signature).id));
    const ranked = [...this.hits.entries()].map(([i, hit]) => {
      const s = this.signatures[i] as Signature;
      const causedBy = s.consequenceOf.filter((c) => fired.has(c));
      const rootCause = s.rootCause && causedBy.length === 0;
      const finding: Finding = {
        id: s.id,
        severity: s.severity,
        title: s.title,
        rootCause,
        evidence: [...hit.evidence.values()],
        occurrences: hit.occurrences,
        explanation: s.explanation,
        fix: s.fix,
      };
      if (causedBy.length > 0) finding.causedBy = causedBy;
      if (hit.decoded) finding.decoded = hit.decoded;
      return { finding, order: [rootCause ? 0 : 1, SEVERITY_RANK[s.severity], i] };
    });
    ranked.sort(
      (a, b) => a.order[0]! - b.order[0]! || a.order[1]! - b.order[1]! || a.order[2]! - b.order[2]!,
    );
    return { schemaVersion: SCHEMA_VERSION, findings: ranked.map((r) => r.finding), inputs: this.inputs };
  }
}

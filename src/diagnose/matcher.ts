import { SCHEMA_VERSION } from '../version.js';
import { type Automaton, buildAutomaton } from './automaton.js';
import { decodeLine } from './decode.js';
import {
  detectEnvironment,
  ENVIRONMENT_KEYWORDS,
  type EnvironmentHit,
  environmentNote,
} from './environment.js';
import { loadKnowledgeBase } from './knowledge-base.js';
import { detectKind, stripPrefix } from './prefix.js';
import type {
  CommandContext,
  DiagnoseReport,
  Evidence,
  Finding,
  InputSummary,
  Severity,
  Signature,
} from './types.js';

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
 * Words the first-level prefilter searches for: a keyword that contains one of them is found through it,
 * so a few native passes over each chunk replace one pass per keyword.
 */
export const ANCHOR_WORDS = [
  'NVRM',
  'nvidia',
  'NVIDIA',
  'nouveau',
  'NOUVEAU',
  'bhyve',
  'Xid',
  'vmm',
  'vm: ',
  'fatal;',
  'Assertion failed',
  'passthru',
  'amdgpu',
  'Hypervisor',
] as const;

/**
 * A line that is no log evidence: a `#` comment header (`# key: ...`, `# ---`, `#!`, a lone `#`), or a
 * shell prompt with the command typed at it (`$ `, `% `, `user@host:~$ `, `[user@host dir]# `).
 */
const NOT_LOG =
  /^[ \t]*(#[ \t]+([A-Za-z][A-Za-z0-9_-]*:([ \t]|$)|-{3,}[ \t]*$)|#[ \t]*$|#-{3,}|#!|\$ |% |[A-Za-z0-9._-]+@[A-Za-z0-9._-]+(:[^ ]*)? ?[$#%] |\[[^\]]*@[^\]]*\][$#] )/;

/** Placeholder -> what to put there, for findings whose commands keep one. */
const PLACEHOLDER_HELP: Record<string, string> = {
  gpu: "the GPU's bhyve id (e.g. 1/0/0, see bhyve-gpu scan); pass --gpu to fill it in",
  vm: "the vm-bhyve guest's name (see vm list); pass --vm to fill it in",
  src: 'the bhyve-gpu source tree; pass --src to fill it in',
};

/** The default source tree of `bhyve-gpu source` (README, docs/source-and-build.md). */
export const DEFAULT_SRC = '/usr/local/bhyve-gpu/src';

/** Fill {gpu}/{vm}/{src} with what is known ({src} defaults to DEFAULT_SRC); returns the placeholders left. */
export function fillCommands(
  commands: string[][],
  context: CommandContext,
): { commands: string[][]; left: string[] } {
  const values: Record<string, string | undefined> = {
    gpu: context.gpu,
    vm: context.vm,
    src: context.src ?? DEFAULT_SRC,
  };
  const left = new Set<string>();
  const filled = commands.map((argv) =>
    argv.map((arg) =>
      arg.replace(/\{(gpu|vm|src)\}/g, (whole: string, name: string) => {
        const v = values[name];
        if (v === undefined) {
          left.add(name);
          return whole;
        }
        return v;
      }),
    ),
  );
  return { commands: filled, left: [...left] };
}

/**
 * The matcher, in two levels. First, a few native Buffer.indexOf passes over each chunk look for the
 * anchors (ANCHOR_WORDS, a signature's own anchor, or a keyword that contains no anchor word); only lines
 * holding one go further. Second, an Aho-Corasick automaton over every keyword walks just those lines and
 * names the signatures whose keywords they contain; only their regexes run, on the line without its prefix.
 */
export class Matcher {
  readonly signatures: Signature[];
  private readonly regexes: RegExp[][];
  private readonly automaton: Automaton;
  private readonly anchors: Buffer[];
  private readonly rest: Automaton | undefined;
  private readonly hits = new Map<number, Hit>();
  private readonly inputs: InputSummary[] = [];
  private readonly pending: number[] = [];
  private readonly marked: Uint8Array;
  private readonly environment: EnvironmentHit[] = [];
  private readonly context: CommandContext;

  constructor(signatures: Signature[] = loadKnowledgeBase(), context: CommandContext = {}) {
    this.signatures = signatures;
    this.context = context;
    const compiled = compile(signatures);
    this.regexes = compiled.regexes;
    this.automaton = compiled.automaton;
    this.anchors = compiled.anchors;
    this.rest = compiled.rest;
    this.marked = new Uint8Array(signatures.length + ENVIRONMENT_KEYWORDS.length);
  }

  /** The first-level anchors (for tests and the bench). */
  anchorWords(): string[] {
    return this.anchors.map((a) => a.toString('utf8'));
  }

  /**
   * Scan buf[0..end) as complete lines (the last one may lack its newline); `firstLine` lines came
   * before. Returns the number of lines seen so far.
   */
  scan(file: string, buf: Buffer, end: number, firstLine: number): number {
    // 1. Candidate lines: where an anchor occurs (line start offsets).
    const starts: number[] = [];
    for (const anchor of this.anchors) {
      let at = buf.indexOf(anchor, 0);
      while (at !== -1 && at < end) {
        starts.push(buf.lastIndexOf(10, at) + 1);
        const le = buf.indexOf(10, at);
        if (le === -1 || le >= end) break;
        at = buf.indexOf(anchor, le + 1);
      }
    }
    if (this.rest) this.restPass(buf, end, starts);
    if (starts.length > 1) starts.sort((a, b) => a - b);
    // 2. Count the lines up to each candidate, then match the candidate.
    let line = firstLine;
    let pos = 0;
    let previous = -1;
    for (const ls of starts) {
      if (ls === previous) continue;
      previous = ls;
      while (pos < ls) {
        const nl = buf.indexOf(10, pos);
        if (nl === -1 || nl >= ls) break;
        line++;
        pos = nl + 1;
      }
      let le = buf.indexOf(10, ls);
      if (le === -1 || le > end) le = end;
      this.candidate(file, line + 1, buf, ls, le);
    }
    while (pos < end) {
      const nl = buf.indexOf(10, pos);
      line++;
      if (nl === -1 || nl >= end) break;
      pos = nl + 1;
    }
    return line;
  }

  /** One automaton pass over the chunk for the keywords no anchor word reaches; adds their line starts. */
  private restPass(buf: Buffer, end: number, starts: number[]): void {
    const { classes, table } = this.rest as Automaton;
    let row = 0;
    let lineStart = 0;
    let noted = -1;
    for (let i = 0; i < end; i++) {
      const byte = buf[i] as number;
      if (byte === 10) {
        lineStart = i + 1;
        row = 0;
        continue;
      }
      row = table[row + (classes[byte] as number)] as number;
      if (row < 0) {
        row = -row - 1;
        if (noted !== lineStart) {
          starts.push(lineStart);
          noted = lineStart;
        }
      }
    }
  }

  private candidate(file: string, line: number, buf: Buffer, start: number, stop: number): void {
    const { classes, classCount, table, outputs } = this.automaton;
    const pending = this.pending;
    const marked = this.marked;
    let row = 0;
    for (let i = start; i < stop; i++) {
      row = table[row + (classes[buf[i] as number] as number)] as number;
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
    if (pending.length > 0) this.flush(file, line, buf, start, stop);
  }

  private flush(file: string, line: number, buf: Buffer, start: number, stop: number): void {
    const raw = buf.toString('utf8', start, stop);
    const skip = NOT_LOG.test(raw);
    const text = skip ? '' : stripPrefix(raw);
    const count = this.signatures.length;
    for (const i of this.pending) {
      this.marked[i] = 0;
      if (skip) continue;
      if (i >= count) {
        const platform = detectEnvironment(text);
        if (platform !== undefined && this.environment.length < 8)
          this.environment.push({ platform, file, line, text: text.slice(0, MAX_TEXT) });
      } else if ((this.regexes[i] as RegExp[]).some((r) => r.test(text))) this.record(i, file, line, text);
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
    this.inputs.push({ name, kind: detectKind(firstLines.filter((l) => !NOT_LOG.test(l))), lines });
  }

  /** The findings, ranked: root causes first (error > warning > info), then consequences. */
  report(): DiagnoseReport {
    const fired = new Set([...this.hits.keys()].map((i) => (this.signatures[i] as Signature).id));
    const environment = summariseEnvironment(this.environment);
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
      this.advise(finding, s, environment?.platform);
      return { finding, order: [rootCause ? 0 : 1, SEVERITY_RANK[s.severity], i] };
    });
    ranked.sort(
      (a, b) => a.order[0]! - b.order[0]! || a.order[1]! - b.order[1]! || a.order[2]! - b.order[2]!,
    );
    const report: DiagnoseReport = {
      schemaVersion: SCHEMA_VERSION,
      findings: ranked.map((r) => r.finding),
      inputs: this.inputs,
    };
    if (environment) report.environment = environment;
    return report;
  }

  /** Commands with what is known filled in, worded for the environment the log comes from. */
  private advise(finding: Finding, s: Signature, platform: string | undefined): void {
    const note = environmentNote(platform, s);
    if (note !== undefined) {
      finding.explanation = `${finding.explanation} ${note.explanation}`;
      if (note.noCommand !== undefined) {
        finding.noCommand = note.noCommand;
        return;
      }
    }
    if (s.commands) {
      const { commands, left } = fillCommands(s.commands, this.context);
      finding.commands = commands;
      if (left.length > 0)
        finding.placeholders = Object.fromEntries(left.map((k) => [k, PLACEHOLDER_HELP[k] ?? k]));
    } else if (s.noCommand) finding.noCommand = s.noCommand;
  }
}

interface Compiled {
  regexes: RegExp[][];
  automaton: Automaton;
  anchors: Buffer[];
  /** Keywords reached through no anchor word: found by one automaton pass over the chunk instead. */
  rest: Automaton | undefined;
}

/** Regexes, automaton and anchors of a signature list, built once per list (the bundled KB is one list). */
const COMPILED = new WeakMap<Signature[], Compiled>();

function compile(signatures: Signature[]): Compiled {
  const done = COMPILED.get(signatures);
  if (done) return done;
  const byKeyword = new Map<string, number[]>();
  signatures.forEach((s, i) => {
    for (const k of s.keywords) byKeyword.set(k, [...(byKeyword.get(k) ?? []), i]);
  });
  // Environment lines (hypervisor, DMI) are pseudo-signatures past the end of the list.
  ENVIRONMENT_KEYWORDS.forEach((k, j) => {
    byKeyword.set(k, [...(byKeyword.get(k) ?? []), signatures.length + j]);
  });
  const { anchors, rest } = anchorsOf(signatures);
  const restKeywords = new Map<string, number[]>(rest.map((k, i) => [k, [i]]));
  const compiled = {
    regexes: signatures.map((s) => s.patterns.map((p) => new RegExp(p))),
    automaton: buildAutomaton(byKeyword),
    anchors: anchors.map((a) => Buffer.from(a, 'utf8')),
    rest: rest.length > 0 ? buildAutomaton(restKeywords) : undefined,
  };
  COMPILED.set(signatures, compiled);
  return compiled;
}

/**
 * The first-level anchors: the anchor words (and environment keywords) that some signature needs; keywords
 * that contain no anchor word are returned apart (`rest`).
 */
function anchorsOf(signatures: Signature[]): { anchors: string[]; rest: string[] } {
  const words = new Set<string>(ENVIRONMENT_KEYWORDS);
  const rest = new Set<string>();
  const isWord = (w: string) => (ANCHOR_WORDS as readonly string[]).includes(w);
  for (const s of signatures) {
    if (s.anchor !== undefined && isWord(s.anchor)) words.add(s.anchor);
    else
      for (const k of s.keywords) {
        const w = ANCHOR_WORDS.find((a) => k.includes(a));
        if (w) words.add(w);
        else rest.add(k);
      }
  }
  const list = [...words];
  return { anchors: list.filter((a) => !list.some((b) => b !== a && a.includes(b))), rest: [...rest] };
}

function summariseEnvironment(hits: EnvironmentHit[]): DiagnoseReport['environment'] {
  if (hits.length === 0) return undefined;
  const virtual = hits.find((h) => h.platform !== 'bare-metal');
  const chosen = virtual ?? (hits[0] as EnvironmentHit);
  return { platform: chosen.platform, evidence: hits.map((h) => `${h.file}:${h.line}: ${h.text}`) };
}

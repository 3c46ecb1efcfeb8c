import { SCHEMA_VERSION } from '../version.js';
import { signatureAnchors } from './anchors.js';
import { decodeLine } from './decode.js';
import { ENVIRONMENT_KEYWORDS, type EnvironmentHit, environmentNote } from './environment.js';
import { ENV_LINES, LineEvaluator, type LineResult, MAX_TEXT, NOT_LOG } from './evaluate.js';
import { loadKnowledgeBase } from './knowledge-base.js';
import type { ChunkResult, ScanTables } from './parallel.js';
import { type LineSink, Prefilter } from './prefilter.js';
import { detectKind } from './prefix.js';
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
const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

interface Hit {
  evidence: Map<string, Evidence>;
  occurrences: number;
  decoded: Finding['decoded'];
}

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
 * The matcher, in two levels (docs/knowledge-base.md, "Speed"). First, the prefilter (prefilter.ts) scans
 * each chunk's raw bytes once: it counts the lines and hands on only the lines that may hold an anchor
 * (anchors.ts: a literal each signature's matches must contain), each distinct line once; repeats of a line
 * are only counted. Second, the anchors each such line really holds are found (prefilter.ts AnchorFinder)
 * and name the signatures that need them; only their regexes run, on the line decoded and without its prefix.
 */
export class Matcher {
  readonly signatures: Signature[];
  private readonly compiled: Compiled;
  private readonly prefilter: Prefilter<LineResult>;
  private readonly evaluator: LineEvaluator;
  private readonly sink: LineSink<LineResult>;
  private readonly hits = new Map<number, Hit>();
  private readonly inputs: InputSummary[] = [];
  private readonly environment: EnvironmentHit[] = [];
  private readonly context: CommandContext;
  /** The prefilter's input area, where the lines handed on are read. */
  private readonly buf: Buffer;
  // The input being scanned.
  private file = '';
  private firstLine = 0;

  constructor(signatures: Signature[] = loadKnowledgeBase(), context: CommandContext = {}) {
    this.signatures = signatures;
    this.context = context;
    const compiled = compile(signatures);
    this.compiled = compiled;
    this.prefilter = new Prefilter(compiled.anchors);
    this.evaluator = new LineEvaluator(this.prefilter.finder, compiled.regexes, compiled.owners);
    this.buf = this.prefilter.input();
    this.sink = {
      line: (start, end, index) => this.line(start, end, this.firstLine + index + 1),
      repeats: (result, count) => {
        for (const i of result.sigs) this.repeat(i, result.text, count);
      },
    };
  }

  /** The anchors the prefilter looks for (for tests and the bench). */
  anchorWords(): string[] {
    return [...this.compiled.anchors];
  }

  /** What a scan thread needs to build the same two levels (see parallel.ts): plain, cloneable data. */
  scanTables(): ScanTables {
    return {
      anchors: this.compiled.anchors,
      plan: this.prefilter.plan,
      module: this.prefilter.module,
      patterns: this.signatures.map((s) => s.patterns),
      owners: this.compiled.owners,
    };
  }

  /**
   * Scan buf[0..end) as complete lines (the last one may lack its newline); `firstLine` lines came
   * before. Returns the number of lines seen so far.
   */
  scan(file: string, buf: Buffer, end: number, firstLine: number): number {
    this.file = file;
    this.firstLine = firstLine;
    const newlines = this.prefilter.scan(buf, 0, end, this.sink);
    return firstLine + newlines + (end > 0 && buf[end - 1] !== 10 ? 1 : 0);
  }

  /** The input area (INPUT_CAPACITY bytes): read into it and call scanInput, the bytes are not copied. */
  input(): Buffer {
    return this.buf;
  }

  /** Like scan, over input()[start..len). */
  scanInput(file: string, len: number, firstLine: number, start = 0): number {
    this.file = file;
    this.firstLine = firstLine;
    const newlines = this.prefilter.scanInput(len, this.sink, 0, start);
    return firstLine + newlines + (len > start && this.buf[len - 1] !== 10 ? 1 : 0);
  }

  /** A candidate line met for the first time: record what it matches; what to remember for its repeats. */
  private line(start: number, stop: number, line: number): LineResult | undefined {
    const result = this.evaluator.evaluate(this.buf, start, stop);
    for (const i of result.sigs) this.record(i, this.file, line, result.text);
    if (result.env === undefined || this.environment.length >= ENV_LINES) return result;
    // The report lists the first environment lines by line: until it has them, each one is read again.
    this.environment.push({
      platform: result.env,
      file: this.file,
      line,
      text: result.text.slice(0, MAX_TEXT),
    });
    return undefined;
  }

  /**
   * A chunk scanned by the scan thread (parallel.ts), after the lines before it: its matching lines are
   * recorded as if this matcher had met them there. Returns the lines counted so far.
   */
  replay(file: string, firstLine: number, chunk: ChunkResult): number {
    for (const r of chunk.records)
      for (const i of r.sigs) {
        this.record(i, file, firstLine + r.line + 1, r.text);
        if (r.repeats > 0) this.repeat(i, r.text, r.repeats);
      }
    for (const e of chunk.environment) {
      if (this.environment.length >= ENV_LINES) break;
      this.environment.push({ platform: e.platform, file, line: firstLine + e.line + 1, text: e.text });
    }
    return firstLine + chunk.lines;
  }

  /** `count` more lines with the same text as one already recorded for signature i. */
  private repeat(i: number, text: string, count: number): void {
    const hit = this.hits.get(i) as Hit;
    hit.occurrences += count;
    const seen = hit.evidence.get(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);
    if (seen) seen.count = (seen.count ?? 1) + count;
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
    this.prefilter.flush(this.sink);
    const fired = new Set([...this.hits.keys()].map((i) => (this.signatures[i] as Signature).id));
    const environment = summariseEnvironment(this.environment);
    const ranked = [...this.hits.entries()].map(([i, hit]) => {
      const s = this.signatures[i] as Signature;
      const causedBy = s.consequenceOf.flatMap((c) => causesFired(c, s.id, fired));
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
  anchors: string[];
  /** Anchor number -> signature indices (environment keywords -> indices past the signatures). */
  owners: number[][];
}

/** Regexes and anchors of a signature list, built once per list (the bundled KB is one list). */
const COMPILED = new WeakMap<Signature[], Compiled>();

/**
 * Catalog-derived signatures of a family stand for the hand-written signature of the same class in
 * `consequenceOf`: a derived "not supported by this driver" message is a driver-branch mismatch like
 * guest.nvidia.unsupported-release, and a derived GSP failure explains RmInitAdapter like
 * guest.nvidia.gsp-init-failed, so what follows them is reported as their consequence.
 */
const FAMILY_STANDS_FOR: readonly (readonly [prefix: string, id: string])[] = [
  ['guest.nvrm.unsupported.', 'guest.nvidia.unsupported-release'],
  ['guest.nvrm.gsp.', 'guest.nvidia.gsp-init-failed'],
];

/** The fired ids that count as `cause` having fired for the signature `self` (never itself). */
function causesFired(cause: string, self: string, fired: ReadonlySet<string>): string[] {
  const out = fired.has(cause) ? [cause] : [];
  for (const [prefix, id] of FAMILY_STANDS_FOR) {
    if (id !== cause || self.startsWith(prefix)) continue;
    for (const f of fired) if (f.startsWith(prefix) && !out.includes(f)) out.push(f);
  }
  return out;
}

function compile(signatures: Signature[]): Compiled {
  const done = COMPILED.get(signatures);
  if (done) return done;
  const byAnchor = new Map<string, number[]>();
  const add = (anchor: string, i: number) => {
    const list = byAnchor.get(anchor);
    if (list === undefined) byAnchor.set(anchor, [i]);
    else if (!list.includes(i)) list.push(i);
  };
  signatures.forEach((s, i) => {
    for (const a of signatureAnchors(s.id, s.patterns)) add(a, i);
  });
  // Environment lines (hypervisor, DMI) are pseudo-signatures past the end of the list.
  ENVIRONMENT_KEYWORDS.forEach((k, j) => {
    add(k, signatures.length + j);
  });
  const compiled = {
    regexes: signatures.map((s) => s.patterns.map((p) => new RegExp(p))),
    anchors: [...byAnchor.keys()],
    owners: [...byAnchor.values()],
  };
  COMPILED.set(signatures, compiled);
  return compiled;
}

function summariseEnvironment(hits: EnvironmentHit[]): DiagnoseReport['environment'] {
  if (hits.length === 0) return undefined;
  const virtual = hits.find((h) => h.platform !== 'bare-metal');
  // QEMU's DMI with "Hypervisor detected: KVM" is a KVM guest (QEMU is only its device model).
  const kvm = virtual?.platform === 'qemu' ? hits.find((h) => h.platform === 'kvm') : undefined;
  const chosen = kvm ?? virtual ?? (hits[0] as EnvironmentHit);
  return { platform: chosen.platform, evidence: hits.map((h) => `${h.file}:${h.line}: ${h.text}`) };
}

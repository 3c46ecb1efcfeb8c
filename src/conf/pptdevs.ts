/**
 * pptdevs, pptdevs2, pptdevs3: what the kernel reads from the loader files and the edits that reserve or
 * release devices (see loader-conf.ts for the facts this follows).
 */
import { ToolError } from '../errors.js';
import {
  type Bsf,
  type ConfFile,
  LOADER_CONF,
  lastAssignment,
  type Parsed,
  PPTDEVS_VALUE_LIMIT,
  PPTDEVS_VARIABLES,
  type PptdevsVariable,
  parseAll,
  parseBsf,
  requireBsf,
} from './loader-files.js';
import { printShDoc, readShDoc, type ShDoc, set, unset } from './shedit.js';
import { type LoaderView, loaderValue, loaderViews } from './views.js';

export interface PptdevsEntry {
  /** The text as written in the file. */
  text: string;
  /** Parsed id, or undefined when the entry is not valid B/S/F. */
  bsf: Bsf | undefined;
  problem: string | undefined;
  variable: PptdevsVariable;
  file: string;
  line: number;
  /** Why the kernel never sees the entry: its variable is longer than the kernel environment takes. */
  lost?: string;
}

export interface PptdevsDefinition {
  variable: PptdevsVariable;
  value: string;
  file: string;
  line: number;
  entries: PptdevsEntry[];
}

export interface EffectivePptdevs {
  byVariable: Partial<Record<PptdevsVariable, PptdevsDefinition>>;
  /** Every entry written in an effective pptdevs* value, pptdevs first, in file order (lost ones marked). */
  combined: PptdevsEntry[];
  warnings: string[];
}

/**
 * The longest `name=value` string the kernel copies from the loader's environment: sys/kern/
 * kern_environment.c init_dynamic_kenv_from() drops a longer one whole ("WARNING: too long kenv string,
 * ignoring ...") when strlen + 1 > KENV_MNAMELEN + 1 + KENV_MVALLEN + 1 (sys/sys/kenv.h: 128 and 128), on
 * 13.x, 14.x and 15.x alike.
 */
export const KENV_STRING_LIMIT = 128 + 1 + 128;

/** The longest value of `variable` the kernel keeps (249 for pptdevs, 248 for pptdevs2 and pptdevs3). */
export function kernelValueLimit(variable: string): number {
  return KENV_STRING_LIMIT - variable.length - 1;
}

/**
 * What the kernel will read from pptdevs, pptdevs2 and pptdevs3, with where each entry came from: the
 * loader's reading of the files (src/conf/views.ts `loaderViews`), each value split at spaces as vmm.c
 * `vmm_is_pptdev` splits it (a tab is not a separator there), and the kernel's length limit.
 */
export function effectivePptdevs(files: readonly ConfFile[]): EffectivePptdevs {
  return collect(files, 'loader');
}

/**
 * pptdevs* as written, read as sh/sysrc read them (the last assignment wins, split at any blank): what an
 * edit keeps. attach refuses a file where this and the loader's reading of a pptdevs line differ
 * (src/attach/plan.ts), so the two agree wherever an edit is made.
 */
export function writtenPptdevs(files: readonly ConfFile[]): EffectivePptdevs {
  return collect(files, 'sh');
}

function collect(files: readonly ConfFile[], reader: 'loader' | 'sh'): EffectivePptdevs {
  const view = reader === 'loader' ? loaderViews(files) : shDefinitions(files);
  const byVariable: Partial<Record<PptdevsVariable, PptdevsDefinition>> = {};
  const combined: PptdevsEntry[] = [];
  const warnings: string[] = [];
  for (const f of files)
    for (const w of readShDoc(f.text, f.path).warnings) warnings.push(`${w.file}:${w.line}: ${w.message}`);
  for (const k of view.skipped)
    if (k.key !== undefined && /^pptdevs[23]?$/.test(k.key))
      warnings.push(`${k.file}:${k.line}: ${k.reason}`);
  for (const variable of PPTDEVS_VARIABLES) {
    const def = loaderValue(view, variable);
    if (!def) continue;
    const path = def.file ?? LOADER_CONF;
    const limit = kernelValueLimit(variable);
    const lost =
      def.value.length > limit
        ? `${variable} is ${def.value.length} characters; the kernel drops a value over ${limit} ("too long kenv string")`
        : undefined;
    const entries: PptdevsEntry[] = def.value
      .split(reader === 'loader' ? ' ' : /\s+/)
      .filter((t) => t !== '')
      .map((text) => {
        const r = parseBsf(text);
        const bad = typeof r === 'string';
        return {
          text,
          bsf: bad ? undefined : r,
          problem: bad ? r : undefined,
          variable,
          file: path,
          line: def.line,
          ...(lost ? { lost } : {}),
        };
      });
    for (const e of entries) if (e.problem) warnings.push(`${e.file}:${e.line}: ${variable}: ${e.problem}`);
    if (lost)
      warnings.push(`${path}:${def.line}: ${lost}: ${entries.map((e) => e.text).join(' ')} never reach vmm`);
    byVariable[variable] = { variable, value: def.value, file: path, line: def.line, entries };
    combined.push(...entries);
  }
  return { byVariable, combined, warnings };
}

/** The sh reading of the files, shaped like the loader's view (assignments in read order). */
function shDefinitions(files: readonly ConfFile[]): LoaderView {
  const view: LoaderView = { assignments: [], skipped: [] };
  for (const p of parseAll(files))
    for (const n of p.doc.nodes)
      if (n.kind === 'assignment')
        view.assignments.push({ key: n.key, value: n.value, line: n.line, file: p.path });
  return view;
}

export interface FileChange {
  path: string;
  before: string;
  after: string;
}

export interface PptdevsPlan {
  changes: FileChange[];
  /** The final combined list, in order. */
  entries: string[];
  /** The values each variable will hold (absent: unset). */
  values: Partial<Record<PptdevsVariable, string>>;
  warnings: string[];
}

/** Packs ids into at most three values of at most 128 characters, keeping `start` groups where possible. */
function pack(groups: string[][], add: string[]): string[][] {
  const fits = (g: string[]): boolean => g.join(' ').length <= PPTDEVS_VALUE_LIMIT;
  let out = groups.map((g) => [...g]);
  if (!out.every(fits)) out = [out.flat()].flatMap(greedy);
  while (out.length < PPTDEVS_VARIABLES.length) out.push([]);
  for (const id of add) {
    const target = out.find((g) => fits([...g, id]));
    if (!target) {
      throw new ToolError(
        'pptdevs-full',
        `no room for ${id}: pptdevs, pptdevs2 and pptdevs3 are full (128 characters each)`,
        {
          hint: 'remove stale entries from pptdevs* in /boot/loader.conf',
        },
      );
    }
    target.push(id);
  }
  return out;
}

function greedy(ids: string[]): string[][] {
  const out: string[][] = [[]];
  for (const id of ids) {
    const cur = out[out.length - 1] as string[];
    if ([...cur, id].join(' ').length <= PPTDEVS_VALUE_LIMIT) cur.push(id);
    else out.push([id]);
  }
  if (out.length > PPTDEVS_VARIABLES.length) {
    throw new ToolError(
      'pptdevs-full',
      `${ids.length} devices do not fit in pptdevs, pptdevs2 and pptdevs3 (128 characters each)`,
    );
  }
  return out;
}

/**
 * Plans the loader.conf edits that reserve `add` and release `remove` (bhyve ids). `files` are the loader
 * configuration files that exist, in read order (see loaderConfFiles); a missing /boot/loader.conf is created.
 */
export function planPptdevs(
  files: readonly ConfFile[],
  request: { add: string[]; remove: string[] },
): PptdevsPlan {
  const add = request.add.map((t) => requireBsf(t).id);
  // Stale entries may be text that is no B/S/F at all ("garbage", "999/0/0"): removed as written.
  const remove = new Set(
    request.remove.map((t) => {
      const r = parseBsf(t.trim());
      return typeof r === 'string' ? t : r.id;
    }),
  );
  const effective = writtenPptdevs(files);
  const seen = new Set<string>();
  const groups = PPTDEVS_VARIABLES.map((v) =>
    (effective.byVariable[v]?.entries ?? []).flatMap((e) => {
      const id = e.bsf?.id ?? e.text;
      if (remove.has(id) || seen.has(id)) return [];
      seen.add(id);
      return [id];
    }),
  );
  const fresh: string[] = [];
  for (const id of add) {
    if (!seen.has(id)) fresh.push(id);
    seen.add(id);
  }
  const packed = pack(groups, fresh);
  const working: ConfFile[] = files.some((f) => f.path === LOADER_CONF)
    ? [...files]
    : [{ path: LOADER_CONF, text: '' }, ...files];
  const parsed = parseAll(working);
  const target = lastAssignment(parsed, 'pptdevs')?.path ?? LOADER_CONF;
  const values: Partial<Record<PptdevsVariable, string>> = {};
  PPTDEVS_VARIABLES.forEach((variable, i) => {
    const ids = packed[i] ?? [];
    const current = effective.byVariable[variable];
    const currentIds = (current?.entries ?? []).map((e) => e.bsf?.id ?? e.text);
    if (ids.length > 0) values[variable] = ids.join(' ');
    if (ids.join(' ') === currentIds.join(' ')) return; // unchanged (keeps its exact spacing)
    if (ids.length === 0) {
      for (const p of parsed) unset(p.doc, variable);
      return;
    }
    const where = lastAssignment(parsed, variable)?.path ?? target;
    const doc = parsed.find((p) => p.path === where)?.doc as ShDoc;
    set(doc, variable, ids.join(' '));
  });
  const changes: FileChange[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const before = (working[i] as ConfFile).text;
    const after = printShDoc((parsed[i] as Parsed).doc);
    if (after !== before) changes.push({ path: (parsed[i] as Parsed).path, before, after });
  }
  return { changes, entries: packed.flat(), values, warnings: effective.warnings };
}

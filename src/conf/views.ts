/**
 * Read-only views of an sh-variable file, each reading it the way one consumer does. All of them read the
 * one lossless parse (src/conf/shdoc.ts `readShDoc`: lines, line ends, assignments, lines kept verbatim);
 * they differ only in how a consumer turns those lines into values (docs/configuration.md, "How each file
 * is read"):
 *
 * - `parseShVars` / `effectiveValue`: sh and sysrc(8) (rc.conf): every `KEY=value` assignment, quotes and
 *   escapes resolved; the LAST one wins.
 * - `loaderView`: the boot loader's config reader (stand/lua/config.lua, the default loader on 13.x, 14.x
 *   and 15.x) for loader.conf and its drop-ins: `name = "value"` (blanks around `=` allowed; the quoted
 *   value runs to the last `"` on the line, backslash escapes the next character, `$name`/`${name}` expand)
 *   or `name=word` (letters, digits, `-`, `_`, `.` only); after the value only blanks or a `#` comment.
 *   Anything else is a "Malformed line" the loader skips (single quotes, `pptdevs=1/0/0` unquoted, `;`).
 *   A CR before the LF is white space to it. The last assignment wins.
 * - `vmBhyveLines` / `readVmBhyveConfig` (vm-layout.ts): vm-bhyve's config::load: lines that start with a
 *   lowercase letter, cut at the first `#`, trailing blanks dropped, every `"` deleted; the FIRST line of a
 *   key wins; a CR of a CRLF line end stays in the value (sh keeps it).
 */
import type { ParseWarning, ShAssignment } from '../facts/types.js';
import { readShDoc, type ShDoc, type ShNode } from './shdoc.js';

/** One physical line of a parsed document: its 1-based number and text; `cr` when it ended in CRLF. */
export interface PhysicalLine {
  line: number;
  text: string;
  cr: boolean;
}

/** The physical lines of a parse (a node kept as `other` may span several lines). */
export function physicalLines(doc: Readonly<ShDoc>): PhysicalLine[] {
  const out: PhysicalLine[] = [];
  for (const node of doc.nodes) out.push(...nodeLines(node));
  return out;
}

function nodeLines(node: ShNode): PhysicalLine[] {
  const parts = node.raw.split('\n');
  return parts.map((part, i) => {
    const last = i === parts.length - 1;
    const cr = last ? node.eol === '\r\n' : part.endsWith('\r');
    return { line: node.line + i, text: !last && cr ? part.slice(0, -1) : part, cr };
  });
}

/** Whether any line of the text ends in CRLF (or holds a bare CR). */
export function hasCarriageReturns(text: string): boolean {
  return text.includes('\r');
}

// ---------------------------------------------------------------------------------------------------------
// sh / sysrc: the last assignment wins

export interface ShVars {
  assignments: ShAssignment[];
  warnings: ParseWarning[];
}

/** sh's reading (rc.conf): assignments in file order; `file` labels the warnings ("/etc/rc.conf: ..."). */
export function parseShVars(text: string, file?: string): ShVars {
  const doc = readShDoc(text, file);
  const where = file === undefined ? '' : `${file}: `;
  const assignments: ShAssignment[] = [];
  for (const n of doc.nodes)
    if (n.kind === 'assignment') assignments.push({ key: n.key, value: n.value, line: n.line });
  const warnings = doc.warnings.map((w) => ({ line: w.line, message: `${where}${w.message}` }));
  return { assignments, warnings };
}

/** The value the shell ends up with: the last assignment of `key` wins. */
export function effectiveValue(assignments: readonly ShAssignment[], key: string): string | undefined {
  for (let i = assignments.length - 1; i >= 0; i--)
    if (assignments[i]?.key === key) return assignments[i]?.value;
  return undefined;
}

/** Every line that assigns a key, read or kept verbatim (for redaction): key and 1-based line. */
export function keyedLines(text: string): { key: string; line: number }[] {
  const out: { key: string; line: number }[] = [];
  for (const n of readShDoc(text).nodes)
    if ((n.kind === 'assignment' || n.kind === 'other') && n.key !== undefined)
      out.push({ key: n.key, line: n.line });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// the boot loader (stand/lua/config.lua)

export interface LoaderAssignment {
  key: string;
  value: string;
  line: number;
  file: string | undefined;
}

export interface LoaderSkipped {
  line: number;
  file: string | undefined;
  text: string;
  /** The key the line seems to set, when it looks like an assignment. */
  key: string | undefined;
  reason: string;
}

export interface LoaderView {
  assignments: LoaderAssignment[];
  /** Lines the loader reports and skips: its variable keeps the value it had before. */
  skipped: LoaderSkipped[];
}

const LUA_SPACE = /[ \t\n\v\f\r]/;
const KEY_LOOSE = /^[ \t\v\f\r]*([A-Za-z0-9_.-]+)[ \t\v\f\r]*=/;
/** config.lua's env_var key: a letter or digit, then letters, digits, `-`, `_`, `.`. */
const LOADER_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** A module line's key (`vmm_load`, `if_em_name`): letters, digits, `-`, `_` before the suffix. */
const MODULE_KEY = /^[A-Za-z0-9_-]+_(load|name|type|flags|before|after|error)$/;
const WORD = /^[A-Za-z0-9-][A-Za-z0-9_.-]*/;

/** config.lua's isValidComment: nothing but blanks, or blanks then `#...`. */
function validTrailer(rest: string): boolean {
  let i = 0;
  while (i < rest.length && LUA_SPACE.test(rest[i] as string)) i++;
  return i === rest.length || rest[i] === '#';
}

/** processEnvVar: `\x` is x, a `"` is an error, `$name` / `${name}` expand from the variables so far. */
function expand(value: string, env: ReadonlyMap<string, string>): { value: string } | { error: string } {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\') {
      if (i === value.length - 1) return { error: 'stray escape at end of line' };
      out += value[i + 1];
      i++;
    } else if (c === '"') return { error: `stray quote at position ${i + 1}` };
    else if (c === '$') {
      if (i === value.length - 1) return { error: 'unescaped $ at end of line' };
      const braced = value[i + 1] === '{';
      const m = braced
        ? /^([^}]+)\}/.exec(value.slice(i + 2))
        : /^[A-Za-z0-9][A-Za-z0-9_.-]*/.exec(value.slice(i + 1));
      if (!m) return { error: `malformed variable expression at position ${i + 1}` };
      const name = braced ? (m[1] as string) : m[0];
      out += env.get(name) ?? '';
      i += name.length + (braced ? 2 : 0);
    } else out += c;
  }
  return { value: out };
}

type LoaderLine =
  | { kind: 'none' }
  | { kind: 'set'; key: string; value: string }
  | { kind: 'skip'; key: string | undefined; reason: string };

/** One line as config.lua's parse() takes it. */
export function readLoaderLine(text: string, env: ReadonlyMap<string, string>): LoaderLine {
  if (/^[ \t\v\f\r]*(#|$)/.test(text)) return { kind: 'none' };
  const m = KEY_LOOSE.exec(text);
  const key = m?.[1];
  const malformed = (why: string): LoaderLine => ({
    kind: 'skip',
    key,
    reason: `the loader skips this line ("Malformed line"): ${why}`,
  });
  if (!m || key === undefined) return malformed('not name="value"');
  if (!LOADER_KEY.test(key) && !MODULE_KEY.test(key)) return malformed(`"${key}" is not a variable name`);
  let rest = text.slice(m[0].length);
  while (rest !== '' && LUA_SPACE.test(rest[0] as string)) rest = rest.slice(1);
  if (key === 'exec') return { kind: 'none' };
  let raw: string | undefined;
  let trailer = '';
  if (rest.startsWith('"') && rest.lastIndexOf('"') > 0) {
    // Lua's "(.*)" is greedy: the value ends at the LAST quote of the line.
    const close = rest.lastIndexOf('"');
    raw = rest.slice(1, close);
    trailer = rest.slice(close + 1);
  } else {
    const w = WORD.exec(rest);
    if (w) {
      raw = w[0];
      trailer = rest.slice(w[0].length);
    }
  }
  if (raw === undefined)
    return malformed(
      rest.startsWith("'")
        ? 'single quotes are not quotes to the loader'
        : rest.startsWith('"')
          ? 'the closing quote is missing'
          : 'an unquoted value may hold only letters, digits, "-", "_" and "."',
    );
  if (!validTrailer(trailer)) return malformed(`"${trailer.trim()}" after the value`);
  if (MODULE_KEY.test(key)) return { kind: 'set', key, value: raw };
  const v = expand(raw, env);
  if ('error' in v)
    return {
      kind: 'skip',
      key,
      reason: `the loader does not set ${key} ("Failed to parse variable"): ${v.error}`,
    };
  return { kind: 'set', key, value: v.value };
}

/**
 * What the loader sets from one file. `env` carries variables from files read before (for `$name`) and
 * receives this file's values.
 */
export function loaderView(text: string, file?: string, env: Map<string, string> = new Map()): LoaderView {
  const view: LoaderView = { assignments: [], skipped: [] };
  for (const l of physicalLines(readShDoc(text, file))) {
    const r = readLoaderLine(l.text, env);
    if (r.kind === 'set') {
      view.assignments.push({ key: r.key, value: r.value, line: l.line, file });
      env.set(r.key, r.value);
    } else if (r.kind === 'skip')
      view.skipped.push({ line: l.line, file, text: l.text, key: r.key, reason: r.reason });
  }
  return view;
}

/** The loader's reading of several files in read order (a later assignment overrides). */
export function loaderViews(files: readonly { path: string; text: string }[]): LoaderView {
  const env = new Map<string, string>();
  const all: LoaderView = { assignments: [], skipped: [] };
  for (const f of files) {
    const v = loaderView(f.text, f.path, env);
    all.assignments.push(...v.assignments);
    all.skipped.push(...v.skipped);
  }
  return all;
}

/** The last assignment of `key` the loader makes. */
export function loaderValue(view: LoaderView, key: string): LoaderAssignment | undefined {
  for (let i = view.assignments.length - 1; i >= 0; i--)
    if (view.assignments[i]?.key === key) return view.assignments[i];
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// vm-bhyve (lib/vm-config config::load)

/** The lines vm-bhyve keeps, each cut at `#`, trailing blanks dropped, quotes deleted; CR kept. */
export function vmBhyveLines(text: string): string[] {
  return physicalLines(readShDoc(text))
    .filter((l) => /^[a-z]/.test(l.text))
    .map((l) => ((l.text + (l.cr ? '\r' : '')).split('#')[0] as string).replace(/ *$/, '').replace(/"/g, ''));
}

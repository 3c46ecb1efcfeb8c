import { z } from 'zod';
import { assetText } from '../assets.js';
import { ToolError } from '../errors.js';
import type { Severity, Signature, SignatureSource } from './types.js';

/**
 * The message catalogs extracted from the sources (scripts/extract-catalog.mjs): every message template the
 * NVIDIA driver, bhyve/vmm and vm-bhyve can print at error or warning level, and how each is classified: a
 * knowledge-base signature written by hand, a family (a signature derived from the template, with the
 * family's cause, fix and commands), or `info` with a one-line reason.
 */

export const CATALOG_SOURCES = ['nvidia', 'freebsd', 'vm-bhyve'] as const;
export type CatalogSource = (typeof CATALOG_SOURCES)[number];

const entrySchema = z
  .object({
    id: z.string().regex(/^[a-z-]+\.[0-9a-f]{10}$/),
    text: z.string().min(1),
    level: z.enum(['error', 'warning', 'fatal', 'assert']),
    call: z.string().min(1),
    files: z.array(z.string().min(1)).min(1),
  })
  .strict();

const catalogSchema = z
  .object({
    source: z.enum(CATALOG_SOURCES),
    origin: z
      .object({
        repository: z.string().url(),
        commit: z.string().min(1),
        release: z.string().optional(),
        paths: z.array(z.string()),
        note: z.string().optional(),
        /** path -> commit, when the files were read at different commits (excerpts through a file index) */
        files: z.record(z.string(), z.string().regex(/^[0-9a-f]{40}$/)).optional(),
      })
      .strict(),
    extractedBy: z.string(),
    entries: z.array(entrySchema),
  })
  .strict();

const familySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    idPrefix: z.string().regex(/^(guest|host|xorg)\.[a-z0-9-]+(\.[a-z0-9-]+)*$/),
    sources: z.array(z.string()).min(1),
    severity: z.enum(['error', 'warning', 'info']),
    rootCause: z.boolean(),
    consequenceOf: z.array(z.string()),
    title: z.string().min(1),
    explanation: z.string().min(1),
    fix: z.array(z.string()),
    commands: z.array(z.array(z.string().min(1)).min(1)).optional(),
    noCommand: z.string().optional(),
  })
  .strict();

const classificationSchema = z
  .object({
    classification: z.record(
      z.string(),
      z.union([
        z.object({ signature: z.string().min(1) }).strict(),
        z.object({ family: z.string().min(1) }).strict(),
        z.object({ info: z.string().min(10) }).strict(),
      ]),
    ),
  })
  .strict();

export type CatalogEntry = z.infer<typeof entrySchema>;
export type Catalog = z.infer<typeof catalogSchema>;
export type Family = z.infer<typeof familySchema>;
export type Classification = { signature: string } | { family: string } | { info: string };

function readJson(file: string): unknown {
  return JSON.parse(assetText(`diagnose/catalog/${file}`));
}

function parse<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ToolError('kb-invalid', `catalog/${file}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return r.data;
}

let loaded:
  | { catalogs: Catalog[]; families: Map<string, Family>; classification: Map<string, Classification> }
  | undefined;

/** The bundled catalogs, families and classification, validated. */
export function loadCatalogs(): {
  catalogs: Catalog[];
  families: Map<string, Family>;
  classification: Map<string, Classification>;
} {
  if (loaded) return loaded;
  const catalogs = CATALOG_SOURCES.map((s) => parse(catalogSchema, readJson(`${s}.json`), `${s}.json`));
  const families = new Map(
    parse(
      z.object({ families: z.array(familySchema) }).strict(),
      readJson('families.json'),
      'families.json',
    ).families.map((f) => [f.id, f] as const),
  );
  const classification = new Map<string, Classification>(
    Object.entries(
      parse(classificationSchema, readJson('classification.json'), 'classification.json').classification,
    ) as [string, Classification][],
  );
  const result = { catalogs, families, classification };
  loaded = result;
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Templates -> patterns

/** One printf conversion: flags, width, precision, length, conversion. */
const CONVERSION = /%([-#0 +']*)([0-9]*|\*)(\.[0-9]+|\.\*)?(hh|h|ll|l|L|z|j|t|q)?([a-zA-Z%])/g;
const META = /[.[\]()*+?^$|\\{}]/g;

interface Piece {
  literal?: string;
  conv?: string;
  width?: number;
}

function pieces(line: string): Piece[] {
  const out: Piece[] = [];
  let last = 0;
  for (const m of line.matchAll(CONVERSION)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ literal: line.slice(last, at) });
    if (m[5] === '%') out.push({ literal: '%' });
    else out.push({ conv: m[5] as string, width: m[2] && m[2] !== '*' ? Number(m[2]) : 0 });
    last = at + m[0].length;
  }
  if (last < line.length) out.push({ literal: line.slice(last) });
  // merge neighbouring literals ("%%" splits them)
  const merged: Piece[] = [];
  for (const p of out) {
    const prev = merged[merged.length - 1];
    if (p.literal !== undefined && prev?.literal !== undefined) prev.literal += p.literal;
    else merged.push({ ...p });
  }
  return merged;
}

function convPattern(conv: string, width: number): string {
  const pad = width > 1 ? ' *' : '';
  if (/[diu]/.test(conv)) return `${pad}-?[0-9]+`;
  if (/[xXpo]/.test(conv)) return `${pad}(0x)?[0-9a-fA-F]*`;
  if (conv === 'c') return '.';
  return '.*';
}

function convExample(conv: string): string {
  if (/[diu]/.test(conv)) return '1';
  if (/[xXp]/.test(conv)) return '1f';
  if (conv === 'o') return '7';
  if (conv === 'c') return 'x';
  return 'x';
}

/** A literal run is "specific" when it holds this many letters. */
const MIN_SPECIFIC_LETTERS = 10;
/** Prefixes the tools print in front of every message: not specific to one message. */
const PREFIXES = /^(NVRM: (GPU )?|bhyve: |vm: (ERROR|WARNING): |nvidia-uvm: |\[nvidia-drm\] (\[GPU ID )?)/;

export interface DerivedPattern {
  pattern: string;
  keyword: string;
  example: string;
}

/** The literal run that says most about the line (its prefix removed), or undefined when none is specific. */
function bestLiteral(ps: Piece[]): string | undefined {
  let best: string | undefined;
  for (const [i, p] of ps.entries()) {
    if (p.literal === undefined) continue;
    let lit = i === 0 ? p.literal.replace(PREFIXES, '') : p.literal;
    lit = lit.trim();
    const letters = lit.replace(/[^A-Za-z]/g, '').length;
    if (letters >= MIN_SPECIFIC_LETTERS && (best === undefined || lit.length > best.length)) best = lit;
  }
  return best;
}

/**
 * Pattern, keyword and example line for one line of a template; undefined when the line has no
 * literal specific enough to identify the message (such an entry cannot be a signature of its own).
 */
export function deriveLine(line: string): DerivedPattern | undefined {
  if (DERIVED_LINES.has(line)) return DERIVED_LINES.get(line);
  const d = derive(line);
  DERIVED_LINES.set(line, d);
  return d;
}

/** deriveLine's results by line (sharedKeywords and deriveEntry read the same lines). */
const DERIVED_LINES = new Map<string, DerivedPattern | undefined>();

function derive(line: string): DerivedPattern | undefined {
  const ps = pieces(line);
  const keyword = bestLiteral(ps);
  if (keyword === undefined) return undefined;
  let pattern = '';
  let example = '';
  for (const p of ps) {
    if (p.literal !== undefined) {
      pattern += p.literal.replace(META, (c) => `\\${c}`);
      example += p.literal;
    } else {
      pattern += convPattern(p.conv as string, p.width ?? 0);
      example += convExample(p.conv as string);
    }
  }
  // Leading blanks are gone once the log prefix is stripped; a trailing catch-all matches nothing more.
  pattern = pattern.replace(/^[ \t]+/, '');
  while (pattern.endsWith('.*')) pattern = pattern.slice(0, -2);
  example = example.trimStart();
  return { pattern, keyword, example: example.trimEnd() };
}

/**
 * The line of a multi-line template that identifies it: the one with the longest specific literal that no
 * other entry shares; undefined when no line is specific.
 */
export function deriveEntry(entry: CatalogEntry, shared: Set<string>): DerivedPattern | undefined {
  const candidates = entry.text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .map((l) => ({ line: l, d: deriveLine(l) }))
    .filter((c): c is { line: string; d: DerivedPattern } => c.d !== undefined);
  const unique = candidates.filter((c) => !shared.has(c.d.keyword));
  const pool = unique.length > 0 ? unique : candidates;
  pool.sort((a, b) => b.d.keyword.length - a.d.keyword.length);
  return pool[0]?.d;
}

/** Keywords that more than one catalog entry would use (multi-line messages share their boilerplate). */
function sharedKeywords(catalogs: Catalog[]): Set<string> {
  const count = new Map<string, number>();
  for (const c of catalogs)
    for (const e of c.entries) {
      const seen = new Set<string>();
      for (const l of e.text.split('\n')) {
        const d = deriveLine(l.trimEnd());
        if (d && !seen.has(d.keyword)) {
          seen.add(d.keyword);
          count.set(d.keyword, (count.get(d.keyword) ?? 0) + 1);
        }
      }
    }
  return new Set([...count].filter(([, n]) => n > 1).map(([k]) => k));
}

function titleOf(family: Family, d: DerivedPattern): string {
  const text = d.keyword.length > 90 ? `${d.keyword.slice(0, 87)}...` : d.keyword;
  return `${family.title}: "${text}"`;
}

/** The link to a catalog file at the commit it was read from (its own commit when the origin lists one). */
export function sourceLink(catalog: Catalog, file: string): string {
  return `${catalog.origin.repository}/blob/${catalog.origin.files?.[file] ?? catalog.origin.commit}/${file}`;
}

let derived: Signature[] | undefined;

/** The signatures derived from family-classified catalog entries, in catalog order. */
export function catalogSignatures(): Signature[] {
  if (derived) return derived;
  const { catalogs, families, classification } = loadCatalogs();
  const shared = sharedKeywords(catalogs);
  const out: Signature[] = [];
  const seenPatterns = new Set<string>();
  for (const catalog of catalogs) {
    for (const entry of catalog.entries) {
      const c = classification.get(entry.id);
      if (!c || !('family' in c)) continue;
      const family = families.get(c.family);
      if (!family) throw new ToolError('kb-invalid', `catalog: ${entry.id} names unknown family ${c.family}`);
      const d = deriveEntry(entry, shared);
      if (!d) throw new ToolError('kb-invalid', `catalog: ${entry.id} has no specific text for a signature`);
      if (seenPatterns.has(d.pattern)) continue;
      seenPatterns.add(d.pattern);
      const sig: Signature = {
        id: `${family.idPrefix}.${entry.id.slice(entry.id.indexOf('.') + 1)}`,
        patterns: [d.pattern],
        keywords: [d.keyword],
        sources: family.sources as SignatureSource[],
        severity: family.severity as Severity,
        title: titleOf(family, d),
        explanation: family.explanation,
        fix: family.fix,
        rootCause: family.rootCause,
        consequenceOf: family.consequenceOf,
        references: entry.files.map((f) => sourceLink(catalog, f)),
        examples: [d.example],
        catalog: entry.id,
      };
      if (family.commands) sig.commands = family.commands;
      if (family.noCommand) sig.noCommand = family.noCommand;
      out.push(sig);
    }
  }
  derived = out;
  return out;
}

/** Catalog entries without a classification (a refreshed catalog's new templates). */
export function unclassifiedEntries(): CatalogEntry[] {
  const { catalogs, classification } = loadCatalogs();
  return catalogs.flatMap((c) => c.entries.filter((e) => !classification.has(e.id)));
}

/** An example line of an entry (its most specific line, placeholders filled with sample values). */
export function entryExample(entry: CatalogEntry): string | undefined {
  const { catalogs } = loadCatalogs();
  return deriveEntry(entry, sharedKeywords(catalogs))?.example;
}

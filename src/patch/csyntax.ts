import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Parser as ParserType, Node as SyntaxNode } from 'web-tree-sitter';
import { assetBytes, bundled } from '../assets.js';
import type { FileChange } from './types.js';

/** One parse problem tree-sitter-c reports: an ERROR node or a MISSING token. */
export interface SyntaxProblem {
  /** 1-based line. */
  line: number;
  /** "ERROR near `...`" or "MISSING ;" with whitespace collapsed: the key compared before/after. */
  text: string;
}

export interface FileSyntax {
  path: string;
  before: SyntaxProblem[];
  after: SyntaxProblem[];
  /** Problems the change introduced (after minus before, compared by text). */
  introduced: SyntaxProblem[];
}

export interface SyntaxReport {
  /** The parser could be loaded (false: the check was skipped). */
  checked: boolean;
  files: FileSyntax[];
  /** No file gained a parse problem. */
  ok: boolean;
  /** Problems already present before the change (reported, not fatal). */
  warnings: string[];
  error?: string;
}

let parserPromise: Promise<ParserType> | undefined;

/**
 * tree-sitter-c's wasm: copied into dist/patch/ by the build and embedded in the bundle, so an installed
 * bhyve-gpu never needs the tree-sitter-c package (a devDependency, whose native binding is never built).
 * Running from the sources (tests), it is read from the devDependency.
 */
function cGrammarWasm(): Uint8Array {
  try {
    return assetBytes('patch/tree-sitter-c.wasm');
  } catch {
    return readFileSync(createRequire(import.meta.url).resolve('tree-sitter-c/tree-sitter-c.wasm'));
  }
}

/** tree-sitter-c through web-tree-sitter (wasm, no native build); loaded once. */
export function loadCParser(): Promise<ParserType> {
  parserPromise ??= (async () => {
    const { Parser, Language } = await import('web-tree-sitter');
    // The bundle carries web-tree-sitter's own wasm as an asset; elsewhere it sits beside its module.
    await Parser.init(bundled() ? { wasmBinary: assetBytes('patch/tree-sitter.wasm') } : undefined);
    const language = await Language.load(cGrammarWasm());
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

function describe(node: SyntaxNode): string {
  if (node.isMissing) return `MISSING ${node.type}`;
  const text = node.text.replace(/\s+/g, ' ').trim();
  return `ERROR near \`${text.length > 60 ? `${text.slice(0, 60)}...` : text}\``;
}

/**
 * FreeBSD's <sys/cdefs.h> attribute macros. A plain C grammar does not expand macros, so
 * `nvlist_t *const nvl __unused` (as in the upstream quirks file) would read as an ERROR. Bare words are
 * matched as whole words; the ones that take arguments also swallow a balanced-free `(...)`.
 */
const ATTRIBUTE_WORDS = [
  '__unused',
  '__used',
  '__diagused',
  '__packed',
  '__dead2',
  '__pure2',
  '__noinline',
  '__always_inline',
  '__result_use_check',
  '__malloc_like',
  '__returns_twice',
  '__nonnull_all',
  '__restrict',
  '__exported',
  '__hidden',
  '__weak_symbol',
];
const ATTRIBUTE_CALLS = [
  '__aligned',
  '__printflike',
  '__scanflike',
  '__format_arg',
  '__section',
  '__nonnull',
  '__alloc_size',
];
const ATTRIBUTE_RE = new RegExp(
  `\\b(?:${ATTRIBUTE_CALLS.join('|')})\\s*\\([^()\\n]*\\)|\\b(?:${ATTRIBUTE_WORDS.join('|')})\\b`,
  'g',
);

/** Blank FreeBSD attribute macros (same length, so lines and columns stay put) before parsing. */
export function blankAttributes(text: string): string {
  return text.replace(ATTRIBUTE_RE, (m) => m.replace(/[^\n]/g, ' '));
}

/** Every ERROR / MISSING node of a C text (FreeBSD attribute macros blanked first). */
export function cProblems(parser: ParserType, text: string): SyntaxProblem[] {
  const tree = parser.parse(blankAttributes(text));
  if (!tree) return [{ line: 1, text: 'ERROR parser returned no tree' }];
  const problems: SyntaxProblem[] = [];
  const walk = (node: SyntaxNode): void => {
    if (node.isError || node.isMissing) {
      problems.push({ line: node.startPosition.row + 1, text: describe(node) });
      if (node.isError) return;
    }
    if (!node.hasError) return;
    for (const child of node.children) if (child) walk(child);
  };
  walk(tree.rootNode);
  tree.delete();
  return problems;
}

/** Problems in `after` whose text occurs more often than in `before`. */
export function introducedProblems(before: SyntaxProblem[], after: SyntaxProblem[]): SyntaxProblem[] {
  const budget = new Map<string, number>();
  for (const p of before) budget.set(p.text, (budget.get(p.text) ?? 0) + 1);
  const introduced: SyntaxProblem[] = [];
  for (const p of after) {
    const left = budget.get(p.text) ?? 0;
    if (left > 0) budget.set(p.text, left - 1);
    else introduced.push(p);
  }
  return introduced;
}

/** Parse every changed .c/.h file before and after; the change must add no parse problem. */
export async function checkCSyntax(changes: FileChange[]): Promise<SyntaxReport> {
  const cFiles = changes.filter((c) => /\.[ch]$/.test(c.path));
  if (cFiles.length === 0) return { checked: true, files: [], ok: true, warnings: [] };
  let parser: ParserType;
  try {
    parser = await loadCParser();
  } catch (e) {
    return {
      checked: false,
      files: [],
      ok: true,
      warnings: [],
      error: `C parser unavailable: ${(e as Error).message}`,
    };
  }
  const files = cFiles.map((c): FileSyntax => {
    const before = c.before === undefined ? [] : cProblems(parser, c.before);
    const after = cProblems(parser, c.after);
    return { path: c.path, before, after, introduced: introducedProblems(before, after) };
  });
  const warnings = files.flatMap((f) =>
    f.before.map((p) => `${f.path}:${p.line}: parse problem already present before the patch: ${p.text}`),
  );
  return { checked: true, files, ok: files.every((f) => f.introduced.length === 0), warnings };
}

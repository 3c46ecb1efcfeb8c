import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is test/helpers/corpus.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The public corpus lives beside the clone, in ../shared/corpus (CI has it). */
export const CORPUS_DIR = resolve(REPO_ROOT, '..', 'shared', 'corpus');

export interface CorpusFile {
  name: string;
  path: string;
  /** The verbatim text after the `# ---` header separator. */
  body: string;
  source: string;
  note: string;
}

/**
 * Thrown when the whole corpus is absent (a clone of the repository alone). scripts/run-tests.mjs then
 * loads test/helpers/corpus-skip/, which reports the test that threw it as skipped, and counts them.
 */
export class CorpusAbsentError extends Error {
  readonly code = 'BHYVE_GPU_CORPUS_ABSENT';
  constructor() {
    super(`the public corpus is not at ${CORPUS_DIR} (it sits beside the clone as ../shared/corpus)`);
  }
}

/** Set by test/helpers/corpus-skip/node-test.mjs when it is loaded (the corpus is absent). */
interface CorpusSkip {
  /** A test body is running (corpus() may throw: the wrapper turns that into a skip). */
  inTest(): boolean;
  /** The file or suite being loaded needs the corpus: the tests registered after this are skipped. */
  neededAtLoad(): void;
}

/**
 * Every corpus file of a category (e.g. "pciconf"), header stripped. When the corpus is absent: inside a
 * test, throws CorpusAbsentError; while a test file or suite is being loaded under the corpus-skip
 * wrapper, returns [] and has the tests registered from then on skipped; otherwise throws.
 */
export function corpus(category: string): CorpusFile[] {
  if (!existsSync(CORPUS_DIR)) {
    const skip = (globalThis as { __BHYVE_GPU_CORPUS_SKIP__?: CorpusSkip }).__BHYVE_GPU_CORPUS_SKIP__;
    if (skip && !skip.inTest()) {
      skip.neededAtLoad();
      return [];
    }
    throw new CorpusAbsentError();
  }
  const dir = join(CORPUS_DIR, category);
  if (!existsSync(dir)) throw new Error(`corpus not found at ${dir} (it sits beside the clone as ../shared)`);
  return readdirSync(dir)
    .filter((n) => n.endsWith('.txt'))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const text = readFileSync(path, 'utf8');
      const sep = text.indexOf('\n# ---\n');
      const header = sep >= 0 ? text.slice(0, sep) : '';
      const body = sep >= 0 ? text.slice(sep + '\n# ---\n'.length) : text;
      const source = /^# source: (.*)$/m.exec(header)?.[1] ?? '';
      const note = /^# note: (.*)$/m.exec(header)?.[1] ?? '';
      return { name, path, body, source, note };
    });
}

export function corpusFile(category: string, name: string): CorpusFile {
  const f = corpus(category).find((c) => c.name === name);
  if (!f) throw new Error(`corpus file ${category}/${name} not found`);
  return f;
}

export function fixture(...parts: string[]): string {
  return readFileSync(join(REPO_ROOT, 'test', 'fixtures', ...parts), 'utf8');
}

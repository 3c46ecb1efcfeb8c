import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { ParseError } from '../errors.js';
import type { Host } from '../host/types.js';
import { parsePatchRecordFiles, requireSourceDir } from '../make/plan.js';
import { inspectTree, readTreeFile, treePath } from '../srctree/layout.js';
import {
  type QuirksInfo,
  TREE_PATHS,
  type TreeInfo,
  type TreeLayout,
  type TreeRelease,
} from '../srctree/types.js';
import { checkCSyntax, type SyntaxReport } from './csyntax.js';
import { applyUnifiedDiff, parseUnifiedDiff } from './engine.js';
import { refuseTree } from './intpin.js';
import { stripPath } from './paths.js';
import { portExistingFile } from './port.js';
import { planQuirks, type QuirkResult } from './quirks/compose.js';
import type { QuirkSpec } from './quirks/words.js';
import { type FileChange, type FileStatus, fileStatus, type HunkReport } from './types.js';

/** Where the record of the last applied patch is kept, relative to the tree (read by `install`). */
export const PATCH_RECORD_PATH = '.bhyve-gpu/patch-record.json';

export interface PatchRecord {
  /** sha256 of the diff text (or of the generated quirk changes for the built-in INTPIN quirk). */
  patchSha256: string;
  /** "intpin" for the built-in quirk, the quirk words joined by "," for `--quirk`, else the --patch file name. */
  patch: string;
  files: { path: string; sha256Before?: string; sha256After: string }[];
  /**
   * Canonical quirk words the tree carries after this run (this run's and earlier quirk runs'), in order:
   * what `install` writes into the manifest's `quirks`. Absent for a --patch diff.
   */
  quirks?: string[];
}

/**
 * Read and check `<src>/.bhyve-gpu/patch-record.json`; undefined when there is none. A wrong shape is a
 * ParseError naming the file and the field.
 */
export async function readPatchRecord(host: Host, src: string): Promise<PatchRecord | undefined> {
  const file = treePath(src, PATCH_RECORD_PATH);
  if (!(await host.exists(file))) return undefined;
  const text = await host.readFile(file);
  parsePatchRecordFiles(text, file);
  const json = JSON.parse(text) as Record<string, unknown>;
  const hint = 'run `bhyve-gpu patch` again to rewrite it';
  for (const field of ['patchSha256', 'patch'] as const)
    if (typeof json[field] !== 'string')
      throw new ParseError(`field "${field}": expected a string`, { file }, hint);
  for (const [i, f] of (json.files as Record<string, unknown>[]).entries()) {
    if (typeof f.sha256After !== 'string')
      throw new ParseError(`field "files[${i}].sha256After": expected a string`, { file }, hint);
    if (f.sha256Before !== undefined && typeof f.sha256Before !== 'string')
      throw new ParseError(`field "files[${i}].sha256Before": expected a string`, { file }, hint);
  }
  if (
    json.quirks !== undefined &&
    !(Array.isArray(json.quirks) && json.quirks.every((q) => typeof q === 'string'))
  )
    throw new ParseError('field "quirks": expected an array of quirk words', { file }, hint);
  return json as unknown as PatchRecord;
}

export interface PatchRun {
  tree: { release: TreeRelease | undefined; layout: TreeLayout; quirks: QuirksInfo };
  result: 'applied' | 'already-applied' | 'failed';
  files: { path: string; status: FileStatus }[];
  hunks: HunkReport[];
  syntax: SyntaxReport;
  record: PatchRecord;
  /** Unified diff of every change (what --dry-run shows). */
  diff: string;
  /** Why it failed, when result is "failed". */
  errors: string[];
  written: boolean;
  info: TreeInfo;
  /** Per-quirk outcome (built-in quirks only; empty for a --patch diff). */
  quirks: QuirkResult[];
}

export interface PatchRunOptions {
  /** A unified diff to apply instead of the built-in INTPIN quirk. */
  patchText?: string;
  patchName?: string;
  partial?: boolean;
  dryRun?: boolean;
  /** `--quirk LIST`; undefined means the default, INTPIN alone (a tree it cannot go into is an error). */
  quirks?: QuirkSpec[];
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Does the diff touch pci_passthru_quirks.c or add a PASSTHRU_DEV_SET entry (a quirk for bhyve)? */
export function diffAddsQuirk(text: string): boolean {
  if (/^\+.*\bPASSTHRU_DEV_SET\s*\(/m.test(text)) return true;
  return parseUnifiedDiff(text).some(
    (p) => stripPath(p.newFileName) === TREE_PATHS.quirks || stripPath(p.oldFileName) === TREE_PATHS.quirks,
  );
}

export function unifiedDiff(changes: FileChange[]): string {
  return changes
    .map((c) =>
      createTwoFilesPatch(
        c.before === undefined ? '/dev/null' : `a/${c.path}`,
        `b/${c.path}`,
        c.before ?? '',
        c.after,
        undefined,
        undefined,
        { context: 3 },
      ).replace(/^=+\n/m, ''),
    )
    .join('');
}

/**
 * Inspect the tree, plan the change (built-in INTPIN quirk or a given diff), check the C syntax of
 * every changed C file, and (unless dryRun, or anything failed) write the files atomically through the
 * host plus the patch record. Running it on a patched tree changes nothing ("already-applied").
 */
export async function runPatch(host: Host, src: string, options: PatchRunOptions = {}): Promise<PatchRun> {
  await requireSourceDir(host, src);
  const info = await inspectTree(host, src);
  const read = (path: string) => readTreeFile(host, src, path);
  // A quirk diff needs the quirk framework: a 13.x bhyve would not build it (and needs no INTPIN quirk).
  if (options.patchText !== undefined && !info.api.passthruDevSet && diffAddsQuirk(options.patchText)) {
    refuseTree(info);
  }
  if (options.patchText === undefined && options.quirks === undefined && !info.supported) refuseTree(info);
  const quirkSet =
    options.patchText === undefined
      ? await planQuirks(info, read, options.quirks ?? [{ name: 'intpin', word: 'intpin' }])
      : undefined;
  const planned =
    quirkSet !== undefined
      ? {
          changes: quirkSet.changes,
          hunks: quirkSet.hunks,
          ok: quirkSet.results.every((q) => q.result !== 'refused'),
        }
      : await applyUnifiedDiff(options.patchText ?? '', read, {
          ...(info.srcsFile === undefined ? {} : { srcsFile: info.srcsFile }),
          ...(options.partial ? { partial: true } : {}),
          existingFile: portExistingFile,
        });
  const changes = planned.changes;
  const syntax = await checkCSyntax(changes);
  const errors = planned.hunks
    .filter((h) => h.status === 'rejected')
    .map((h) => h.reject ?? `${h.file}: hunk ${h.index} rejected`);
  for (const q of quirkSet?.results ?? [])
    if (q.result === 'refused' && !errors.some((e) => e === q.reason)) errors.push(`${q.name}: ${q.reason}`);
  for (const f of syntax.files) {
    for (const p of f.introduced)
      errors.push(`${f.path}:${p.line}: the patch introduces a C parse error: ${p.text}`);
  }
  // With --partial, quirks that hold (applied or already there) make a run with refusals a partial success.
  const someQuirkHolds =
    options.partial === true && (quirkSet?.results.some((q) => q.result !== 'refused') ?? false);
  const failed =
    (!planned.ok && !options.partial) ||
    !syntax.ok ||
    (changes.length === 0 && !planned.ok && !someQuirkHolds);
  const result: PatchRun['result'] = failed ? 'failed' : changes.length === 0 ? 'already-applied' : 'applied';
  const quirkWords = quirkSet?.results.filter((q) => q.result !== 'refused').map((q) => q.name);
  const record: PatchRecord = {
    patchSha256: sha256(options.patchText ?? unifiedDiff(changes)),
    patch: options.patchName ?? (options.quirks ?? [{ word: 'intpin' }]).map((q) => q.word).join(','),
    files: changes.map((c) => ({
      path: c.path,
      ...(c.before === undefined ? {} : { sha256Before: sha256(c.before) }),
      sha256After: sha256(c.after),
    })),
    ...(quirkWords === undefined ? {} : { quirks: quirkWords }),
  };
  if (quirkSet !== undefined && result === 'applied') {
    const previous = await readPatchRecord(host, src).catch(() => undefined);
    if (previous !== undefined) mergeRecord(record, previous);
  }
  let written = false;
  if (result === 'applied' && !options.dryRun) {
    for (const c of changes) {
      const path = treePath(src, c.path);
      if (c.before === undefined) await host.mkdir(path.slice(0, path.lastIndexOf('/')));
      await host.writeFile(path, c.after);
    }
    await host.mkdir(treePath(src, '.bhyve-gpu'));
    await host.writeFile(treePath(src, PATCH_RECORD_PATH), `${JSON.stringify(record, null, 2)}\n`);
    written = true;
  }
  return {
    tree: { release: info.release, layout: info.layout, quirks: info.quirks },
    result,
    files: changes.map((c) => ({ path: c.path, status: fileStatus(c) })),
    hunks: planned.hunks,
    syntax,
    record,
    diff: unifiedDiff(changes),
    errors,
    written,
    info,
    quirks: quirkSet?.results ?? [],
  };
}

/** Canonical key of a quirk word: mmio64=SIZE words share one key (a later size replaces an earlier one). */
function quirkKey(word: string): string {
  return word.startsWith('mmio64=') ? 'mmio64' : word;
}

/**
 * A quirk run on a tree patched before keeps what the earlier run recorded: files it changed that this run
 * did not touch, and its quirks (this run's words first replace same-named ones, then are appended).
 */
function mergeRecord(record: PatchRecord, previous: PatchRecord): void {
  const paths = new Set(record.files.map((f) => f.path));
  record.files = [...previous.files.filter((f) => !paths.has(f.path)), ...record.files];
  const earlier = previous.quirks ?? (previous.patch === 'intpin' ? ['intpin'] : []);
  const words = [...earlier];
  for (const q of record.quirks ?? []) {
    const at = words.findIndex((w) => quirkKey(w) === quirkKey(q));
    if (at >= 0) words[at] = q;
    else words.push(q);
  }
  record.quirks = words;
}

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
import { planIntpin, refuseTree } from './intpin.js';
import { stripPath } from './paths.js';
import { portExistingFile } from './port.js';
import { type FileChange, type FileStatus, fileStatus, type HunkReport } from './types.js';

/** Where the record of the last applied patch is kept, relative to the tree (read by `install`). */
export const PATCH_RECORD_PATH = '.bhyve-gpu/patch-record.json';

export interface PatchRecord {
  /** sha256 of the diff text (or of the generated quirk changes for the built-in INTPIN quirk). */
  patchSha256: string;
  /** "intpin" for the built-in quirk, else the --patch file name. */
  patch: string;
  files: { path: string; sha256Before?: string; sha256After: string }[];
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
}

export interface PatchRunOptions {
  /** A unified diff to apply instead of the built-in INTPIN quirk. */
  patchText?: string;
  patchName?: string;
  partial?: boolean;
  dryRun?: boolean;
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
  const planned =
    options.patchText === undefined
      ? await planIntpin(info, read)
      : await applyUnifiedDiff(options.patchText, read, {
          ...(info.srcsFile === undefined ? {} : { srcsFile: info.srcsFile }),
          ...(options.partial ? { partial: true } : {}),
          existingFile: portExistingFile,
        });
  const changes = planned.changes;
  const syntax = await checkCSyntax(changes);
  const errors = planned.hunks
    .filter((h) => h.status === 'rejected')
    .map((h) => h.reject ?? `${h.file}: hunk ${h.index} rejected`);
  for (const f of syntax.files) {
    for (const p of f.introduced)
      errors.push(`${f.path}:${p.line}: the patch introduces a C parse error: ${p.text}`);
  }
  const failed = (!planned.ok && !options.partial) || !syntax.ok || (changes.length === 0 && !planned.ok);
  const result: PatchRun['result'] = failed ? 'failed' : changes.length === 0 ? 'already-applied' : 'applied';
  const record: PatchRecord = {
    patchSha256: sha256(options.patchText ?? unifiedDiff(changes)),
    patch: options.patchName ?? 'intpin',
    files: changes.map((c) => ({
      path: c.path,
      ...(c.before === undefined ? {} : { sha256Before: sha256(c.before) }),
      sha256After: sha256(c.after),
    })),
  };
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
  };
}

import { parsePatch, type StructuredPatch, type StructuredPatchHunk } from 'diff';
import { ParseError } from '../errors.js';
import { hunkLines, placeHunk } from './hunk.js';
import { isMakefile, stripPath } from './paths.js';
import type { ExistingFileOutcome } from './port.js';
import { remapSrcs, srcsAdditions } from './remap.js';
import type { FileChange, HunkReport, PatchResult, TreeReader } from './types.js';

export interface ApplyOptions {
  /** Leading path components to strip (patch -pN); default: git a/ b/ prefixes. */
  strip?: number;
  /** Keep the hunks that apply even when others are rejected. */
  partial?: boolean;
  /** Tree-relative Makefile whose SRCS holds pci_passthru.c (target of remapped SRCS hunks). */
  srcsFile?: string;
  /**
   * A hunk creates a file that exists with other content: port it by content (see port.ts), or return
   * undefined to reject the hunk.
   */
  existingFile?: (path: string, existing: string, created: string) => ExistingFileOutcome | undefined;
}

interface WorkFile {
  before: string | undefined;
  lines: string[] | undefined;
  trailingNewline: boolean;
}

function split(content: string): { lines: string[]; trailingNewline: boolean } {
  const lines = content.split('\n');
  const trailingNewline = lines.length > 1 && lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();
  return { lines, trailingNewline };
}

function join(file: WorkFile): string {
  return (file.lines ?? []).join('\n') + (file.trailingNewline ? '\n' : '');
}

function rejectText(path: string, hunk: StructuredPatchHunk, reason: string): string {
  const head = `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`;
  return `${path}: ${reason}\n${head}\n${hunk.lines.join('\n')}`;
}

/** Parse a unified diff (git or plain); a diff without any file is a ParseError. */
export function parseUnifiedDiff(text: string, file?: string): StructuredPatch[] {
  let patches: StructuredPatch[];
  try {
    patches = parsePatch(text);
  } catch (e) {
    throw new ParseError(`not a unified diff: ${(e as Error).message}`, file === undefined ? {} : { file });
  }
  patches = patches.filter((p) => p.hunks.length > 0);
  if (patches.length === 0) throw new ParseError('no hunks in the diff', file === undefined ? {} : { file });
  return patches;
}

/**
 * Apply a unified diff to a tree, hunk by hunk, in memory: offset search, fuzz, "already applied"
 * detection, remapping of SRCS hunks onto the Makefile this layout uses. Nothing is returned to write
 * unless every hunk applies (or `partial`).
 */
export async function applyUnifiedDiff(
  text: string,
  read: TreeReader,
  options: ApplyOptions = {},
): Promise<PatchResult> {
  const work = new Map<string, WorkFile>();
  const load = async (path: string): Promise<WorkFile> => {
    let file = work.get(path);
    if (!file) {
      const content = await read(path);
      file =
        content === undefined
          ? { before: undefined, lines: undefined, trailingNewline: true }
          : { before: content, ...split(content) };
      work.set(path, file);
    }
    return file;
  };
  const hunks: HunkReport[] = [];
  for (const patch of parseUnifiedDiff(text)) {
    const oldPath = stripPath(patch.oldFileName, options.strip);
    const newPath = stripPath(patch.newFileName, options.strip);
    const path = newPath ?? oldPath ?? '?';
    const creates = oldPath === undefined || (patch as { isCreate?: boolean }).isCreate === true;
    const file = await load(path);
    if (newPath === undefined) {
      patch.hunks.forEach((h, i) => {
        hunks.push({
          file: path,
          index: i + 1,
          status: 'rejected',
          reject: rejectText(path, h, 'deleting files is not supported'),
        });
      });
      continue;
    }
    let shift = 0;
    for (const [i, hunk] of patch.hunks.entries()) {
      const report: HunkReport = { file: path, index: i + 1, status: 'rejected' };
      hunks.push(report);
      const lines = hunkLines(hunk);
      if (creates && file.before === undefined && file.lines === undefined) {
        file.lines = lines.new;
        report.status = 'applied';
        continue;
      }
      if (creates && file.lines !== undefined && lines.old.length === 0) {
        const same = file.lines.join('\n') === lines.new.join('\n');
        if (same) {
          report.status = 'already-applied';
          continue;
        }
        const created = `${lines.new.join('\n')}\n`;
        const outcome = options.existingFile?.(path, join(file), created);
        if (outcome === undefined || outcome.status === 'rejected') {
          const reason = outcome?.reason ?? 'the diff creates this file but it already exists';
          report.reject = rejectText(path, hunk, reason);
          continue;
        }
        report.status = outcome.status;
        report.ported = outcome.ported;
        if (outcome.status === 'applied') Object.assign(file, split(outcome.content));
        continue;
      }
      const placed =
        file.lines === undefined
          ? { status: 'rejected' as const }
          : placeHunk(file.lines, lines, hunk.oldStart - 1 + shift);
      if (placed.status === 'rejected') {
        const words = isMakefile(path) ? srcsAdditions(hunk) : undefined;
        if (words !== undefined && options.srcsFile !== undefined) {
          const target = await load(options.srcsFile);
          if (target.lines !== undefined) {
            const outcome = remapSrcs(join(target), words);
            report.remappedTo = options.srcsFile;
            if (outcome.status === 'applied') Object.assign(target, { ...split(outcome.content) });
            if (outcome.status !== 'rejected') {
              report.status = outcome.status;
              continue;
            }
            report.reject = rejectText(path, hunk, outcome.reason);
            continue;
          }
        }
        report.reject = rejectText(
          path,
          hunk,
          file.lines === undefined ? 'file not found' : 'context not found',
        );
        continue;
      }
      report.status = placed.status;
      if (placed.offset) report.offset = placed.offset;
      if (placed.fuzz) report.fuzz = placed.fuzz;
      if (placed.at !== undefined && file.lines && placed.insert && placed.remove !== undefined) {
        file.lines.splice(placed.at, placed.remove, ...placed.insert);
        shift += placed.insert.length - placed.remove + (placed.offset ?? 0);
      }
    }
  }
  const ok = hunks.every((h) => h.status !== 'rejected');
  const changes: FileChange[] = [];
  if (ok || options.partial) {
    for (const [path, file] of work) {
      if (file.lines === undefined) continue;
      const after = join(file);
      if (after !== file.before) changes.push({ path, before: file.before, after });
    }
  }
  return { hunks, changes, ok };
}

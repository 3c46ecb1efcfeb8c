import type { StructuredPatchHunk } from 'diff';
import type { HunkStatus } from './types.js';

/** The most context lines dropped at each end of a hunk before it is rejected. */
export const MAX_FUZZ = 2;

export interface HunkLines {
  /** Lines the hunk expects (context and removals). */
  old: string[];
  /** Lines the hunk leaves (context and additions). */
  new: string[];
  /** Leading / trailing context lines (candidates for fuzz). */
  leading: number;
  trailing: number;
}

/** Split a jsdiff hunk into its before and after lines ("\ No newline at end of file" is ignored). */
export function hunkLines(hunk: StructuredPatchHunk): HunkLines {
  const old: string[] = [];
  const neu: string[] = [];
  const kinds: string[] = [];
  for (const line of hunk.lines) {
    const kind = line[0];
    const text = line.slice(1);
    if (kind === '\\') continue;
    kinds.push(kind ?? ' ');
    if (kind === ' ' || kind === undefined) {
      old.push(text);
      neu.push(text);
    } else if (kind === '-') old.push(text);
    else if (kind === '+') neu.push(text);
  }
  let leading = 0;
  while (kinds[leading] === ' ') leading += 1;
  let trailing = 0;
  while (trailing < kinds.length - leading && kinds[kinds.length - 1 - trailing] === ' ') trailing += 1;
  return { old, new: neu, leading, trailing };
}

function matchesAt(file: string[], at: number, want: string[]): boolean {
  if (at < 0 || at + want.length > file.length) return false;
  for (let i = 0; i < want.length; i += 1) {
    if (file[at + i] !== want[i]) return false;
  }
  return true;
}

/** Nearest position to `expected` where `want` occurs, searching outward. */
export function findNearest(file: string[], want: string[], expected: number): number | undefined {
  const limit = Math.max(expected, file.length - expected) + 1;
  for (let d = 0; d <= limit; d += 1) {
    if (matchesAt(file, expected - d, want)) return expected - d;
    if (d > 0 && matchesAt(file, expected + d, want)) return expected + d;
  }
  return undefined;
}

export interface HunkPlacement {
  status: HunkStatus;
  /** 0-based line where the (possibly fuzzed) old lines start; undefined when already applied/rejected. */
  at?: number;
  offset?: number;
  fuzz?: number;
  /** Lines to replace and the replacement, after fuzz trimming. */
  remove?: number;
  insert?: string[];
}

/**
 * Where a hunk applies in `file` (lines), given the 0-based line it names (`expected`, already shifted
 * by earlier hunks): exactly, at an offset, already applied (its after-lines are present and its
 * before-lines are not), or with up to MAX_FUZZ context lines dropped at each end.
 */
export function placeHunk(file: string[], lines: HunkLines, expected: number): HunkPlacement {
  const exact = lines.old.length === 0 ? undefined : findNearest(file, lines.old, expected);
  if (exact !== undefined) {
    const offset = exact - expected;
    return {
      status: offset === 0 ? 'applied' : 'offset',
      at: exact,
      offset,
      remove: lines.old.length,
      insert: lines.new,
    };
  }
  if (lines.new.length > 0 && findNearest(file, lines.new, expected) !== undefined) {
    return { status: 'already-applied' };
  }
  for (let fuzz = 1; fuzz <= MAX_FUZZ; fuzz += 1) {
    const head = Math.min(fuzz, lines.leading);
    const tail = Math.min(fuzz, lines.trailing);
    if (head + tail === 0) break;
    const old = lines.old.slice(head, lines.old.length - tail);
    const neu = lines.new.slice(head, lines.new.length - tail);
    if (old.length === 0) continue;
    const at = findNearest(file, old, expected + head);
    if (at !== undefined) {
      return { status: 'fuzz', at, fuzz, offset: at - head - expected, remove: old.length, insert: neu };
    }
  }
  return { status: 'rejected' };
}

import type { StructuredPatchHunk } from 'diff';
import { addToSrcsList } from '../srctree/makefile.js';

/** The source every bhyve SRCS list that matters here holds. */
export const SRCS_ANCHOR = 'pci_passthru.c';

function listWord(line: string): string | undefined {
  const body = line.replace(/\\\s*$/, '').trim();
  return /^[\w.+-]+$/.test(body) ? body : undefined;
}

/**
 * If a Makefile hunk only adds source files to a one-word-per-line SRCS list (removed lines may only be
 * the same words losing or gaining a backslash), the words it adds; otherwise undefined.
 */
export function srcsAdditions(hunk: StructuredPatchHunk): string[] | undefined {
  const added: string[] = [];
  const removed: string[] = [];
  for (const line of hunk.lines) {
    const kind = line[0];
    if (kind !== '+' && kind !== '-') continue;
    const word = listWord(line.slice(1));
    if (word === undefined) return undefined;
    (kind === '+' ? added : removed).push(word);
  }
  if (!removed.every((w) => added.includes(w))) return undefined;
  const fresh = added.filter((w) => !removed.includes(w));
  if (fresh.length === 0 || !fresh.every((w) => /\.(c|S|s|cc)$/.test(w))) return undefined;
  return fresh;
}

export type RemapOutcome =
  | { status: 'applied'; content: string }
  | { status: 'already-applied' }
  | { status: 'rejected'; reason: string };

/** Re-express "add these sources" as additions to the SRCS list that holds pci_passthru.c. */
export function remapSrcs(content: string, words: string[]): RemapOutcome {
  let next = content;
  for (const word of words) {
    const updated = addToSrcsList(next, SRCS_ANCHOR, word);
    if (updated === undefined) return { status: 'rejected', reason: `no SRCS list holds ${SRCS_ANCHOR}` };
    next = updated;
  }
  return next === content ? { status: 'already-applied' } : { status: 'applied', content: next };
}

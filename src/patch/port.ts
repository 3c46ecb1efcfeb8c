import { findPassthruEntries } from '../srctree/cfunctions.js';
import { analyzeQuirks } from '../srctree/quirks.js';
import { TREE_PATHS } from '../srctree/types.js';
import { mergeIntoInit } from './intpin.js';

/** What became of a diff hunk that creates a file the tree already has. */
export type ExistingFileOutcome =
  | { status: 'applied'; content: string; ported: string }
  | { status: 'already-applied'; ported: string }
  | { status: 'rejected'; reason: string };

/**
 * A diff that creates pci_passthru_quirks.c with an NVIDIA INTPIN quirk (D51892 and the like), on a tree
 * that already has a quirks file, is ported by content instead of being rejected for "file exists":
 * - the tree's first NVIDIA entry already sets INTPIN: already applied;
 * - the tree has an NVIDIA entry (nvidia-wip config mirror): INTPIN is merged into that entry's init,
 *   since bhyve runs only the first matching quirk and a second NVIDIA entry would never run.
 * Anything else (another file, a diff that is not an INTPIN quirk, a file with only other vendors'
 * quirks) is undefined: the engine rejects the hunk as before.
 */
export function portExistingFile(
  path: string,
  existing: string,
  created: string,
): ExistingFileOutcome | undefined {
  if (path !== TREE_PATHS.quirks) return undefined;
  const incoming = analyzeQuirks(created);
  if (!incoming.setsIntpin) return undefined;
  const have = analyzeQuirks(existing);
  const first = have.nvidiaEntries[0];
  if (have.setsIntpin) {
    return {
      status: 'already-applied',
      ported: `the tree's NVIDIA quirk ${first ?? ''} already sets PCIR_INTPIN`,
    };
  }
  if (first === undefined) {
    return {
      status: 'rejected',
      reason:
        'the diff creates this file but it already exists with other quirks (run without --patch to append the INTPIN entry)',
    };
  }
  const entry = findPassthruEntries(existing).find((e) => e.name === first);
  const merged = entry?.init === undefined ? undefined : mergeIntoInit(existing, entry.init);
  if (merged === undefined) {
    return {
      status: 'rejected',
      reason: `the diff creates this file but it already exists, and INTPIN cannot be merged into NVIDIA quirk ${first}`,
    };
  }
  return { status: 'applied', content: merged, ported: `PCIR_INTPIN merged into ${entry?.init ?? first}()` };
}

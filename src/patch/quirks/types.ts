import type { TreeInfo } from '../../srctree/types.js';
import type { TreeReader } from '../types.js';

/** What a quirk finds in a tree, by content. */
export type QuirkState = 'present' | 'absent' | 'partial' | 'conflicting';

/** One quirk's plan against the tree as the quirks before it left it (in memory). */
export interface QuirkPlan {
  state: QuirkState;
  /** New contents by tree-relative path (only files this quirk changes). */
  edits: { path: string; after: string }[];
  /** Why the quirk cannot go into this tree; no edits then. */
  refused?: string;
  /** What was done or found, one line ("merged into nvidia_gpu_init()"). */
  detail?: string;
  /** Things the user must know (firmware limits, a reboot). */
  warnings: string[];
}

export interface QuirkContext {
  tree: TreeInfo;
  /** Reads the tree with the earlier quirks' edits applied. */
  read: TreeReader;
}

export function refusal(state: QuirkState, reason: string): QuirkPlan {
  return { state, edits: [], refused: reason, warnings: [] };
}

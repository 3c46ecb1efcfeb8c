/** Outcomes of applying a unified diff (or the project's own quirk) to a source tree. */

export type HunkStatus = 'applied' | 'offset' | 'fuzz' | 'already-applied' | 'rejected';

export interface HunkReport {
  /** Tree-relative path the hunk names (after stripping). */
  file: string;
  /** 1-based hunk number within its file. */
  index: number;
  status: HunkStatus;
  /** Lines between where the hunk said it applies and where it did. */
  offset?: number;
  /** Context lines dropped at each end to make it apply (1 or 2). */
  fuzz?: number;
  /** The file the hunk was re-expressed onto (an SRCS hunk aimed at a Makefile this layout does not use). */
  remappedTo?: string;
  /**
   * How a hunk that creates an existing file was ported by content instead (e.g. "PCIR_INTPIN merged into
   * nvidia_gpu_init()"): see src/patch/port.ts.
   */
  ported?: string;
  /** The hunk text and the reason, for a rejected hunk. */
  reject?: string;
}

export type FileStatus = 'created' | 'modified' | 'unchanged';

/** One file the patch touches: its content before (undefined for a new file) and after. */
export interface FileChange {
  path: string;
  before: string | undefined;
  after: string;
}

export interface PatchResult {
  hunks: HunkReport[];
  /** Files whose content changes (empty when nothing applies or everything is already applied). */
  changes: FileChange[];
  /** Every hunk applied or was already applied. */
  ok: boolean;
}

/** Reads a tree-relative file; undefined when it does not exist. */
export type TreeReader = (path: string) => Promise<string | undefined>;

export function fileStatus(change: FileChange): FileStatus {
  if (change.before === undefined) return 'created';
  return change.before === change.after ? 'unchanged' : 'modified';
}

import { ToolError } from '../../errors.js';
import type { TreeInfo } from '../../srctree/types.js';
import { planIntpin } from '../intpin.js';
import type { FileChange, HunkReport, TreeReader } from '../types.js';
import { planHideHypervisor } from './hide-hypervisor.js';
import { planMirror } from './mirror.js';
import { planMmio64 } from './mmio64.js';
import type { QuirkContext, QuirkPlan, QuirkState } from './types.js';
import type { QuirkSpec } from './words.js';

/** One quirk's outcome, as `patch --json` reports it in `quirks`. */
export interface QuirkResult {
  /** The canonical quirk word ("intpin", "mmio64=256G"). */
  name: string;
  result: 'applied' | 'already-applied' | 'refused';
  /** What the tree held before: present / absent / partial / conflicting. */
  state: QuirkState;
  reason?: string;
  detail?: string;
  warnings: string[];
  /** Files this quirk changed. */
  files: string[];
}

export interface QuirkSetPlan {
  results: QuirkResult[];
  /** Net changes of the quirks that were not refused (before = the tree, after = all edits). */
  changes: FileChange[];
  hunks: HunkReport[];
}

async function planIntpinQuirk(ctx: QuirkContext): Promise<QuirkPlan & { hunks: HunkReport[] }> {
  try {
    const planned = await planIntpin(ctx.tree, ctx.read);
    if (!planned.ok) {
      const reject = planned.hunks.find((h) => h.status === 'rejected');
      return {
        state: 'absent',
        edits: [],
        refused: reject?.reject ?? 'the INTPIN quirk does not apply',
        warnings: [],
        hunks: planned.hunks,
      };
    }
    return {
      state: planned.action === 'present' ? 'present' : 'absent',
      edits: planned.changes.map((c) => ({ path: c.path, after: c.after })),
      detail:
        planned.action === 'create'
          ? 'created the quirks file'
          : planned.action === 'merge'
            ? 'merged PCIR_INTPIN into the first NVIDIA entry'
            : planned.action === 'append'
              ? 'appended an NVIDIA entry'
              : 'the first NVIDIA entry sets PCIR_INTPIN already',
      warnings: [],
      hunks: planned.hunks,
    };
  } catch (e) {
    if (e instanceof ToolError)
      return { state: 'absent', edits: [], refused: e.message, warnings: [], hunks: [] };
    throw e;
  }
}

function planOne(spec: QuirkSpec, ctx: QuirkContext): Promise<QuirkPlan & { hunks?: HunkReport[] }> {
  switch (spec.name) {
    case 'intpin':
      return planIntpinQuirk(ctx);
    case 'nvidia-mirror':
      return planMirror(ctx);
    case 'hide-hypervisor':
      return planHideHypervisor(ctx);
    case 'mmio64':
      return planMmio64(ctx, spec.size);
  }
}

/**
 * Plan every quirk in order against one in-memory view of the tree: each quirk sees the edits of the ones
 * before it (so INTPIN and the mirror land in the same NVIDIA entry, whichever comes first). A refused quirk
 * changes nothing.
 */
export async function planQuirks(
  tree: TreeInfo,
  read: TreeReader,
  specs: readonly QuirkSpec[],
): Promise<QuirkSetPlan> {
  const original = new Map<string, string | undefined>();
  const overlay = new Map<string, string>();
  const view: TreeReader = async (path) => {
    if (overlay.has(path)) return overlay.get(path);
    if (!original.has(path)) original.set(path, await read(path));
    return original.get(path);
  };
  const results: QuirkResult[] = [];
  const hunks: HunkReport[] = [];
  for (const spec of specs) {
    const plan = await planOne(spec, { tree, read: view });
    const files: string[] = [];
    if (plan.refused === undefined) {
      for (const edit of plan.edits) {
        if (!original.has(edit.path)) original.set(edit.path, await read(edit.path));
        if ((await view(edit.path)) === edit.after) continue;
        overlay.set(edit.path, edit.after);
        files.push(edit.path);
      }
    }
    if (plan.hunks) hunks.push(...plan.hunks);
    else if (plan.refused === undefined)
      for (const [i, file] of files.entries())
        hunks.push({
          file,
          index: i + 1,
          status: 'applied',
          ported: `${spec.word}: ${plan.detail ?? 'applied'}`,
        });
    results.push({
      name: spec.word,
      result: plan.refused !== undefined ? 'refused' : files.length > 0 ? 'applied' : 'already-applied',
      state: plan.state,
      ...(plan.refused === undefined ? {} : { reason: plan.refused }),
      ...(plan.detail === undefined ? {} : { detail: plan.detail }),
      warnings: plan.warnings,
      files,
    });
  }
  const changes: FileChange[] = [];
  for (const [path, after] of overlay) {
    const before = original.get(path);
    if (before !== after) changes.push({ path, before, after });
  }
  return { results, changes, hunks };
}

import { ToolError } from '../errors.js';
import { blankComments, findFunction, findPassthruEntries } from '../srctree/cfunctions.js';
import { addToSrcsList, srcsListed } from '../srctree/makefile.js';
import { analyzeQuirks } from '../srctree/quirks.js';
import { TREE_PATHS, type TreeInfo } from '../srctree/types.js';
import {
  INTPIN_INCLUDES,
  INTPIN_MARKER,
  intpinEntrySource,
  intpinQuirkFile,
  intpinStatement,
} from './quirks/intpin.js';
import { SRCS_ANCHOR } from './remap.js';
import type { FileChange, HunkReport, PatchResult, TreeReader } from './types.js';

const QUIRKS_WORD = 'pci_passthru_quirks.c';

/** How the INTPIN quirk gets into the quirks file. */
export type IntpinAction = 'create' | 'merge' | 'append' | 'present';

/** Throw the tree-unsupported ToolError for a tree the quirk cannot go into (13.x, no bhyve, ...). */
export function refuseTree(tree: TreeInfo): never {
  throw new ToolError('tree-unsupported', tree.reason ?? 'this source tree is not supported', {
    hint: tree.api.passthruDevSet
      ? 'point --src at a FreeBSD 14 or 15 source tree (usr.sbin/bhyve with pci_passthru.h)'
      : 'use a FreeBSD 14.x or 15.x source tree (bhyve-gpu source), or the nvidia-wip branch',
  });
}

const INTPIN_ZERO = /pci_set_cfgdata8\s*\(\s*(\w+)\s*,\s*PCIR_INTPIN\s*,\s*\(?\s*0+[uUlL]*\s*\)?\s*\)/g;

/**
 * Put the INTPIN statement at the top of an existing init function, after its declarations (or, when
 * the init sets INTPIN to 0, make that setting 1).
 */
export function mergeIntoInit(text: string, init: string): string | undefined {
  const fn = findFunction(text, init);
  if (!fn) return undefined;
  const pi = /struct\s+pci_devinst\s*\*\s*(?:const\s+)?(\w+)/.exec(fn.params)?.[1];
  if (pi === undefined) return undefined;
  const body = fn.body;
  // An init that sets INTPIN to 0 would undo a statement put above it: turn that setting into 1.
  const zero = [...blankComments(body).matchAll(INTPIN_ZERO)].pop();
  if (zero?.index !== undefined) {
    const start = zero.index;
    const lineStart = body.lastIndexOf('\n', start) + 1;
    const indent = /^[ \t]*/.exec(body.slice(lineStart))?.[0] ?? '\t';
    const fixed = `${body.slice(0, lineStart)}${indent}/* ${INTPIN_MARKER}: the guest needs an IRQ. */\n${body.slice(lineStart, start)}${intpinStatement(zero[1] ?? pi).replace(/;$/, '')}${body.slice(start + zero[0].length)}`;
    return text.slice(0, fn.open + 1) + fixed + text.slice(fn.close);
  }
  const lines = body.split('\n');
  // lines[0] is the rest of the "{" line; skip declarations (and the blank line after them).
  let at = 1;
  const declaration =
    /^\s+(?:const\s+|static\s+|unsigned\s+|struct\s+\w+|enum\s+\w+|[a-z_][\w]*_t\b|int\b|char\b|bool\b|long\b|short\b|void\b)[^;(]*(?:=[^;]*)?;\s*$/;
  while (at < lines.length && declaration.test(lines[at] ?? '')) at += 1;
  const hadDeclarations = at > 1;
  if (hadDeclarations && (lines[at] ?? '').trim() === '') at += 1;
  const insert = [`\t/* ${INTPIN_MARKER}: the guest needs an IRQ. */`, `\t${intpinStatement(pi)}`, ''];
  lines.splice(at, 0, ...insert);
  return text.slice(0, fn.open + 1) + lines.join('\n') + text.slice(fn.close);
}

/** Add the quirk entry to an existing quirks file: missing includes after the last include, entry at the end. */
export function appendEntry(text: string, tree: TreeInfo): string {
  const read = tree.api.hostReadConfig ?? 'pci_host_read_config';
  const missing = INTPIN_INCLUDES.filter((inc) => !text.includes(inc));
  let next = text;
  if (missing.length > 0) {
    const includes = [...next.matchAll(/^#include[^\n]*\n/gm)];
    const last = includes[includes.length - 1];
    const at = last ? (last.index ?? 0) + last[0].length : 0;
    next = `${next.slice(0, at)}${missing.join('\n')}\n${next.slice(at)}`;
  }
  const sep = next.endsWith('\n') ? '\n' : '\n\n';
  return `${next}${sep}${intpinEntrySource(read)}`;
}

/**
 * Plan the project's INTPIN quirk for a tree, in memory: create the quirks file, merge the INTPIN
 * setting into the first NVIDIA entry's init (bhyve runs only the first matching quirk), or append an
 * entry next to other vendors' quirks; then list the file in the SRCS that holds pci_passthru.c.
 * Throws ToolError('tree-unsupported') on a tree without the quirk framework.
 */
export async function planIntpin(
  tree: TreeInfo,
  read: TreeReader,
): Promise<PatchResult & { action: IntpinAction }> {
  if (!tree.supported || tree.srcsFile === undefined) refuseTree(tree);
  const changes: FileChange[] = [];
  const hunks: HunkReport[] = [];
  const before = await read(TREE_PATHS.quirks);
  let after: string;
  let action: IntpinAction;
  if (before === undefined) {
    action = 'create';
    after = intpinQuirkFile(tree.api.hostReadConfig ?? 'pci_host_read_config');
  } else if (analyzeQuirks(before).setsIntpin) {
    action = 'present';
    after = before;
  } else {
    const first = analyzeQuirks(before).nvidiaEntries[0];
    const entry = findPassthruEntries(before).find((e) => e.name === first);
    if (entry?.init !== undefined) {
      action = 'merge';
      const merged = mergeIntoInit(before, entry.init);
      if (merged === undefined) {
        throw new ToolError(
          'merge-failed',
          `${TREE_PATHS.quirks}: cannot find ${entry.init}() to add INTPIN to`,
          {
            hint: `add ${intpinStatement('pi')} to the NVIDIA quirk's init by hand`,
          },
        );
      }
      after = merged;
    } else if (entry !== undefined) {
      throw new ToolError('merge-failed', `${TREE_PATHS.quirks}: NVIDIA quirk ${entry.name} has no init`, {
        hint: `give ${entry.name} an init that calls ${intpinStatement('pi')}`,
      });
    } else {
      action = 'append';
      after = appendEntry(before, tree);
    }
  }
  hunks.push({
    file: TREE_PATHS.quirks,
    index: 1,
    status: action === 'present' ? 'already-applied' : 'applied',
  });
  if (after !== before) changes.push({ path: TREE_PATHS.quirks, before, after });
  const makefile = (await read(tree.srcsFile)) ?? '';
  const listedAnywhere = tree.quirks.listed || srcsListed(makefile, QUIRKS_WORD);
  const report: HunkReport = { file: tree.srcsFile, index: 1, status: 'already-applied' };
  if (!listedAnywhere) {
    const updated = addToSrcsList(makefile, SRCS_ANCHOR, QUIRKS_WORD);
    if (updated === undefined) {
      report.status = 'rejected';
      report.reject = `${tree.srcsFile}: no SRCS list holds ${SRCS_ANCHOR}`;
    } else {
      report.status = 'applied';
      changes.push({ path: tree.srcsFile, before: makefile, after: updated });
    }
  }
  hunks.push(report);
  const ok = report.status !== 'rejected';
  return { hunks, changes: ok ? changes : [], ok, action };
}

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ToolError, UsageError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { requireSourceDir } from '../../make/plan.js';
import { parseQuirkList, type QuirkSpec } from '../../patch/quirks/words.js';
import { type PatchRun, runPatch } from '../../patch/run.js';
import { inspectTree } from '../../srctree/layout.js';
import { releaseName } from '../../srctree/release.js';
import { SCHEMA_VERSION } from '../../version.js';
import { EXIT, globals, note, out, printJson, style } from '../output.js';

interface PatchOptions {
  src?: string;
  patch?: string;
  partial?: boolean;
  dryRun?: boolean;
  quirk?: string;
}

function jsonDocument(run: PatchRun): Record<string, unknown> {
  return {
    schemaVersion: SCHEMA_VERSION,
    tree: run.tree,
    result: run.result,
    dryRun: !run.written && run.result === 'applied',
    files: run.files,
    hunks: run.hunks,
    syntax: {
      checked: run.syntax.checked,
      ok: run.syntax.ok,
      files: run.syntax.files,
      warnings: run.syntax.warnings,
      ...(run.syntax.error === undefined ? {} : { error: run.syntax.error }),
    },
    record: run.record,
    ...(run.quirks.length > 0
      ? {
          quirks: run.quirks.map((q) => ({
            name: q.name,
            result: q.result,
            ...(q.reason === undefined ? {} : { reason: q.reason }),
            state: q.state,
            ...(q.detail === undefined ? {} : { detail: q.detail }),
            files: q.files,
            ...(q.warnings.length > 0 ? { warnings: q.warnings } : {}),
          })),
        }
      : {}),
    ...(run.errors.length > 0 ? { errors: run.errors } : {}),
  };
}

function printHuman(run: PatchRun, dryRun: boolean): void {
  const rel = run.tree.release ? releaseName(run.tree.release) : 'unknown release';
  note(`tree: ${rel}, layout ${run.tree.layout}`);
  for (const h of run.hunks) {
    const extra = [
      h.offset ? `offset ${h.offset}` : '',
      h.fuzz ? `fuzz ${h.fuzz}` : '',
      h.remappedTo ? `onto ${h.remappedTo}` : '',
      h.ported ?? '',
    ].filter(Boolean);
    note(`  ${h.file} #${h.index}: ${h.status}${extra.length ? ` (${extra.join(', ')})` : ''}`);
  }
  for (const q of run.quirks) {
    const why = q.result === 'refused' ? q.reason : q.detail;
    note(`  quirk ${q.name}: ${q.result}${why ? ` (${why})` : ''}`);
    for (const w of q.warnings) note(`${style.yellow('warning:')} ${q.name}: ${w}`);
  }
  for (const w of run.syntax.warnings) note(`${style.yellow('warning:')} ${w}`);
  if (run.syntax.error) note(`${style.yellow('warning:')} ${run.syntax.error}; C syntax not checked`);
  if (run.result === 'failed') {
    for (const e of run.errors) note(`${style.red('rejected:')} ${e}`);
    note('nothing was written');
    return;
  }
  if (run.result === 'already-applied') {
    out('already applied: nothing to change');
    return;
  }
  if (dryRun) {
    out(run.diff.trimEnd());
    note('dry run: nothing was written');
    return;
  }
  for (const f of run.files) out(`${f.status} ${f.path}`);
  const rejected = run.hunks.filter((h) => h.status === 'rejected').length;
  if (rejected === 0) {
    out('applied; record saved in .bhyve-gpu/patch-record.json');
    return;
  }
  for (const e of run.errors) note(`${style.red('rejected:')} ${e}`);
  const total = run.hunks.length;
  out(
    `partially applied: ${total - rejected} of ${total} hunks, ${rejected} rejected; record saved in .bhyve-gpu/patch-record.json`,
  );
}

export function register(program: Command): void {
  program
    .command('patch')
    .description('apply the NVIDIA INTPIN quirk (or a given unified diff) to a FreeBSD source tree')
    .requiredOption(
      '--src <dir>',
      'FreeBSD source tree (e.g. /usr/local/bhyve-gpu/src, from `bhyve-gpu source`)',
    )
    .option('--patch <file>', 'apply this unified diff instead of the built-in INTPIN quirk')
    .option(
      '--quirk <list>',
      'comma list of quirks: intpin (default), nvidia-mirror, hide-hypervisor, mmio64=SIZE (e.g. mmio64=256G)',
    )
    .option('--partial', 'write the hunks (or quirks) that apply even when others are rejected')
    .option('--dry-run', 'show the unified diff of the changes and write nothing')
    .addHelpText(
      'after',
      `
--quirk picks bhyve-gpu's own quirks, applied in the order given and each reported as applied,
already-applied or refused (with the reason): intpin; nvidia-mirror (traps the NVIDIA config-space mirror
in BAR0 at 0x88000); hide-hypervisor (vmm.ko: sysctl/tunable hw.vmm.hide_hypervisor, default 0);
mmio64=SIZE (bhyve reads the 64-bit MMIO window size from the config key pci.mmio64_size, SIZE is its
default). See docs/patching.md.

Without --patch or --quirk, adds bhyve-gpu's INTPIN quirk: creates usr.sbin/bhyve/pci_passthru_quirks.c, or merges
the INTPIN setting into an existing NVIDIA quirk, and lists the file in the SRCS that holds pci_passthru.c.
A diff given with --patch is applied hunk by hunk (offset, fuzz, already-applied detection); an SRCS hunk
for a Makefile this tree does not use is moved onto the one that lists pci_passthru.c.

The tree is usually the one \`bhyve-gpu source\` fetched (/usr/local/bhyve-gpu/src); a tree of your own,
e.g. /usr/src, can be patched too.

Examples:
  bhyve-gpu patch --src /usr/local/bhyve-gpu/src --dry-run
  bhyve-gpu patch --src /usr/local/bhyve-gpu/src
  bhyve-gpu patch --src /usr/local/bhyve-gpu/src --patch D51892.diff --json
  bhyve-gpu patch --src /usr/local/bhyve-gpu/src --quirk intpin,nvidia-mirror,hide-hypervisor,mmio64=256G

Exit codes: 0 applied or already applied, 1 rejected hunk / refused quirk / new C parse error / unsupported tree,
2 usage (also --src missing or not a directory), 4 partial (--partial with rejected hunks)`,
    )
    .action(async (opts: PatchOptions, cmd: Command) => {
      const g = globals(cmd);
      if (opts.src === undefined || opts.src === '') throw new UsageError('--src is required');
      const host = await openHost(g.host, g.root);
      try {
        await requireSourceDir(host, opts.src);
        if (opts.quirk !== undefined && opts.patch !== undefined)
          throw new UsageError('--quirk and --patch cannot be combined: patch with one, then the other');
        const quirks: QuirkSpec[] | undefined =
          opts.quirk === undefined ? undefined : parseQuirkList(opts.quirk);
        let patchText: string | undefined;
        if (opts.patch !== undefined) {
          try {
            patchText = await readFile(opts.patch, 'utf8');
          } catch (e) {
            throw new UsageError(`cannot read --patch ${opts.patch}: ${(e as Error).message}`);
          }
        }
        let run: PatchRun;
        try {
          run = await runPatch(host, opts.src, {
            ...(patchText === undefined ? {} : { patchText, patchName: opts.patch }),
            partial: opts.partial === true,
            dryRun: opts.dryRun === true,
            ...(quirks === undefined ? {} : { quirks }),
          });
        } catch (e) {
          if (!(e instanceof ToolError) || !g.json) throw e;
          const info = await inspectTree(host, opts.src);
          printJson({
            schemaVersion: SCHEMA_VERSION,
            tree: { release: info.release, layout: info.layout, quirks: info.quirks },
            result: 'failed',
            error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) },
          });
          process.exitCode = e.exitCode;
          return;
        }
        if (g.json) printJson(jsonDocument(run));
        else printHuman(run, opts.dryRun === true);
        const rejected =
          run.hunks.some((h) => h.status === 'rejected') || run.quirks.some((q) => q.result === 'refused');
        if (run.result === 'failed') process.exitCode = EXIT.failure;
        else if (rejected) process.exitCode = EXIT.partial;
      } finally {
        await host.close();
      }
    });
}

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ToolError, UsageError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { quoteArgv } from '../../host/shell-quote.js';
import type { Host } from '../../host/types.js';
import { planInstall } from '../../install/plan.js';
import { INSTALL_MANIFEST, STATE_DIR } from '../../inventory/probes.js';
import type { InstallManifest } from '../../inventory/types.js';
import { changedFiles, planBuild, writeBuildRecord } from '../../make/plan.js';
import { createProgress, formatElapsed, gitPhase } from '../../make/progress.js';
import { defaultLogFile, describeFailure, detectJobs, runBuild } from '../../make/runner.js';
import { applyPlan } from '../../plan/apply.js';
import { makeFileEdit, type Plan } from '../../plan/types.js';
import { branchKnowledge } from '../../srctree/branches.js';
import { checkDestination, DEFAULT_SOURCE_DIR, fetchSource } from '../../srctree/git.js';
import {
  applyQuirks,
  readInstallManifest,
  recordedPatches,
  type SourceTarget,
  sourceTarget,
  type UpdateStatus,
  unpatchTree,
  updateStatus,
} from '../../update/update.js';
import { SCHEMA_VERSION } from '../../version.js';
import { EXIT, globals, note, out, printJson } from '../output.js';
import { commandLine } from '../plan-command.js';

interface UpdateOptions {
  src: string;
  branch?: string;
  repo?: string;
  jobs?: string;
  dryRun?: boolean;
  yes?: boolean;
  check?: boolean;
}

const HELP = `
After freebsd-update (which puts the stock /usr/sbin/bhyve and vmm.ko back) or on a new patch level: fetch
the same repository and flavor at the host's release now (releng/X.Y, stable/X or Beckhoff's nvidia-wip),
re-apply the quirks recorded in ${INSTALL_MANIFEST}, rebuild the minimal set, and install it as one
journal entry (undo with bhyve-gpu rollback ID). Without --yes it shows the plan.
The install is the last step: when the recorded quirks no longer apply to the new tree, or the build fails,
update stops and the installed files stay as they were.

--check is for cron and periodic(8): it changes nothing and exits 3 when the installed patched bhyve was
overwritten or was built for an older userland than the host runs, 0 when it is current (or bhyve-gpu
installed nothing), 1 when the installed files cannot be read.

Examples:
  bhyve-gpu update --check
  bhyve-gpu update                       # the plan: source -> patch (recorded quirks) -> build -> install
  bhyve-gpu update --yes
  bhyve-gpu update --branch phab/corvink/14.2/nvidia-wip --yes

Exit codes: 0 updated, current, or plan shown; 1 failure or refusal (installed files unchanged);
  2 usage error; 3 changes pending (--check); 4 partial install (see bhyve-gpu journal).`;

export function register(program: Command): void {
  program
    .command('update')
    .description(
      'rebuild and reinstall the patched bhyve after freebsd-update (same source flavor, recorded quirks)',
    )
    .option('--src <dir>', 'source tree to fetch into and build in (never /usr/src)', DEFAULT_SOURCE_DIR)
    .option('--branch <name>', 'branch to build from (default: the recorded flavor at the host release)')
    .option('--repo <url>', 'git repository (default: the one recorded in the install manifest)')
    .option('--jobs <n>', 'parallel make jobs (default: sysctl -n hw.ncpu)')
    .option('--dry-run', 'show the plan and change nothing (the default without --yes)')
    .option('-y, --yes', 'fetch, patch, build and install (the install is journaled)')
    .option(
      '--check',
      'change nothing; exit 3 when the patched bhyve is overwritten or behind, 0 when current',
    )
    .addHelpText('after', HELP)
    .action(async (opts: UpdateOptions, cmd: Command) => {
      const g = globals(cmd);
      const src = checkDestination(resolve(opts.src));
      let jobs: number | undefined;
      if (opts.jobs !== undefined) {
        jobs = Number(opts.jobs);
        if (!Number.isInteger(jobs) || jobs < 1)
          throw new UsageError(`--jobs ${opts.jobs}: expected a positive integer`);
      }
      const host = await openHost(g.host, g.root);
      try {
        const manifest = await readInstallManifest(host);
        if (!manifest) {
          const message = `no bhyve-gpu install on this host (no ${INSTALL_MANIFEST}): nothing to update`;
          if (g.json) printJson({ schemaVersion: SCHEMA_VERSION, installed: false, pending: false, message });
          else out(message);
          return;
        }
        const status = await updateStatus(host, manifest);
        if (opts.check) return check(status, g.json === true);
        const patches = recordedPatches(manifest);
        const target = await sourceTarget(host, manifest, {
          ...(opts.branch ? { branch: opts.branch } : {}),
          ...(opts.repo ? { repo: opts.repo } : {}),
        });
        if (!opts.yes || opts.dryRun) {
          showPlan(status, target, patches.quirks, patches.diffs, src, g.json === true);
          return;
        }
        if (!status.pending && !opts.branch) {
          const message = `the patched bhyve is current (${describeInstall(manifest)}): nothing to update`;
          if (g.json) printJson({ schemaVersion: SCHEMA_VERSION, installed: true, pending: false, message });
          else out(message);
          return;
        }
        if (host.kind === 'snapshot')
          throw new ToolError(
            'read-only-host',
            'update runs git and make: a snapshot can show the plan only',
            {
              hint: 'drop --yes to see the plan, or run on the host itself (or --host ssh://HOST)',
              exitCode: 2,
            },
          );
        if (patches.diffs.length > 0) throw diffRefusal(patches.diffs, src);
        await runUpdate(host, { src, target, quirks: patches.quirks, jobs, json: g.json === true });
      } finally {
        await host.close();
      }
    });
}

function describeInstall(m: InstallManifest): string {
  const commit = m.source?.commit ? ` at ${m.source.commit.slice(0, 12)}` : '';
  return `${m.source?.branch ?? 'unknown branch'}${commit}, installed ${m.installedAt}${m.userland ? ` for ${m.userland}` : ''}`;
}

function check(status: UpdateStatus, json: boolean): void {
  const current = !status.pending && status.unknown.length === 0;
  if (json)
    printJson({
      schemaVersion: SCHEMA_VERSION,
      installed: true,
      pending: status.pending,
      reasons: status.reasons,
      unknown: status.unknown,
      files: status.files,
      userland: status.userland,
      ...(status.pending ? { commands: [['bhyve-gpu', 'update', '--yes']] } : {}),
    });
  else if (status.pending) {
    out('the patched bhyve needs an update:');
    for (const r of status.reasons) out(`  ${r}`);
    out('fix: bhyve-gpu update --yes');
  } else if (!current) {
    out('cannot tell whether the patched bhyve is current:');
    for (const u of status.unknown) out(`  ${u}`);
  } else out(`the patched bhyve is current (${describeInstall(status.manifest)})`);
  process.exitCode = status.pending ? EXIT.pending : current ? EXIT.ok : EXIT.failure;
}

function diffRefusal(diffs: string[], src: string): ToolError {
  return new ToolError(
    'update-diff',
    `the installed build carries ${diffs.join(', ')} (a diff given with patch --patch); update re-applies only quirks`,
    {
      hint: `fetch and patch by hand: bhyve-gpu source --update --src ${src} && bhyve-gpu patch --src ${src} --patch FILE, then bhyve-gpu build and bhyve-gpu install --yes`,
    },
  );
}

/** The files the install will replace, and what to restart afterwards (from the last install). */
function restartAdvice(files: readonly string[]): string[] {
  const after: string[] = [];
  if (files.includes('/boot/kernel/vmm.ko'))
    after.push('vmm.ko replaced: stop every VM, then reboot (or kldunload vmm && kldload vmm)');
  if (files.includes('/usr/sbin/bhyve'))
    after.push('restart each guest (vm restart NAME) to run the new bhyve');
  return after;
}

function showPlan(
  status: UpdateStatus,
  target: SourceTarget,
  quirks: string[],
  diffs: string[],
  src: string,
  json: boolean,
): void {
  const m = status.manifest;
  const files = m.files.map((f) => f.path);
  const knowledge = target.flavor ? branchKnowledge(target.branch, target.flavor, target.repo) : undefined;
  const steps = [
    {
      step: 'source',
      summary: `fetch ${target.branch} of ${target.repo} into ${src}`,
      argv: ['git', '-C', src, 'fetch', '--depth', '1', '--progress', 'origin', target.branch],
    },
    {
      step: 'patch',
      summary: `re-apply the recorded quirks: ${quirks.join(', ') || '(none)'} (from ${INSTALL_MANIFEST})`,
      quirks,
    },
    {
      step: 'build',
      summary: `rebuild what the patch touches (last time: ${files.map((f) => f.split('/').pop()).join(', ')}); log in ${STATE_DIR}/build-<time>.log`,
    },
    {
      step: 'install',
      summary: `install ${files.join(', ')} and rewrite ${INSTALL_MANIFEST} (one journal entry; undo with bhyve-gpu rollback ID)`,
      files,
    },
  ];
  const after = restartAdvice(files);
  const problems = diffs.length > 0 ? [diffRefusal(diffs, src).message] : [];
  if (quirks.length === 0) problems.push('the install manifest records no quirk to re-apply');
  if (knowledge?.known === false && knowledge.message) problems.push(knowledge.message);
  if (json) {
    printJson({
      schemaVersion: SCHEMA_VERSION,
      dryRun: true,
      installed: true,
      pending: status.pending,
      reasons: status.reasons,
      unknown: status.unknown,
      source: { repo: target.repo, branch: target.branch, flavor: target.flavor ?? null, src },
      quirks,
      steps,
      after,
      problems,
    });
    return;
  }
  out(`installed: ${describeInstall(m)}; quirks: ${quirks.join(', ') || 'none recorded'}`);
  out(`host userland now: ${status.userland.now ?? 'unknown'}`);
  if (status.pending) for (const r of status.reasons) out(`pending: ${r}`);
  else out('the patched bhyve is current; --yes does nothing unless --branch names another branch');
  for (const u of status.unknown) out(`unknown: ${u}`);
  out('plan:');
  for (const [i, s] of steps.entries()) out(`  ${i + 1}. ${s.step.padEnd(7)} ${s.summary}`);
  for (const a of after) out(`  then: ${a}`);
  for (const p of problems) note(`warning: ${p}`);
  note('dry run: nothing changed; run again with --yes to apply');
}

async function runUpdate(
  host: Host,
  o: { src: string; target: SourceTarget; quirks: string[]; jobs: number | undefined; json: boolean },
): Promise<void> {
  const { src, target } = o;
  const say = (line: string) => {
    if (!o.json) note(line);
  };
  const untouched = 'the installed files are as they were (nothing was installed)';

  // 1. source: the previous patch goes first, so that the new commit checks out cleanly.
  if (await host.exists(src)) {
    const restored = await unpatchTree(host, src);
    if (restored.length) say(`source: put back ${restored.length} file(s) the previous patch changed`);
  }
  if (target.flavor) {
    const k = branchKnowledge(target.branch, target.flavor, target.repo);
    if (k.known === false && k.message) say(`warning: ${k.message}`);
  }
  const progress = o.json ? undefined : createProgress();
  const fetched = await fetchSource(host, {
    repo: target.repo,
    branch: target.branch,
    dest: src,
    update: true,
    ...(progress ? { onProgress: (line: string) => progress.update(line, gitPhase(line)) } : {}),
  }).catch((e: unknown) => {
    progress?.done();
    throw withUntouched(e, untouched);
  });
  progress?.done();
  say(`source: ${fetched.status} ${target.branch} at ${fetched.commit.slice(0, 12)}`);

  // 2. patch: the quirks the installed build carried, through the patch engine.
  let patched: Awaited<ReturnType<typeof applyQuirks>>;
  try {
    patched = await applyQuirks(host, src, o.quirks);
  } catch (e) {
    throw noLongerApplies(
      o.quirks,
      target.branch,
      e instanceof Error ? [e.message] : [String(e)],
      src,
      untouched,
    );
  }
  if (patched.result === 'failed')
    throw noLongerApplies(o.quirks, target.branch, patched.errors, src, untouched);
  say(`patch: ${o.quirks.join(', ')} ${patched.result === 'applied' ? 'applied' : 'already in the tree'}`);

  // 3. build: the minimal set for the files the patch changed; the log goes to the state directory.
  const changed = await changedFiles(host, src);
  const steps = await planBuild(host, src, changed.files, {
    kernel: false,
    kernconf: 'GENERIC',
    jobs: o.jobs ?? (await detectJobs(host)),
  });
  if (steps.length === 0)
    throw new ToolError('update-nothing-built', `the patch changed nothing that needs a build in ${src}`, {
      hint: untouched,
    });
  const logFile = await defaultLogFile(host, src);
  say(`build: ${steps.map((s) => s.name).join(', ')} (log ${logFile})`);
  const buildProgress = o.json ? undefined : createProgress();
  const built = await runBuild(host, steps, {
    src,
    logFile,
    ...(buildProgress
      ? {
          onProgress: (p) =>
            buildProgress.update(`${p.phase} ${formatElapsed(p.elapsedMs)}  ${p.lastLine}`, p.phase),
        }
      : {}),
  });
  buildProgress?.done();
  if (!built.ok) throw withUntouched(describeFailure(built), untouched);
  await writeBuildRecord(host, src, steps, built);

  // 4. install: one journal entry with backups; the manifest records the quirks again.
  const { plan, after } = await planInstall(host, src);
  const finalPlan = recordQuirks(plan, o.quirks);
  finalPlan.title = `update the patched bhyve to ${target.branch} at ${fetched.commit.slice(0, 12)}`;
  const result = await applyPlan(host, finalPlan, { command: commandLine(), onProgress: say });
  if (o.json) {
    printJson({
      schemaVersion: SCHEMA_VERSION,
      result: result.status,
      source: { repo: target.repo, branch: target.branch, commit: fetched.commit, src },
      quirks: o.quirks,
      built: steps.map((s) => s.name),
      logFile,
      journal: result.entry?.id,
      after,
    });
    return;
  }
  out(result.message);
  for (const a of after) out(`next: ${a}`);
}

/** Make sure the manifest the install writes carries the quirks (the install step alone may not know them). */
function recordQuirks(plan: Plan, quirks: string[]): Plan {
  const steps = plan.steps.map((s) => {
    if (s.kind !== 'file-edit' || s.path !== INSTALL_MANIFEST || s.after === undefined) return s;
    const manifest = JSON.parse(s.after) as InstallManifest;
    manifest.quirks = quirks;
    return makeFileEdit(s.path, s.before, `${JSON.stringify(manifest, null, 2)}\n`, s.reason);
  });
  return { ...plan, steps };
}

function withUntouched(e: unknown, untouched: string): unknown {
  if (!(e instanceof ToolError)) return e;
  return new ToolError(e.code, e.message, {
    hint: `${e.hint ? `${e.hint}; ` : ''}${untouched}`,
    exitCode: e.exitCode,
    cause: e,
  });
}

function noLongerApplies(
  quirks: string[],
  branch: string,
  errors: string[],
  src: string,
  untouched: string,
): ToolError {
  const detail = errors.slice(0, 3).join('; ');
  return new ToolError(
    'update-patch-failed',
    `the recorded quirks (${quirks.join(', ')}) no longer apply to ${branch}: ${detail}`,
    {
      hint: `${untouched}; see what is rejected with ${quoteArgv(['bhyve-gpu', 'patch', '--src', src, '--dry-run'])}`,
    },
  );
}

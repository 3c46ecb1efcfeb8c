import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { changedFiles, planBuild, requireSourceDir, writeBuildRecord } from '../../make/plan.js';
import { createProgress, formatElapsed } from '../../make/progress.js';
import { checkLogPath, defaultLogFile, describeFailure, detectJobs, runBuild } from '../../make/runner.js';
import { DEFAULT_SOURCE_DIR } from '../../srctree/git.js';
import { SCHEMA_VERSION } from '../../version.js';
import { globals, note, out, printJson } from '../output.js';

interface BuildOptions {
  src: string;
  kernel?: boolean;
  kernconf?: string;
  jobs?: string;
  log?: string;
  dryRun?: boolean;
}

export function register(program: Command): void {
  program
    .command('build')
    .description('rebuild what the patches touched (bhyve, vmm.ko, libvmmapi, ...), with a full log')
    .option('--src <dir>', 'source tree (fetched by `bhyve-gpu source`)', DEFAULT_SOURCE_DIR)
    .option('--kernel', 'also build the kernel (make buildkernel)')
    .option('--kernconf <name>', 'kernel configuration for --kernel', 'GENERIC')
    .option('--jobs <n>', 'parallel make jobs (default: sysctl -n hw.ncpu)')
    .option(
      '--log <file>',
      'log file (default /var/db/bhyve-gpu/build-<time>.log, under DIR with --root, or <src>/.bhyve-gpu/build.log)',
    )
    .option('--dry-run', 'print the build steps and run nothing')
    .addHelpText(
      'after',
      `
The changed files come from <src>/.bhyve-gpu/patch-record.json (written by \`bhyve-gpu patch\`), else from
\`git diff --name-only\` against the commit pinned by \`bhyve-gpu source\`. A bhyve-only change rebuilds
usr.sbin/bhyve; a change under sys/ or lib/libvmmapi rebuilds libvmmapi, vmm.ko, bhyve, bhyvectl and
bhyveload (and include when a header changed). On success <src>/.bhyve-gpu/build-record.json lists what
\`bhyve-gpu install\` will install.

Examples:
  bhyve-gpu build --dry-run
  bhyve-gpu build --src /usr/local/bhyve-gpu/src --jobs 8
  bhyve-gpu build --kernel --kernconf GENERIC --json

Exit codes: 0 built (or nothing to rebuild), 1 build failed (first error and log path shown),
2 usage (--src not a directory, --log a directory or in a missing directory)`,
    )
    .action(async (opts: BuildOptions, cmd: Command) => {
      const g = globals(cmd);
      const src = resolve(opts.src);
      let jobs: number | undefined;
      if (opts.jobs !== undefined) {
        jobs = Number(opts.jobs);
        if (!Number.isInteger(jobs) || jobs < 1)
          throw new UsageError(`--jobs ${opts.jobs}: expected a positive integer`);
      }
      const log = opts.log === undefined ? undefined : resolve(opts.log);
      const host = await openHost(g.host, g.root);
      try {
        await requireSourceDir(host, src);
        if (log !== undefined) await checkLogPath(host, log);
        const changed = await changedFiles(host, src);
        jobs ??= await detectJobs(host);
        const steps = await planBuild(host, src, changed.files, {
          kernel: opts.kernel === true,
          kernconf: opts.kernconf ?? 'GENERIC',
          jobs,
        });
        if (opts.dryRun || steps.length === 0) {
          if (g.json) {
            printJson({
              schemaVersion: SCHEMA_VERSION,
              dryRun: opts.dryRun === true,
              src,
              changed: changed.files,
              steps,
            });
            return;
          }
          if (steps.length === 0) {
            out(`nothing to rebuild: no changed file needs a build (from ${changed.from})`);
            return;
          }
          out(`would build in ${src} (changed files from ${changed.from}):`);
          for (const step of steps) {
            out(`  ${step.dir}: ${step.argv.join(' ')}`);
            out(`    why: ${step.reason}`);
            out(`    installs: ${step.installs.join(' ')}`);
          }
          return;
        }
        const logFile = log ?? (await defaultLogFile(host, src));
        if (!g.json) note(`build log: ${logFile}`);
        const progress = createProgress();
        const result = await runBuild(host, steps, {
          src,
          logFile,
          onProgress: (p) =>
            progress.update(`${p.phase} ${formatElapsed(p.elapsedMs)}  ${p.lastLine}`, p.phase),
        });
        progress.done();
        if (!result.ok) {
          if (!g.json) throw describeFailure(result);
          printJson({
            schemaVersion: SCHEMA_VERSION,
            ok: false,
            src,
            step: result.step,
            exitCode: result.exitCode,
            firstError: result.firstError,
            logFile,
          });
          process.exitCode = 1;
          return;
        }
        const record = await writeBuildRecord(host, src, steps, result);
        if (g.json) {
          printJson({ schemaVersion: SCHEMA_VERSION, ok: true, ...record });
          return;
        }
        for (const step of result.steps)
          out(`built ${step.name} (${step.dir}) in ${formatElapsed(step.durationMs)}`);
        out(`ready to install: ${record.installs.join(' ')}`);
      } finally {
        await host.close();
      }
    });
}

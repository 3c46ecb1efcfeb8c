import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ToolError, UsageError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { createProgress, gitPhase } from '../../make/progress.js';
import {
  branchKnowledge,
  chooseBranch,
  DEFAULT_REPOSITORIES,
  formatRelease,
  nearestBranches,
  parseReleaseOption,
  type ReleaseVersion,
  SOURCE_FLAVORS,
  type SourceFlavor,
  wantedBranch,
} from '../../srctree/branches.js';
import {
  checkDestination,
  DEFAULT_SOURCE_DIR,
  fetchSource,
  fetchSteps,
  hostRelease,
  listRemote,
} from '../../srctree/git.js';
import { SCHEMA_VERSION } from '../../version.js';
import { globals, note, out, printJson } from '../output.js';

interface SourceOptions {
  flavor: string;
  repo?: string;
  branch?: string;
  src?: string;
  release?: string;
  update?: boolean;
  dryRun?: boolean;
}

export function register(program: Command): void {
  program
    .command('source')
    .description('fetch the bhyve source for this host release with git (shallow, pinned, resumable)')
    .option('--flavor <flavor>', `which tree: ${SOURCE_FLAVORS.join(', ')}`, 'upstream')
    .option('--repo <url>', 'git repository (default: git.FreeBSD.org, or Beckhoff for nvidia-wip)')
    .option('--branch <name>', 'branch or tag to fetch (default: chosen from the release and flavor)')
    .option('--src <dir>', 'checkout directory (never /usr/src)', DEFAULT_SOURCE_DIR)
    .option('--release <X.Y>', 'release to fetch for (default: the host, from freebsd-version / uname -r)')
    .option('--update', 'fetch again even when the tree already holds the branch')
    .option('--dry-run', 'print the git steps and change nothing')
    .addHelpText(
      'after',
      `
Branches: upstream releng/X.Y, stable stable/X, nvidia-wip phab/corvink/X.Y/nvidia-wip
(Beckhoff, known only for 14.2 and 15.0: for another release the name is a guess; --dry-run says so,
and git ls-remote --heads URL 'phab/corvink/*' lists what exists). A missing branch names the nearest ones.

Examples:
  bhyve-gpu source
  bhyve-gpu source --flavor nvidia-wip --release 15.0
  bhyve-gpu source --branch releng/14.3 --src /var/tmp/bhyve-src --dry-run
  bhyve-gpu source --update --json

Exit codes: 0 fetched or already present, 1 failure (git, missing branch), 2 usage`,
    )
    .action(async (opts: SourceOptions, cmd: Command) => {
      const g = globals(cmd);
      if (!SOURCE_FLAVORS.includes(opts.flavor as SourceFlavor)) {
        throw new UsageError(`unknown --flavor ${opts.flavor}`, `use one of ${SOURCE_FLAVORS.join(', ')}`);
      }
      const flavor = opts.flavor as SourceFlavor;
      const dest = checkDestination(resolve(opts.src ?? DEFAULT_SOURCE_DIR));
      const repo = opts.repo ?? DEFAULT_REPOSITORIES[flavor];
      const host = await openHost(g.host, g.root);
      try {
        let release: ReleaseVersion | undefined;
        if (opts.release !== undefined) {
          release = parseReleaseOption(opts.release);
          if (!release) throw new UsageError(`--release ${opts.release}: expected X.Y, e.g. 15.0`);
        } else if (opts.branch === undefined) {
          release = await hostRelease(host);
          if (!release) {
            throw new UsageError(
              'cannot tell the FreeBSD release of this host',
              'pass --release X.Y or --branch NAME',
            );
          }
        }
        const releaseText = release ? formatRelease(release) : undefined;

        if (opts.dryRun) {
          const branch = opts.branch ?? wantedBranch(release as ReleaseVersion, flavor);
          const steps = fetchSteps(repo, branch, dest);
          const knowledge = branchKnowledge(branch, flavor, repo);
          // Say what is known about the branch before anything is fetched (a guessed nvidia-wip name).
          const alternative =
            knowledge.known === false ? nearestBranches(branch, knowledge.knownBranches)[0] : undefined;
          if (g.json)
            printJson({
              schemaVersion: SCHEMA_VERSION,
              dryRun: true,
              repo,
              branch,
              dest,
              release: releaseText,
              steps,
              ...(knowledge.known === undefined
                ? {}
                : {
                    branchKnown: knowledge.known,
                    knownBranches: knowledge.knownBranches,
                    branchCheck: knowledge.check,
                  }),
            });
          else {
            if (knowledge.message) note(`${knowledge.known ? 'branch' : 'warning'}: ${knowledge.message}`);
            if (alternative)
              note(
                `to use a known branch instead: bhyve-gpu source --flavor nvidia-wip --branch ${alternative}`,
              );
            out(
              `would fetch ${branch} of ${repo} into ${dest}${opts.branch ? '' : ' (branch not checked against the remote)'}:`,
            );
            for (const argv of steps) out(`  ${argv.join(' ')}`);
            out(`  write ${dest}/.bhyve-gpu/source.json (repo, branch, commit, fetchedAt)`);
          }
          return;
        }

        const refs = await listRemote(host, repo);
        let branch = opts.branch;
        if (branch === undefined) {
          const choice = chooseBranch(
            release as ReleaseVersion,
            flavor,
            refs.filter((r) => r.kind === 'branch').map((r) => r.name),
          );
          if (!choice.ok) {
            throw new ToolError('branch-missing', `${repo}: ${choice.message}`, {
              hint:
                choice.nearest.length > 0
                  ? `pass --branch ${choice.nearest[0]} to use the nearest (check the version matrix first)`
                  : 'pass --branch NAME or another --flavor',
            });
          }
          branch = choice.branch;
          if (!g.json) note(`branch: ${choice.reason}`);
        }
        const progress = createProgress();
        const result = await fetchSource(host, {
          repo,
          branch,
          dest,
          refs,
          update: opts.update === true,
          onProgress: (line) => progress.update(line, gitPhase(line)),
        });
        progress.done();
        if (g.json) {
          printJson({
            schemaVersion: SCHEMA_VERSION,
            status: result.status,
            repo,
            branch,
            commit: result.commit,
            remoteCommit: result.remoteCommit,
            dest,
            release: releaseText,
            fetchedAt: result.fetchedAt,
          });
          return;
        }
        const short = result.commit.slice(0, 12);
        if (result.status === 'present') out(`${dest} already holds ${branch} at ${short}`);
        else out(`${result.status} ${branch} of ${repo} at ${short} into ${dest}`);
        if (result.remoteCommit !== result.commit) {
          note(
            `the remote ${branch} is at ${result.remoteCommit.slice(0, 12)} now; run with --update to move to it`,
          );
        }
      } finally {
        await host.close();
      }
    });
}

import type { Command } from 'commander';
import { ToolError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { planInstall } from '../../install/plan.js';
import { DEFAULT_SOURCE_DIR } from '../../srctree/git.js';
import { globals, out } from '../output.js';
import { addPlanFlags, commandLine, PLAN_EXIT_HELP, type PlanFlags, showOrApply } from '../plan-command.js';

const HELP = `
Installs what bhyve-gpu build produced: /usr/sbin/bhyve (and bhyvectl, bhyveload), /boot/kernel/vmm.ko,
/usr/lib/libvmmapi.so.N when they were rebuilt. Every replaced file is backed up in a journal entry, and
/var/db/bhyve-gpu/installed.json records the source repo, commit, patch hashes and each file's SHA-256, so
scan and doctor can tell a patched bhyve from one that freebsd-update has overwritten since.
Undo with bhyve-gpu rollback <id> (the id is printed).

Examples:
  bhyve-gpu install --src /usr/local/bhyve-gpu/src          # show the plan
  bhyve-gpu install --src /usr/local/bhyve-gpu/src --yes
  bhyve-gpu rollback                                        # restore the previous binaries

${PLAN_EXIT_HELP}`;

export function register(program: Command): void {
  const cmd = program
    .command('install')
    .description('install the patched bhyve (and vmm.ko ...) with backups, a manifest and rollback')
    .option('--src <dir>', 'source tree that bhyve-gpu build built', DEFAULT_SOURCE_DIR);
  addPlanFlags(cmd)
    .addHelpText('after', HELP)
    .action(async (opts: { src: string } & PlanFlags, c: Command) => {
      const g = globals(c);
      const host = await openHost(g.host, g.root);
      try {
        // A snapshot records the probe set, never a source tree or build output (docs/snapshot-format.md).
        if (host.kind === 'snapshot' && !('root' in host))
          throw new ToolError(
            'snapshot-no-tree',
            `install reads the build in ${opts.src} on the host it installs on, and a snapshot holds no source tree or build output`,
            {
              hint: 'run bhyve-gpu install on the host that built it (or --host ssh://HOST); add --root DIR to stage the install into a directory',
              exitCode: 2,
            },
          );
        const { plan, after } = await planInstall(host, opts.src);
        await showOrApply(host, plan, opts, g, { command: commandLine() });
        if (!g.json) for (const a of after) out(`next: ${a}`);
      } finally {
        await host.close();
      }
    });
}

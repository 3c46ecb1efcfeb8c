import type { Command } from 'commander';

/** A command module: adds its subcommand (options, help, action) to the program. */
export interface CommandModule {
  register(program: Command): void;
}

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<CommandModule>;
}

/**
 * Every command, loaded lazily: main.ts imports only the module of the command being run, which keeps
 * `bhyve-gpu --version` and `scan` cold starts close to a bare `node -e 0`.
 */
export const COMMANDS: CommandEntry[] = [
  {
    name: 'scan',
    summary: 'inventory GPUs, passthrough state and host readiness',
    load: () => import('./commands/scan.js'),
  },
  {
    name: 'doctor',
    summary: 'ordered PASS/WARN/FAIL checklist for the host (and a VM)',
    load: () => import('./commands/doctor.js'),
  },
  {
    name: 'setup',
    summary: 'guided path: pick a GPU and a VM, show the plan, apply it',
    load: () => import('./commands/setup.js'),
  },
  {
    name: 'attach',
    summary: 'reserve a GPU (pptdevs) and give it to a vm-bhyve guest',
    load: () => import('./commands/attach.js'),
  },
  {
    name: 'detach',
    summary: 'undo attach: release the GPU from the guest and pptdevs',
    load: () => import('./commands/detach.js'),
  },
  {
    name: 'vm-fix',
    summary: "rewrite a vm-bhyve guest config's CRLF line ends as LF",
    load: () => import('./commands/vm-fix.js'),
  },
  {
    name: 'vm-args',
    summary: 'print bhyve -s options / bhyve_config(5) lines for a GPU',
    load: () => import('./commands/vm-args.js'),
  },
  { name: 'journal', summary: 'list applied changes', load: () => import('./commands/journal.js') },
  {
    name: 'rollback',
    summary: 'undo a journal entry (config change or install)',
    load: () => import('./commands/rollback.js'),
  },
  {
    name: 'source',
    summary: 'fetch the bhyve source for this host release with git',
    load: () => import('./commands/source.js'),
  },
  {
    name: 'patch',
    summary: 'apply the NVIDIA INTPIN quirk (or a given diff) to a source tree',
    load: () => import('./commands/patch.js'),
  },
  {
    name: 'build',
    summary: 'rebuild what the patches touched (bhyve, vmm.ko, ...)',
    load: () => import('./commands/build.js'),
  },
  {
    name: 'install',
    summary: 'install the built binaries with backup and manifest',
    load: () => import('./commands/install.js'),
  },
  {
    name: 'update',
    summary: 'after freebsd-update: rebuild and reinstall the patched bhyve',
    load: () => import('./commands/update.js'),
  },
  {
    name: 'diagnose',
    summary: 'explain guest/host logs: ranked findings with fixes',
    load: () => import('./commands/diagnose.js'),
  },
  {
    name: 'guest',
    summary: 'inside a Linux guest: check the GPU, set up the driver',
    load: () => import('./commands/guest.js'),
  },
  {
    name: 'snapshot',
    summary: 'record this host into a snapshot file',
    load: () => import('./commands/snapshot.js'),
  },
  {
    name: 'completion',
    summary: 'print a shell completion script (bash, zsh or tcsh)',
    load: () => import('./commands/completion.js'),
  },
];

import { Argument, type Command } from 'commander';
import { COMPLETION_SHELLS, type CompletionShell, completionScript } from '../completions.js';
import { fullProgram } from '../main.js';
import { out } from '../output.js';

const HELP = `
Prints a completion script made from bhyve-gpu's own command definitions (every command, subcommand,
option and option value), so it always matches the installed version. \`make install\` installs all three.

Examples:
  bhyve-gpu completion bash > /usr/local/share/bash-completion/completions/bhyve-gpu
  bhyve-gpu completion zsh > /usr/local/share/zsh/site-functions/_bhyve-gpu
  bhyve-gpu completion tcsh > ~/.bhyve-gpu.tcsh && echo 'source ~/.bhyve-gpu.tcsh' >> ~/.tcshrc

Exit codes: 0 printed, 2 unknown shell.`;

export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or tcsh)')
    .addArgument(new Argument('<shell>', 'bash, zsh or tcsh').choices([...COMPLETION_SHELLS]))
    .addHelpText('after', HELP)
    .action(async (shell: CompletionShell) => {
      out(completionScript(shell, await fullProgram()).trimEnd());
    });
}

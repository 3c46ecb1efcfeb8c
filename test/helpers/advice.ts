import { main, parseArgv } from '../../src/cli/main.js';

/**
 * Running the advice the tool prints (issue 9): every `bhyve-gpu` command in a check's `commands` must be
 * accepted by the real CLI parser, and where it applies on the same host on its own, it must run there
 * as a dry run without a usage error or a refusal.
 */

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the real CLI (main) in this process, with stdout and stderr captured. */
export async function runCli(argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  // The CLI writes strings; the test runner's own reporter writes buffers to the same stream while a test
  // awaits: those go through untouched.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return out(chunk, ...rest);
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return err(chunk, ...rest);
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const status = await main(argv);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = undefined;
  }
}

/** Subcommands that make a plan: run with --dry-run, and --yes dropped (the two are a usage error together). */
const PLAN = new Set(['attach', 'detach', 'setup', 'rollback', 'source']);
/** Subcommands that only read: run as they are. */
const READ = new Set(['doctor', 'scan', 'vm-args', 'journal']);
/** Subcommands that need a source tree an earlier step makes: parsed, not run on a snapshot. */
const NEEDS_TREE = new Set(['patch', 'build', 'install']);

/**
 * The form of `argv` (one `bhyve-gpu` command of a chain) to run on the host `hostFile` as a dry run, or why
 * it is not run there: it needs what an earlier step makes, or a state change a non-bhyve-gpu step makes.
 */
export function dryRunForm(
  chain: readonly (readonly string[])[],
  index: number,
  hostFile: string,
): { argv: string[]; readOnly: boolean } | { skip: string } {
  const argv = chain[index] as readonly string[];
  const earlier = chain.slice(0, index);
  const other = earlier.find((c) => c[0] !== 'bhyve-gpu');
  if (other) return { skip: `after ${other.join(' ')}, which changes the host first` };
  const [, sub, ...rest] = argv;
  if (sub === undefined) return { skip: 'no subcommand' };
  const host = ['--host', hostFile];
  if (NEEDS_TREE.has(sub)) return { skip: `${sub} needs the source tree an earlier step fetches` };
  if (sub === 'guest' && rest[0] === 'check') return { argv: [...host, 'guest', 'check'], readOnly: true };
  if (sub === 'guest' && rest[0] === 'setup')
    return {
      argv: [...host, 'guest', 'setup', ...rest.slice(1).filter((a) => a !== '--run' && a !== '--yes')],
      readOnly: true,
    };
  if (READ.has(sub)) return { argv: [...host, sub, ...rest], readOnly: true };
  if (PLAN.has(sub))
    return {
      argv: [...host, sub, ...rest.filter((a) => a !== '--yes' && a !== '-y'), '--dry-run'],
      readOnly: false,
    };
  return { skip: `${sub} is not run by the advice test` };
}

/** Steps that change the host and so must carry --yes. */
export function appliesChanges(argv: readonly string[]): boolean {
  const sub = argv[1];
  if (argv[0] !== 'bhyve-gpu') return false;
  if (sub === 'guest') return argv.includes('--run');
  return ['attach', 'detach', 'install', 'rollback', 'setup'].includes(sub ?? '');
}

/**
 * Every problem with a list of command chains on one host: parse failures, placeholders, missing --yes,
 * the console GPU proposed, and dry runs that fail with a usage error or a refusal.
 */
export async function adviceProblems(
  chains: readonly (readonly (readonly string[])[])[],
  hostFile: string,
  options: { consoleGpus?: string[]; run?: boolean } = {},
): Promise<string[]> {
  const problems: string[] = [];
  const ran = new Set<string>();
  for (const chain of chains) {
    for (const [i, argv] of chain.entries()) {
      const line = argv.join(' ');
      if (argv.length === 0 || argv.some((a) => a === '')) problems.push(`empty argument in: ${line}`);
      if (argv.some((a) => /^<.*>$|\{(gpu|vm|src)\}/.test(a))) problems.push(`placeholder left in: ${line}`);
      if (argv[0] !== 'bhyve-gpu') continue;
      if (argv[1] === 'attach' && options.consoleGpus?.includes(argv[2] ?? ''))
        problems.push(`the console GPU is proposed: ${line}`);
      if (appliesChanges(argv) && !argv.includes('--yes'))
        problems.push(`applies changes without --yes: ${line}`);
      const parsed = await parseArgv(argv);
      if (!parsed.ok) {
        problems.push(`does not parse: ${line}: ${parsed.message}`);
        continue;
      }
      if (options.run === false) continue;
      const form = dryRunForm(chain, i, hostFile);
      if ('skip' in form) continue;
      const key = form.argv.join('\0');
      if (ran.has(key)) continue;
      ran.add(key);
      const r = await runCli(form.argv);
      const ok = form.readOnly ? r.status !== 2 : r.status === 0;
      if (!ok)
        problems.push(
          `${line}: \`bhyve-gpu ${form.argv.join(' ')}\` exited ${r.status}: ${r.stderr.trim().split('\n').slice(0, 3).join(' / ')}`,
        );
    }
  }
  return problems;
}

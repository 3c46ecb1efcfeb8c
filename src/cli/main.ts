import { Command, CommanderError, Option } from 'commander';
import { ToolError, UsageError } from '../errors.js';
import { SCHEMA_VERSION, VERSION } from '../version.js';
import { setColorMode, style } from './output.js';
import { COMMANDS } from './registry.js';

const EXIT_HELP = `
Exit codes:
  0  success, or already in the desired state
  1  failure (or a FAIL / error finding)
  2  usage error
  3  changes pending (--check)
  4  partial failure
  130 interrupted

Run 'bhyve-gpu <command> --help' for a command's options and examples.`;

function buildProgram(): Command {
  const program = new Command('bhyve-gpu');
  program
    .description('GPU passthrough for FreeBSD bhyve: scan, doctor, plan, apply, verify, diagnose, rollback.')
    .version(VERSION, '-V, --version')
    .option('--host <spec>', 'host to act on: local, ssh://[user@]host[:port], or a snapshot file', 'local')
    .option('--root <dir>', 'take every absolute file path under DIR (tests, image preparation)')
    .option('--json', 'print one JSON document on stdout')
    .addOption(
      new Option('--color <when>', 'colour output').choices(['auto', 'always', 'never']).default('auto'),
    )
    .option('--no-color', 'same as --color never')
    .option('--debug', 'show stack traces for errors (diagnose: how a large file was read)')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .addHelpText('after', EXIT_HELP)
    .exitOverride();
  program.hook('preAction', (_program, action) => checkGrammar(action));
  return program;
}

/**
 * One grammar for every command (issue 9): no empty option value (`--vm ''`), never `--X` with `--no-X`
 * (`setup --vm X --no-vm`), and `--yes` never with `--dry-run` (apply, or only show: not both).
 */
function checkGrammar(action: Command): void {
  const raw: string[] = [];
  for (let c: Command | null = action; c; c = c.parent) {
    const r = (c as unknown as { rawArgs?: string[] }).rawArgs;
    if (r?.length) raw.push(...r);
  }
  for (let c: Command | null = action; c; c = c.parent)
    for (const o of c.options) {
      const value: unknown = c.getOptionValue(o.attributeName());
      if (value === '' && o.required) throw new UsageError(`${o.long ?? o.flags}: the value is empty`);
      if (o.negate) {
        const positive = o.long?.replace(/^--no-/, '--');
        const given = (flag: string | undefined) =>
          flag !== undefined && raw.some((a) => a === flag || a.startsWith(`${flag}=`));
        if (given(positive) && given(o.long) && c.options.some((p) => p.long === positive && !p.negate))
          throw new UsageError(`${positive} and ${o.long} contradict each other: give one`);
      }
    }
  const opts = action.opts();
  if (opts.yes === true && opts.dryRun === true)
    throw new UsageError('--yes and --dry-run contradict each other: --yes applies, --dry-run only shows');
}

/** The first argument that is not an option (or an option's value): the command name. */
function commandName(argv: string[]): string | undefined {
  const i = commandIndex(argv);
  return i < 0 ? undefined : argv[i];
}

/** Where the command name is in argv (-1 when there is none). */
function commandIndex(argv: string[]): number {
  const withValue = new Set(['--host', '--root', '--color']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (withValue.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return i;
  }
  return -1;
}

/** --color WHEN / --no-color, read before parsing so that even usage errors honour them. */
function colorFromArgv(argv: string[]): 'auto' | 'always' | 'never' {
  let mode: 'auto' | 'always' | 'never' = 'auto';
  argv.forEach((a, i) => {
    if (a === '--no-color') mode = 'never';
    const v = a === '--color' ? argv[i + 1] : a.startsWith('--color=') ? a.slice(8) : undefined;
    if (v === 'auto' || v === 'always' || v === 'never') mode = v;
  });
  return mode;
}

export async function main(argv: string[]): Promise<number> {
  setColorMode(colorFromArgv(argv));
  const program = buildProgram();
  const name = commandName(argv);
  const json = argv.includes('--json');
  if (name === 'help') {
    // `help CMD` is `CMD --help`; `help nosuch` is a usage error, as `nosuch` is.
    const at = commandIndex(argv);
    const target = argv.slice(at + 1).find((a) => !a.startsWith('-'));
    if (target === undefined) {
      process.stdout.write(program.helpInformation());
      return 0;
    }
    if (!COMMANDS.some((c) => c.name === target)) {
      const e = new UsageError(`unknown command '${target}'`, 'bhyve-gpu --help lists the commands');
      if (json) printJsonError(e, 2);
      else reportError(e, false);
      return 2;
    }
    const rest = argv.slice(at + 1);
    const words = rest.filter((a) => !a.startsWith('-'));
    return main([...argv.slice(0, at), ...words, ...rest.filter((a) => a.startsWith('-')), '--help']);
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry) (await entry.load()).register(program);
  else for (const c of COMMANDS) program.command(c.name).description(c.summary);
  let debug = argv.includes('--debug');
  if (!entry && name === undefined && !argv.some((a) => ['-h', '--help', '-V', '--version'].includes(a))) {
    process.stderr.write(program.helpInformation());
    process.stderr.write('error: missing command\n');
    if (json) printJsonError(new UsageError('missing command', 'bhyve-gpu --help lists the commands'), 2);
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return 0;
      if (e.exitCode === 0) return 0;
      // The parser's own errors (unknown command or option, missing argument) are usage errors, and
      // with --json one JSON document like every other error.
      if (json) printJsonError(new UsageError(e.message.replace(/^error: /, '')), 2);
      return 2;
    }
    debug ||= program.opts().debug === true;
    const code = reportError(e, debug);
    if (json) printJsonError(e, code);
    return code;
  }
}

/** With --json a failure is also one JSON document on stdout, so a script reads errors the same way. */
function printJsonError(e: unknown, exitCode: number): void {
  const error =
    e instanceof ToolError
      ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), exitCode }
      : { code: 'internal', message: e instanceof Error ? e.message : String(e), exitCode };
  process.stdout.write(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, error }, null, 2)}\n`);
}

export function reportError(e: unknown, debug: boolean): number {
  if (e instanceof ToolError) {
    process.stderr.write(`${style.red('error:')} ${e.message}\n`);
    if (e.hint) process.stderr.write(`${style.dim('hint:')} ${e.hint}\n`);
    if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${style.red('error:')} ${msg}\n`);
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write(`${style.dim('hint:')} run again with --debug for details\n`);
  return 1;
}

/**
 * The program with every command module registered: what `bhyve-gpu completion` generates from, and what
 * the man page and completion tests check against.
 */
export async function fullProgram(): Promise<Command> {
  const program = buildProgram();
  for (const c of COMMANDS) (await c.load()).register(program);
  return program;
}

/** Why {@link parseArgv} refused an argv, or undefined when the real CLI parser accepts it. */
export interface ArgvVerdict {
  ok: boolean;
  /** The parser's message when it refused (unknown command or option, missing argument, bad choice). */
  message?: string;
}

class ParsedOnly extends Error {}

/**
 * Parse an argv with the real program (the same buildProgram and the same command modules as `main`)
 * without running any action. Tests use it to check that every command the tool advises is one the CLI
 * accepts. `argv` may start with the program name `bhyve-gpu`; it is dropped.
 */
export async function parseArgv(argv: readonly string[]): Promise<ArgvVerdict> {
  const args = argv[0] === 'bhyve-gpu' ? argv.slice(1) : [...argv];
  const program = buildProgram();
  let message = '';
  program.configureOutput({
    writeOut: () => {},
    writeErr: (s) => {
      message += s;
    },
  });
  const name = commandName(args);
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) return { ok: false, message: `unknown command ${JSON.stringify(name ?? '')}` };
  (await entry.load()).register(program);
  const silence = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({
      writeOut: () => {},
      writeErr: (s) => {
        message += s;
      },
    });
    for (const sub of c.commands) silence(sub);
  };
  silence(program);
  program.hook('preAction', () => {
    throw new ParsedOnly();
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { ok: false, message: 'no action ran (a command group without a subcommand?)' };
  } catch (e) {
    if (e instanceof ParsedOnly) return { ok: true };
    if (e instanceof CommanderError) return { ok: false, message: message.trim() || e.message };
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

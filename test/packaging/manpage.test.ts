import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { fullProgram } from '../../src/cli/main.js';
import { REPO_ROOT } from '../helpers/corpus.js';

/**
 * docs/bhyve-gpu.8 is the CLI: checked here against the commander definitions of every command module in
 * src/cli/registry.ts. Layout the checks rely on: global options are `.It Fl ...` items in DESCRIPTION;
 * each command (and subcommand: "journal show") has its own `.Ss` in COMMANDS, with its options as
 * `.It Fl ...` items; environment variables are `.It Ev NAME` items in ENVIRONMENT.
 */
const PAGE = join(REPO_ROOT, 'docs', 'bhyve-gpu.8');
const page = readFileSync(PAGE, 'utf8');
const lines = page.split('\n');

/** The lines of a `.Sh` section. */
function section(name: string): string[] {
  const start = lines.indexOf(`.Sh ${name}`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith('.Sh '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

interface DocItem {
  /** Every option name on the `.It` line: `--yes`, `-y`. */
  names: string[];
  /** The item's text up to the next `.It` or `.El`. */
  body: string;
  line: string;
}

/** `.It Fl y , Fl -yes` items of a block of lines (nested lists included). */
function optionItems(block: string[]): DocItem[] {
  const items: DocItem[] = [];
  for (let i = 0; i < block.length; i++) {
    const l = block[i] as string;
    if (!l.startsWith('.It Fl ')) continue;
    const names = [...l.matchAll(/\bFl (-{0,1}[A-Za-z0-9][\w-]*)/g)].map((m) => `-${m[1]}`);
    const body: string[] = [];
    for (let j = i + 1; j < block.length && !/^\.(It|El)\b/.test(block[j] as string); j++)
      body.push(block[j] as string);
    items.push({ names, body: body.join('\n'), line: l });
  }
  return items;
}

/** Command path ("guest setup") -> its `.Ss` block. */
function commandBlocks(): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  let current: string | undefined;
  for (const l of section('COMMANDS')) {
    if (l.startsWith('.Ss ')) {
      current = l.slice(4).trim();
      blocks.set(current, []);
    } else if (current !== undefined) blocks.get(current)?.push(l);
  }
  return blocks;
}

interface CliCommand {
  path: string;
  command: Command;
}

function walk(cmd: Command, prefix: string[] = []): CliCommand[] {
  return cmd.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return [{ path: path.join(' '), command: c }, ...walk(c, path)];
  });
}

function optionNames(cmd: Command): { names: string[]; choices: string[]; flags: string }[] {
  return cmd.options
    .filter((o) => !o.hidden)
    .map((o) => ({
      names: [o.long, o.short].filter((n): n is string => typeof n === 'string'),
      choices: o.argChoices ?? [],
      flags: o.flags,
    }));
}

/** `.It Fl -quirk Ar list` for a commander flags string `--quirk <list>`. */
function suggestedItem(flags: string): string {
  const parts = flags.split(/[ ,|]+/).filter(Boolean);
  return `.It ${parts
    .map((p) => (p.startsWith('-') ? `Fl ${p.slice(1)}` : `Ar ${p.replace(/[<>[\]]|\.\.\./g, '')}`))
    .join(' ')}`;
}

/** Compare the documented options of one place in the page with the CLI's; problems in `out`. */
function compareOptions(where: string, cliName: string, cmd: Command, items: DocItem[], out: string[]): void {
  const documented = new Map<string, DocItem>();
  for (const item of items) for (const n of item.names) documented.set(n, item);
  const known = new Set<string>();
  for (const o of optionNames(cmd)) {
    for (const n of o.names) known.add(n);
    const missing = o.names.filter((n) => !documented.has(n));
    if (missing.length > 0) {
      out.push(
        `${cliName} ${missing.join(', ')} is not documented: add "${suggestedItem(o.flags)}" under ${where}`,
      );
      continue;
    }
    const item = documented.get(o.names[0] as string) as DocItem;
    for (const choice of o.choices)
      if (
        !new RegExp(`(^|[\\s(])(Cm |Li )?${choice.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(item.body)
      )
        out.push(`${cliName} ${o.names[0]}: the value "${choice}" is not named in its item under ${where}`);
  }
  for (const [n, item] of documented)
    if (!known.has(n)) out.push(`${where} documents ${n} ("${item.line}"), which ${cliName} does not have`);
}

describe('the man page docs/bhyve-gpu.8 against the CLI', () => {
  it('documents every command and every option, and nothing that does not exist', async () => {
    const program = await fullProgram();
    const problems: string[] = [];

    // Global options: DESCRIPTION's items. -h/--help exists on every command without being an option.
    const globalItems = optionItems(section('DESCRIPTION')).filter(
      (i) => !i.names.every((n) => n === '-h' || n === '--help'),
    );
    compareOptions('DESCRIPTION (global options)', 'bhyve-gpu', program, globalItems, problems);

    const blocks = commandBlocks();
    const commands = walk(program);
    for (const { path, command } of commands) {
      const block = blocks.get(path);
      if (!block) {
        const opts = optionNames(command)
          .map((o) => suggestedItem(o.flags))
          .join(', ');
        problems.push(
          `command "bhyve-gpu ${path}" is not documented: add ".Ss ${path}" under ".Sh COMMANDS"${opts ? ` with ${opts}` : ''}`,
        );
        continue;
      }
      if (!block.some((l) => l.startsWith('.Cm ')))
        problems.push(`.Ss ${path}: no synopsis line (.Nm, then .Cm ${path.split(' ').at(-1)})`);
      compareOptions(`".Ss ${path}"`, `bhyve-gpu ${path}`, command, optionItems(block), problems);
    }
    const known = new Set(commands.map((c) => c.path));
    for (const path of blocks.keys())
      if (!known.has(path)) problems.push(`".Ss ${path}" documents a command bhyve-gpu does not have`);

    assert.deepEqual(problems, [], `docs/bhyve-gpu.8 disagrees with the CLI:\n  ${problems.join('\n  ')}`);
  });

  it('lists in ENVIRONMENT every variable the code reads, and no other', () => {
    const read = new Set<string>();
    const visit = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) visit(p);
        else if (name.endsWith('.ts'))
          for (const m of readFileSync(p, 'utf8').matchAll(
            /process\.env(?:\.([A-Z_][A-Z0-9_]*)|\[['"]([^'"]+)['"]\])/g,
          ))
            read.add((m[1] ?? m[2]) as string);
      }
    };
    visit(join(REPO_ROOT, 'src'));
    const documented = section('ENVIRONMENT')
      .filter((l) => l.startsWith('.It Ev '))
      .map((l) => l.slice('.It Ev '.length).trim());
    // PATH is not read by name: the tools bhyve-gpu runs (git, make, ssh, pciconf) are found through it.
    const implicit = new Set(['PATH']);
    assert.deepEqual(
      [...read].filter((v) => !documented.includes(v)),
      [],
      'read by the code but not documented: add ".It Ev NAME" under ".Sh ENVIRONMENT"',
    );
    assert.deepEqual(
      documented.filter((v) => !read.has(v) && !implicit.has(v)),
      [],
      'documented in ENVIRONMENT but never read by the code',
    );
    assert.ok(documented.includes('NO_COLOR') && documented.includes('BHYVE_GPU_SSH_OPTS'));
  });

  it('has EXIT STATUS (the codes of --help), FILES, EXAMPLES and SEE ALSO', () => {
    const exits = section('EXIT STATUS')
      .filter((l) => /^\.It \d+$/.test(l))
      .map((l) => Number(l.slice(4)));
    assert.deepEqual(exits, [0, 1, 2, 3, 4, 130]);
    const files = section('FILES').join('\n');
    for (const f of [
      '/var/db/bhyve-gpu/',
      '/var/db/bhyve-gpu/journal/',
      '/var/db/bhyve-gpu/installed.json',
      '/usr/local/bhyve-gpu/src',
    ])
      assert.ok(files.includes(`.It Pa ${f}`), f);
    const examples = section('EXAMPLES').join('\n');
    for (const c of [
      'doctor',
      'attach',
      'source',
      'patch',
      'build',
      'install',
      'rollback',
      'diagnose',
      'snapshot',
    ])
      assert.match(
        examples,
        new RegExp(`^bhyve-gpu ${c}\\b|\\| bhyve-gpu ${c}\\b|^bhyve-gpu --host \\S+ ${c}\\b`, 'm'),
        c,
      );
    const seeAlso = section('SEE ALSO').join(' ');
    for (const x of ['bhyve 8', 'bhyve_config 5', 'vm 8', 'pciconf 8', 'loader.conf 5'])
      assert.ok(seeAlso.includes(`.Xr ${x}`), x);
  });

  it('is clean under mandoc -Tlint (cross-references to FreeBSD pages aside)', (t) => {
    const r = spawnSync('mandoc', ['-Tlint', PAGE], { encoding: 'utf8' });
    if (r.error) {
      t.skip('mandoc is not installed (.ci/run installs it)');
      return;
    }
    // What the local manual database holds is no property of the page: off FreeBSD, bhyve(8), pciconf(8)
    // and the others are not installed, and a database older than an installed page is reported too.
    const messages = `${r.stdout}${r.stderr}`
      .split('\n')
      .filter(
        (l) => l.trim() && !/STYLE: referenced manual not found: Xr |outdated mandoc\.db lacks/.test(l),
      );
    assert.deepEqual(messages, []);
  });
});

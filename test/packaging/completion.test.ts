import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Command } from 'commander';
import { completionScript } from '../../src/cli/completions.js';
import { fullProgram } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/registry.js';
import { cli, tempDir } from '../helpers/snap.js';

/** Every command path with its option names, from the real command definitions. */
function commandPaths(cmd: Command, prefix: string[] = []): { path: string[]; options: string[] }[] {
  return cmd.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    const options = c.options
      .filter((o) => !o.hidden)
      .flatMap((o) => [o.long, o.short].filter((n) => n !== undefined));
    return [{ path, options: options as string[] }, ...commandPaths(c, path)];
  });
}

let program: Command;
let dir: string;
before(async () => {
  program = await fullProgram();
  dir = tempDir('bhyve-gpu-completion-');
});

/** Ask the generated bash completion for each command line (the last word is the one completed). */
function bashComplete(lines: string[][]): string[][] {
  const file = join(dir, 'bhyve-gpu.bash');
  writeFileSync(file, completionScript('bash', program));
  const queries = lines
    .map((words) => {
      const arr = words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ');
      return `COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _bhyve_gpu; printf '%s\\n' "\${COMPREPLY[*]}"`;
    })
    .join('\n');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source '${file}'\n${queries}`], {
    encoding: 'utf8',
    cwd: dir,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout
    .split('\n')
    .slice(0, lines.length)
    .map((l) => l.split(' ').filter(Boolean));
}

describe('shell completions made from the command definitions', () => {
  it('bash: the command words, then every option of every command (and the global ones)', () => {
    const [top, afterGlobal] = bashComplete([
      ['bhyve-gpu', ''],
      ['bhyve-gpu', '--host', 'x.json', ''],
    ]);
    assert.deepEqual(top?.sort(), COMMANDS.map((c) => c.name).sort());
    assert.deepEqual(afterGlobal?.sort(), COMMANDS.map((c) => c.name).sort());
    const paths = commandPaths(program);
    const answers = bashComplete(paths.map((p) => ['bhyve-gpu', ...p.path, '-']));
    paths.forEach((p, i) => {
      const offered = new Set(answers[i]);
      for (const o of p.options) assert.ok(offered.has(o), `bhyve-gpu ${p.path.join(' ')} ${o}`);
      for (const g of ['--host', '--root', '--json', '--color']) assert.ok(offered.has(g), `${p.path} ${g}`);
      assert.ok(offered.has('--help'));
    });
  });

  it('bash: subcommands, option values from their choices, and option values skipped when walking', () => {
    const [guest, distro, color, colorEq, colorSplit, colorSplitEmpty, afterValue, shell] = bashComplete([
      ['bhyve-gpu', 'guest', ''],
      ['bhyve-gpu', 'guest', 'setup', '--distro', 'deb'],
      ['bhyve-gpu', '--color', ''],
      ['bhyve-gpu', 'scan', '--color=al'],
      // bash's default COMP_WORDBREAKS splits --color=al into three words
      ['bhyve-gpu', 'scan', '--color', '=', 'al'],
      ['bhyve-gpu', 'scan', '--color', '='],
      ['bhyve-gpu', 'doctor', '--vm', 'scan', '--gu'],
      ['bhyve-gpu', 'completion', '--json', 'z'],
    ]);
    assert.deepEqual(guest, ['check', 'setup', 'script']);
    assert.deepEqual(distro, ['debian-12', 'debian-13']);
    assert.deepEqual(color, ['auto', 'always', 'never']);
    assert.deepEqual(colorEq, ['--color=always']);
    assert.deepEqual(colorSplit, ['always']);
    assert.deepEqual(colorSplitEmpty, ['auto', 'always', 'never']);
    // "scan" after --vm is the VM's name, not the scan command: doctor's options are offered.
    assert.deepEqual(afterValue, ['--guest-log']);
    // completion's argument: files are offered (none match "z" here), never a command word.
    assert.deepEqual(shell, []);
  });

  it('zsh: parses (zsh -n) and has a function with the options of every command', (t) => {
    const text = completionScript('zsh', program);
    assert.match(text, /^#compdef bhyve-gpu\n/);
    for (const p of commandPaths(program)) {
      const fn = new RegExp(`^_bhyve-gpu-${p.path.join('-')}\\(\\) \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(text);
      assert.ok(fn, `no zsh function for ${p.path.join(' ')}`);
      for (const o of p.options) assert.ok(fn[1]?.includes(`'${o}`), `${p.path.join(' ')} ${o}`);
    }
    const file = join(dir, '_bhyve-gpu');
    writeFileSync(file, text);
    const r = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    if (r.error) {
      t.skip('zsh is not installed');
      return;
    }
    assert.equal(r.status, 0, r.stderr);
  });

  it('tcsh: `complete` accepts it, with the commands and every long option', (t) => {
    const text = completionScript('tcsh', program);
    const file = join(dir, 'bhyve-gpu.tcsh');
    writeFileSync(file, text);
    for (const p of commandPaths(program))
      for (const o of p.options.filter((n) => n.startsWith('--')))
        assert.match(text, new RegExp(`[( ]${o.slice(2)}[ )]`), o);
    const r = spawnSync('tcsh', ['-f', '-c', `source ${file}; complete bhyve-gpu`], { encoding: 'utf8' });
    if (r.error) {
      t.skip('tcsh is not installed (.ci/run installs it)');
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /p\/1\/\(scan doctor /);
    assert.match(r.stdout, /n\/--color\/\(auto always never\)\//);
  });

  it('bhyve-gpu completion SHELL prints them; an unknown shell is a usage error', () => {
    const r = cli(['completion', 'bash']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, completionScript('bash', program));
    const bad = cli(['completion', 'fish']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /bash, zsh, tcsh/);
  });
});

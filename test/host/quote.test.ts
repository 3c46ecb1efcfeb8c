import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ToolError } from '../../src/errors.js';
import {
  batchScript,
  commandScript,
  parseBatch,
  quoteArg,
  quoteArgv,
  remoteCommand,
} from '../../src/host/shell-quote.js';

/** Arguments that a careless quoting would split, expand or execute. */
const NASTY = [
  'plain',
  'two words',
  "it's",
  "''",
  '$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal sh expansion that must stay literal
  '${PATH}',
  'a;b',
  'a && b',
  'back\\slash',
  'trailing\\',
  '*',
  '?',
  '[a-z]',
  'line1\nline2',
  '\ttab',
  '',
  '!x',
  '!!',
  'if',
  'A=b',
  '%s%d',
  '\\045',
  '"q"',
  '`id`',
  '$(id)',
  '~',
  '-n',
  'é ü 漢',
];

/** Run a login shell the way sshd does: `<shell> -c <command>`. */
function viaShell(shell: string, command: string): { status: number | null; stdout: Buffer } {
  const r = spawnSync(shell, ['-c', command], { encoding: 'buffer' });
  return { status: r.status, stdout: r.stdout };
}

describe('quoteArg', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    assert.equal(quoteArg('pciconf'), 'pciconf');
    assert.equal(quoteArg('/dev/vmm'), '/dev/vmm');
    assert.equal(quoteArg('two words'), "'two words'");
    assert.equal(quoteArg("it's"), "'it'\\''s'");
    assert.equal(quoteArg(''), "''");
    assert.equal(quoteArg('A=b'), "'A=b'");
    assert.equal(quoteArg('if'), "'if'");
  });

  it('leaves = alone after the command name, where sh reads it as itself', () => {
    assert.equal(quoteArgv(['A=b', 'c']), "'A=b' c");
    assert.equal(
      quoteArgv(['bhyve-gpu', 'patch', '--quirk', 'intpin,mmio64=128G']),
      'bhyve-gpu patch --quirk intpin,mmio64=128G',
    );
    assert.equal(quoteArgv(['sysrc', 'pptdevs=1/0/0 2/0/0']), "sysrc 'pptdevs=1/0/0 2/0/0'");
    // zsh expands =name at the start of a word
    assert.equal(quoteArgv(['echo', '=ls']), "echo '=ls'");
    const words = ['printf', '%s\\0', 'A=b', 'x=', 'a=b=c', '--quirk=intpin,mmio64=1T', '=b'];
    const r = spawnSync('sh', ['-c', quoteArgv(words)], { encoding: 'utf8' });
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), words.slice(2));
  });

  it('refuses a NUL byte, which no argv can carry', () => {
    assert.throws(() => quoteArg('a\0b'), ToolError);
    assert.throws(() => quoteArgv([]), ToolError);
  });

  it('gives sh the very same words back', () => {
    const r = spawnSync('sh', ['-c', `printf '%s\\0' ${NASTY.map(quoteArg).join(' ')}`], {
      encoding: 'utf8',
    });
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), NASTY);
  });
});

describe('remoteCommand', () => {
  const shells = ['/bin/sh', '/bin/bash', '/bin/dash', '/bin/csh', '/bin/tcsh', '/usr/bin/fish'].filter((s) =>
    existsSync(s),
  );
  for (const shell of shells)
    it(`passes every argument unchanged through a ${shell} login shell`, () => {
      const command = remoteCommand(commandScript(['printf', '%s\\0', ...NASTY]));
      const r = viaShell(shell, command);
      assert.equal(r.status, 0);
      assert.deepEqual(r.stdout.toString('utf8').split('\0').slice(0, -1), NASTY);
    });

  it('shows the login shell no quote, newline, $ or ! of the script', () => {
    const command = remoteCommand(commandScript(['echo', "it's $HOME !x\n"]));
    const inner = command.slice(command.indexOf('printf "') + 8, command.lastIndexOf('")"'));
    assert.doesNotMatch(inner, /['"$!\n`%]/);
  });

  it('applies cwd and env, and marks a real exit status 255', () => {
    const script = commandScript(['sh', '-c', 'pwd; printf "%s\\n" "$FOO"; exit 255'], {
      cwd: '/tmp',
      env: { FOO: "a 'b' $c" },
    });
    const r = spawnSync('sh', ['-c', remoteCommand(script)], { encoding: 'utf8' });
    assert.equal(r.status, 255);
    assert.equal(r.stdout, "/tmp\na 'b' $c\n");
    assert.match(r.stderr, /remote command exited 255/);
  });

  it('refuses an environment name that is not a name', () => {
    assert.throws(() => commandScript(['true'], { env: { 'A B': 'x' } }), ToolError);
  });
});

describe('batchScript and parseBatch', () => {
  it('round-trips stdout, stderr and exit status of each command, binary included', () => {
    const argvs = [
      ['printf', 'a\\000b\\377'],
      ['sh', '-c', 'echo out; echo err >&2; exit 7'],
      ['no-such-command-bhyve-gpu'],
      ['exit'],
      ['printf', '%s', 'BHYVEGPU-x 0 0 0\n'],
    ];
    const marker = 'BHYVEGPU-test';
    const r = spawnSync('sh', ['-c', remoteCommand(batchScript(argvs, marker))], { encoding: 'buffer' });
    assert.equal(r.status, 0);
    const sections = parseBatch(r.stdout, marker, argvs.length);
    assert.deepEqual([...(sections[0]?.stdout ?? [])], [0x61, 0, 0x62, 0xff]);
    assert.equal(sections[1]?.exitCode, 7);
    assert.equal(sections[1]?.stdout.toString(), 'out\n');
    assert.equal(sections[1]?.stderr.toString(), 'err\n');
    assert.equal(sections[2]?.exitCode, 127);
    assert.match(sections[2]?.stderr.toString() ?? '', /not found/);
    assert.equal(sections[3]?.exitCode, 0);
    assert.equal(sections[4]?.stdout.toString(), 'BHYVEGPU-x 0 0 0\n');
  });

  it('throws a ToolError on output that is cut short or foreign', () => {
    const good = Buffer.from('M 0 3 0\nabcM 1 0 2\nxy');
    assert.equal(parseBatch(good, 'M', 2).length, 2);
    assert.throws(() => parseBatch(good.subarray(0, 12), 'M', 2), ToolError);
    assert.throws(() => parseBatch(good, 'OTHER', 2), ToolError);
    assert.throws(() => parseBatch(Buffer.from('garbage'), 'M', 1), ToolError);
  });
});

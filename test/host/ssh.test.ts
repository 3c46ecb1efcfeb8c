import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommandNotFoundError, FileMissingError, ToolError } from '../../src/errors.js';
import { openHost } from '../../src/host/open.js';
import { SshHost } from '../../src/host/ssh.js';
import { REPO_ROOT } from '../helpers/corpus.js';

const SSHD = '/usr/sbin/sshd';
const SCRIPT = join(REPO_ROOT, 'scripts', 'sshd-test.sh');
// CI installs openssh-server and must run these tests; elsewhere a missing sshd only skips them.
const skip =
  !existsSync(SSHD) && !process.env.CI ? `${SSHD} is absent (apt-get install openssh-server)` : false;

const NASTY = [
  'two words',
  "it's",
  '$HOME',
  'a;b',
  'back\\slash',
  'end\\',
  '*',
  '?',
  'line1\nline2',
  '',
  '!x',
  '"q"',
  '`id`',
  '$(id)',
  '%s',
  'if',
  'A=b',
  '~',
  '-n',
  'é 漢',
];

describe('SshHost against a real sshd on 127.0.0.1', { skip }, () => {
  let dir = '';
  let port = 0;
  let work = '';
  let host: SshHost;
  const user = userInfo().username;
  const spec = (): string => `ssh://${user}@127.0.0.1:${port}`;
  const options = (config = 'ssh_config') => ({
    sshOptions: ['-F', join(dir, config)],
    connectTimeoutSec: 5,
  });

  before(async () => {
    if (!existsSync(SSHD)) throw new Error(`${SSHD} is absent but CI is set: install openssh-server`);
    dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-sshd-'));
    port = Number(execFileSync('bash', [SCRIPT, 'start', dir], { encoding: 'utf8' }).trim());
    work = join(dir, 'work');
    mkdirSync(work);
    host = await SshHost.connect(spec(), options());
  });

  after(async () => {
    await host?.close();
    if (dir) {
      spawnSync('bash', [SCRIPT, 'stop', dir], { stdio: 'inherit' });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('connects, learns the remote OS and names the host', () => {
    assert.equal(host.kind, 'ssh');
    assert.equal(host.os, 'Linux');
    assert.equal(host.description, `ssh ${user}@127.0.0.1:${port}`);
  });

  it('hands every argument to the remote program unchanged', async () => {
    const r = await host.run(['printf', '%s\\0', ...NASTY]);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), NASTY);
  });

  it('runs in cwd with env and stdin, and returns the exit status', async () => {
    const r = await host.run(['sh', '-c', 'pwd; printf "%s|" "$FOO"; cat; exit 3'], {
      cwd: work,
      env: { FOO: "x 'y' $z" },
      input: 'from stdin\n',
    });
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, `${work}\nx 'y' $z|from stdin\n`);
  });

  it('returns a remote exit status 255 as a result, not as a connection failure', async () => {
    const r = await host.run(['sh', '-c', 'echo bye >&2; exit 255']);
    assert.equal(r.exitCode, 255);
    assert.equal(r.stderr, 'bye\n');
  });

  it('reports a remote command that is not installed', async () => {
    await assert.rejects(host.run(['no-such-command-bhyve-gpu']), CommandNotFoundError);
  });

  it('kills a command that outlives its timeout, on both sides', async () => {
    // The "remote" is this machine, so the remote sleep can be watched in /proc.
    const sleeping = (): boolean =>
      readdirSync('/proc')
        .filter((n) => /^\d+$/.test(n))
        .some((n) => {
          try {
            return readFileSync(`/proc/${n}/cmdline`, 'utf8') === 'sleep\x0029.75\x00';
          } catch {
            return false;
          }
        });
    const started = Date.now();
    const pending = host.run(['sleep', '29.75'], { timeoutMs: 3000 });
    let seen = false;
    for (let i = 0; i < 25 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = sleeping();
    }
    const r = await pending;
    assert.equal(r.exitCode, 124);
    assert.ok(Date.now() - started < 6000, 'the local side gives up on time');
    assert.ok(seen, 'the remote command started');
    for (let i = 0; i < 60 && sleeping(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(sleeping(), false, 'timeout(1) ended the remote command too');
  });

  it('writes atomically and reads back bytes, mode, listing and links', async () => {
    const file = join(work, 'a file;$x.conf');
    const bytes = Uint8Array.from([0, 1, 2, 0xff, 0x0a, 0x27, 0x5c]);
    await host.writeFile(file, bytes, { mode: 0o640 });
    assert.deepEqual([...readFileSync(file)], [...bytes]);
    assert.equal(statSync(file).mode & 0o7777, 0o640);
    assert.deepEqual([...(await host.readBytes(file))], [...bytes]);

    chmodSync(file, 0o600);
    await host.writeFile(file, 'new text\n', { mode: 0o644 });
    assert.equal(readFileSync(file, 'utf8'), 'new text\n');
    assert.equal(statSync(file).mode & 0o7777, 0o600, 'an existing file keeps its mode');
    assert.equal(await host.readFile(file), 'new text\n');

    const st = await host.stat(file);
    assert.deepEqual(
      { size: st?.size, mode: st?.mode, isFile: st?.isFile, isDirectory: st?.isDirectory },
      { size: 9, mode: 0o600, isFile: true, isDirectory: false },
    );
    assert.equal(Math.floor((st?.mtimeMs ?? 0) / 1000), Math.floor(statSync(file).mtimeMs / 1000));
    assert.equal((await host.stat(work))?.isDirectory, true);
    assert.equal(await host.stat(join(work, 'absent')), undefined);
    assert.equal(await host.exists(file), true);

    symlinkSync('a file;$x.conf', join(work, 'link'));
    assert.equal(await host.readLink(join(work, 'link')), 'a file;$x.conf');
    assert.equal(await host.readLink(file), undefined);
    await host.mkdir(join(work, 'deep', 'er'));
    assert.ok(statSync(join(work, 'deep', 'er')).isDirectory());
    writeFileSync(join(work, '.hidden'), '');
    assert.deepEqual(await host.listDir(work), ['.hidden', 'a file;$x.conf', 'deep', 'link']);
    assert.deepEqual(
      readdirSync(work).filter((n) => n.endsWith('.tmp')),
      [],
      'no temp file left',
    );
    assert.deepEqual(await host.listDir(join(work, 'absent')), []);

    await host.removeFile(file);
    assert.equal(existsSync(file), false);
    await assert.rejects(host.readFile(file), FileMissingError);
  });

  it('creates a file only when nothing is there', async () => {
    const lock = join(work, 'lock');
    assert.equal(await host.createExclusive(lock, 'first\n'), true);
    assert.equal(await host.createExclusive(lock, 'second\n'), false);
    assert.equal(readFileSync(lock, 'utf8'), 'first\n');
    await assert.rejects(host.createExclusive(join(work, 'no', 'dir', 'lock'), 'x'), ToolError);
  });

  it('runs 50 commands in one round trip', async () => {
    const argvs = Array.from({ length: 50 }, (_, i) =>
      i === 7 ? ['no-such-command-bhyve-gpu'] : ['sh', '-c', `echo out${i}; echo err${i} >&2; exit ${i % 5}`],
    );
    const before = host.roundTrips;
    const results = await host.runBatch(argvs);
    assert.equal(host.roundTrips - before, 1);
    assert.equal(results.length, 50);
    assert.equal(results[7]?.exitCode, 127);
    assert.match(results[7]?.stderr ?? '', /not found/);
    for (const [i, r] of results.entries()) {
      if (i === 7) continue;
      assert.deepEqual([r.exitCode, r.stdout, r.stderr], [i % 5, `out${i}\n`, `err${i}\n`]);
    }
  });

  it('fails fast and clearly on a closed port', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const started = Date.now();
    await assert.rejects(SshHost.connect(`ssh://${user}@127.0.0.1:${closed}`, options()), (e: unknown) => {
      assert.ok(e instanceof ToolError);
      assert.equal(e.code, 'ssh-failed');
      assert.match(e.message, /Connection refused/);
      assert.match(e.hint ?? '', /port/);
      return true;
    });
    assert.ok(Date.now() - started < 5000, 'no hang');
  });

  it('fails fast and clearly when the key is refused', async () => {
    const started = Date.now();
    await assert.rejects(SshHost.connect(spec(), options('ssh_config_wrong_key')), (e: unknown) => {
      assert.ok(e instanceof ToolError);
      assert.equal(e.code, 'ssh-failed');
      assert.match(e.message, /Permission denied/);
      assert.match(e.hint ?? '', /key/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, 'BatchMode: no prompt, no hang');
  });

  it('ends the multiplexing master on close', async () => {
    const other = await SshHost.connect(spec(), options());
    const check = spawnSync(
      'ssh',
      [
        ...options().sshOptions,
        '-o',
        `ControlPath=${other.controlDir}/%C`,
        '-p',
        String(port),
        '-l',
        user,
        '-O',
        'check',
        '127.0.0.1',
      ],
      { encoding: 'utf8' },
    );
    const pid = Number(/pid=(\d+)/.exec(check.stderr)?.[1]);
    assert.ok(pid > 0, `master runs: ${check.stderr}`);
    await other.close();
    assert.equal(existsSync(other.controlDir), false);
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, 'master process is gone');
  });

  it('is what openHost gives for ssh://, with options from BHYVE_GPU_SSH_OPTS', async () => {
    const saved = process.env.BHYVE_GPU_SSH_OPTS;
    process.env.BHYVE_GPU_SSH_OPTS = `-F ${join(dir, 'ssh_config')}`;
    try {
      const opened = await openHost(spec());
      assert.equal(opened.kind, 'ssh');
      assert.equal((await opened.run(['echo', 'ok'])).stdout, 'ok\n');
      await opened.close();
    } finally {
      if (saved === undefined) delete process.env.BHYVE_GPU_SSH_OPTS;
      else process.env.BHYVE_GPU_SSH_OPTS = saved;
    }
  });
});

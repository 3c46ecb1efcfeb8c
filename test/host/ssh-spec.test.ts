import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ToolError, UsageError } from '../../src/errors.js';
import { parseSshSpec, sshFailure, statCommand, toFileStat } from '../../src/host/ssh-remote.js';

describe('parseSshSpec', () => {
  it('reads user, host and port', () => {
    assert.deepEqual(parseSshSpec('ssh://gpu-box'), { host: 'gpu-box' });
    assert.deepEqual(parseSshSpec('ssh://root@gpu-box.lan'), { host: 'gpu-box.lan', user: 'root' });
    assert.deepEqual(parseSshSpec('ssh://admin@10.0.0.5:2222'), {
      host: '10.0.0.5',
      user: 'admin',
      port: 2222,
    });
    assert.deepEqual(parseSshSpec('ssh://root@[fe80::1]:22/'), { host: 'fe80::1', user: 'root', port: 22 });
    assert.deepEqual(parseSshSpec('ssh://my-alias'), { host: 'my-alias' });
    assert.deepEqual(parseSshSpec('ssh://[fe80::1%em0]'), { host: 'fe80::1%em0' });
  });

  it('refuses what ssh could read as an option, and malformed specs', () => {
    for (const bad of [
      'ssh://',
      'ssh://-oProxyCommand=touch%20x',
      'ssh://-host',
      'ssh://-l@host',
      'ssh://root@host:0',
      'ssh://root@host:70000',
      'ssh://root@host:',
      'ssh://root@host/path',
      'ssh://a b@host',
      'ssh://root@ho;st',
    ])
      assert.throws(() => parseSshSpec(bad), UsageError, bad);
  });
});

describe('sshFailure', () => {
  // Messages as OpenSSH 9 prints them (seen in the tests against a real sshd).
  it('points at keys when authentication fails', () => {
    const e = sshFailure('ssh root@box', 'root@127.0.0.1: Permission denied (publickey).\n');
    assert.ok(e instanceof ToolError);
    assert.equal(e.code, 'ssh-failed');
    assert.match(e.message, /^ssh root@box: connection failed: root@127.0.0.1: Permission denied/);
    assert.match(e.hint ?? '', /ssh-add|-i KEY/);
  });

  it('points at known_hosts when the host key is unknown', () => {
    const e = sshFailure(
      'ssh box',
      'No ED25519 host key is known for box and you have requested strict checking.\nHost key verification failed.\n',
    );
    assert.match(e.hint ?? '', /known_hosts/);
  });

  it('points at host and port when nothing answers', () => {
    const e = sshFailure('ssh box', 'ssh: connect to host 127.0.0.1 port 1: Connection refused\n');
    assert.match(e.hint ?? '', /port/);
    assert.match(sshFailure('ssh box', '').message, /without a message/);
  });
});

describe('stat dialects', () => {
  it('reads GNU stat -c "%s %f %Y" (mode in hex)', () => {
    assert.deepEqual(statCommand('Linux', '/etc/rc.conf'), [
      'stat',
      '-L',
      '-c',
      '%s %f %Y',
      '--',
      '/etc/rc.conf',
    ]);
    assert.deepEqual(toFileStat('Linux', '1267 81a4 1795714780\n'), {
      size: 1267,
      mode: 0o644,
      mtimeMs: 1795714780000,
      isFile: true,
      isDirectory: false,
      isSymbolicLink: false,
    });
    assert.equal(toFileStat('Linux', '4096 41ed 1795714780\n')?.isDirectory, true);
  });

  it('reads BSD stat -f "%z %p %m" (mode in octal)', () => {
    assert.deepEqual(statCommand('FreeBSD', '/boot/loader.conf'), [
      'stat',
      '-L',
      '-f',
      '%z %p %m',
      '--',
      '/boot/loader.conf',
    ]);
    const st = toFileStat('FreeBSD', '512 104755 1700000000\n');
    assert.equal(st?.mode, 0o4755);
    assert.equal(st?.isFile, true);
    assert.equal(toFileStat('FreeBSD', '512 40755 1700000000\n')?.isDirectory, true);
    assert.equal(toFileStat('FreeBSD', 'garbage'), undefined);
  });
});

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SshHost } from '../../src/host/ssh.js';
import { collect } from '../../src/inventory/collect.js';
import { PROBE_COMMANDS, PROBE_FILES } from '../../src/inventory/probes.js';
import { REPO_ROOT } from '../helpers/corpus.js';

const SSHD = '/usr/sbin/sshd';
const SCRIPT = join(REPO_ROOT, 'scripts', 'sshd-test.sh');
const skip =
  !existsSync(SSHD) && !process.env.CI ? `${SSHD} is absent (apt-get install openssh-server)` : false;

describe('a scan over a real sshd on 127.0.0.1', { skip }, () => {
  let dir = '';
  let host: SshHost;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-sshd-scan-'));
    const port = Number(execFileSync('bash', [SCRIPT, 'start', dir], { encoding: 'utf8' }).trim());
    host = await SshHost.connect(`ssh://${userInfo().username}@127.0.0.1:${port}`, {
      sshOptions: ['-F', join(dir, 'ssh_config')],
      connectTimeoutSec: 5,
    });
  });

  after(async () => {
    await host?.close();
    if (dir) {
      spawnSync('bash', [SCRIPT, 'stop', dir], { stdio: 'inherit' });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs every probe command and reads every probe file in a few round trips', async () => {
    const before = host.roundTrips;
    const raw = await collect(host);
    const trips = host.roundTrips - before;
    assert.equal(raw.commands.length, PROBE_COMMANDS.length);
    // This Linux machine lacks pciconf: a missing program, not a failed connection.
    assert.equal(raw.commands.find((c) => c.argv[0] === 'pciconf')?.reason, 'command not found');
    assert.equal(raw.files.filter((f) => PROBE_FILES.includes(f.path)).length, PROBE_FILES.length);
    assert.ok(
      raw.files.every((f) => f.state !== 'unknown'),
      JSON.stringify(raw.files),
    );
    assert.ok(trips <= 6, `${trips} round trips`);
  });
});

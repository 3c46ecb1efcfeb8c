import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/corpus.js';

const fixturePath = (name: string) => join(REPO_ROOT, 'test', 'fixtures', 'guest', name);

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bhyve-gpu guest check', () => {
  it('--json on the INTPIN-0 guest: one JSON document, exit 1', () => {
    const r = cli('guest', 'check', '--host', fixturePath('bhyve-ubuntu-p4-intpin-missing.json'), '--json');
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      schemaVersion: number;
      ok: boolean;
      checks: { id: string; answer: string }[];
      gpus: { address: string; interruptPin: number }[];
    };
    assert.equal(doc.schemaVersion, 1);
    assert.equal(doc.ok, false);
    assert.equal(doc.gpus[0]?.address, '0000:00:06.0');
    assert.equal(doc.gpus[0]?.interruptPin, 0);
    assert.equal(doc.checks.find((c) => c.id === 'interrupt-pin')?.answer, 'no');
  });

  it('healthy guest: exit 0 and a human report', () => {
    const r = cli('--host', fixturePath('bhyve-ubuntu-p4-healthy.json'), 'guest', 'check');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Tesla P4 \(Pascal\)/);
    assert.match(r.stdout, /GPU visible and driver initialised\./);
  });

  it('--help lists examples and exit codes', () => {
    const r = cli('guest', 'check', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /Exit codes:/);
  });
});

describe('bhyve-gpu guest setup', () => {
  it('prints the script for a given distro and GPU', () => {
    const r = cli('guest', 'setup', '--distro', 'ubuntu-24.04', '--gpu', '10de:1bb3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#!\/usr\/bin\/env bash/);
    assert.match(r.stdout, /apt-get install -y cuda-drivers-580\n/);
  });

  it('detects distro and GPU from a guest snapshot; cloud-init format', () => {
    const r = cli(
      '--host',
      fixturePath('bhyve-ubuntu-p4-healthy.json'),
      'guest',
      'setup',
      '--format',
      'cloud-init',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#cloud-config\n/);
    assert.match(r.stdout, /ubuntu2404\/x86_64\/cuda-keyring_1\.1-1_all\.deb/);
  });

  it('refuses --run without --yes (exit 2) and rejects an unknown distro', () => {
    const run = cli('guest', 'setup', '--distro', 'debian-12', '--gpu', '1bb3', '--run');
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--yes/);
    assert.equal(cli('guest', 'setup', '--distro', 'fedora-40', '--gpu', '1bb3').code, 2);
  });

  it('refuses --modules open on a Pascal GPU (exit 2), allows it on an unknown id', () => {
    const r = cli('guest', 'setup', '--distro', 'ubuntu-24.04', '--gpu', '10de:1bb3', '--modules', 'open');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Pascal/);
    assert.match(r.stderr, /open kernel modules: they need a Turing or newer GPU/);
    const unknown = cli(
      'guest',
      'setup',
      '--distro',
      'ubuntu-24.04',
      '--gpu',
      '10de:0001',
      '--modules',
      'open',
    );
    assert.equal(unknown.code, 0, unknown.stderr);
    assert.match(unknown.stdout, /apt-get install -y nvidia-open\n/);
    const forced = cli(
      'guest',
      'setup',
      '--distro',
      'ubuntu-24.04',
      '--gpu',
      '10de:1eb8',
      '--modules',
      'proprietary',
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /apt-get install -y cuda-drivers-580\n/);
  });

  it('--yes without --run: prints the script and says --yes is ignored', () => {
    const r = cli('guest', 'setup', '--distro', 'debian-12', '--gpu', '1bb3', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#!\/usr\/bin\/env bash/);
    assert.match(r.stderr, /--yes only matters with --run/);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/corpus.js';
import { makeRemote, type TestRemote } from '../make/repos.js';

let remote: TestRemote;
before(() => {
  remote = makeRemote();
});
after(() => rmSync(remote.dir, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bhyve-gpu source (end to end)', () => {
  it('fetches the branch for --release and prints one JSON document, then finds it present', () => {
    const src = join(remote.dir, 'src');
    const first = cli('source', '--repo', remote.url, '--src', src, '--release', '15.0', '--json');
    assert.equal(first.status, 0, first.stderr);
    const doc = JSON.parse(first.stdout);
    assert.equal(doc.schemaVersion, 1);
    assert.equal(doc.status, 'fetched');
    assert.equal(doc.branch, 'releng/15.0');
    assert.equal(doc.release, '15.0');
    assert.equal(doc.dest, src);
    assert.match(doc.commit, /^[0-9a-f]{40}$/);
    assert.ok(existsSync(join(src, '.bhyve-gpu/source.json')));
    const again = cli('source', '--repo', remote.url, '--src', src, '--release', '15.0', '--json');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).status, 'present');
    const human = cli('source', '--repo', remote.url, '--src', src, '--release', '15.0');
    assert.match(human.stdout, /already holds releng\/15\.0 at [0-9a-f]{12}/);
  });

  it('chooses stable/X and the nvidia-wip branch by flavor', () => {
    const stable = cli(
      'source',
      '--flavor',
      'stable',
      '--repo',
      remote.url,
      '--src',
      join(remote.dir, 's'),
      '--release',
      '15.0',
      '--json',
    );
    assert.equal(JSON.parse(stable.stdout).branch, 'stable/15');
    const wip = cli(
      'source',
      '--flavor',
      'nvidia-wip',
      '--repo',
      remote.url,
      '--src',
      join(remote.dir, 'w'),
      '--release',
      '15.0',
      '--json',
    );
    assert.equal(JSON.parse(wip.stdout).branch, 'phab/corvink/15.0/nvidia-wip');
  });

  it('fails with the nearest branch when the release has none', () => {
    const r = cli(
      'source',
      '--flavor',
      'nvidia-wip',
      '--repo',
      remote.url,
      '--src',
      join(remote.dir, 'n'),
      '--release',
      '14.3',
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no nvidia-wip branch matches 14\.3; nearest: phab\/corvink\/14\.2\/nvidia-wip/);
    assert.match(r.stderr, /--branch phab\/corvink\/14\.2\/nvidia-wip/);
    assert.equal(r.stdout, '');
  });

  it('prints the git steps for --dry-run and changes nothing', () => {
    const src = join(remote.dir, 'dry');
    const r = cli('source', '--branch', 'releng/14.3', '--repo', remote.url, '--src', src, '--dry-run');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /git -C \S+dry fetch --depth 1 --progress origin releng\/14\.3/);
    assert.equal(existsSync(src), false);
  });

  it('--dry-run --flavor nvidia-wip on a 14.3 host says the branch is a guess and which ones are known', () => {
    const src = join(remote.dir, 'wip-dry');
    const host = join(REPO_ROOT, 'examples/hosts/rtx2080ti-14.3.json');
    const r = cli('source', '--host', host, '--flavor', 'nvidia-wip', '--src', src, '--dry-run');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /would fetch phab\/corvink\/14\.3\/nvidia-wip of https:\/\/github\.com\/Beckhoff/);
    assert.match(r.stderr, /phab\/corvink\/14\.3\/nvidia-wip is a guess/);
    assert.match(r.stderr, /known only for 14\.2 and 15\.0/);
    assert.match(
      r.stderr,
      /git ls-remote --heads https:\/\/github\.com\/Beckhoff\/freebsd-src\.git 'phab\/corvink\/\*'/,
    );
    assert.match(r.stderr, /--branch phab\/corvink\/14\.2\/nvidia-wip/);
    // Said before anything is fetched: the dry run created nothing.
    assert.equal(existsSync(src), false);
    const json = JSON.parse(
      cli('source', '--host', host, '--flavor', 'nvidia-wip', '--src', src, '--dry-run', '--json').stdout,
    );
    assert.equal(json.branchKnown, false);
    assert.deepEqual(json.knownBranches, ['phab/corvink/14.2/nvidia-wip', 'phab/corvink/15.0/nvidia-wip']);
    const known = cli('source', '--flavor', 'nvidia-wip', '--release', '15.0', '--src', src, '--dry-run');
    assert.match(known.stderr, /phab\/corvink\/15\.0\/nvidia-wip is known to exist/);
    assert.doesNotMatch(known.stderr, /guess/);
    const upstream = cli('source', '--release', '14.3', '--src', src, '--dry-run');
    assert.doesNotMatch(upstream.stderr, /guess|known/);
  });

  it('refuses /usr/src and an unknown flavor as usage errors', () => {
    assert.equal(cli('source', '--src', '/usr/src', '--release', '15.0', '--dry-run').status, 2);
    assert.equal(cli('source', '--flavor', 'head', '--release', '15.0', '--dry-run').status, 2);
    assert.equal(cli('source', '--release', 'fifteen', '--dry-run').status, 2);
  });

  it('has help with examples and exit codes', () => {
    const r = cli('source', '--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /Exit codes:/);
  });
});

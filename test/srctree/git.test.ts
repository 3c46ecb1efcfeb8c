import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ToolError, UsageError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import { changedSincePin } from '../../src/make/plan.js';
import { fetchSource, fetchSteps, hostRelease, listRemote, readPin } from '../../src/srctree/git.js';
import { corpus } from '../helpers/corpus.js';
import { gitIn, makeRemote, type TestRemote } from '../make/repos.js';

const host = new LocalHost();
let remote: TestRemote;

before(() => {
  remote = makeRemote();
});
after(() => {
  rmSync(remote.dir, { recursive: true, force: true });
});

function sha(branch: string): string {
  return gitIn(remote.bare, 'rev-parse', branch).trim();
}

describe('fetchSource against a local bare repository', () => {
  it('lists the remote branches', async () => {
    const names = (await listRemote(host, remote.url)).map((r) => r.name);
    assert.ok(names.includes('releng/15.0') && names.includes('phab/corvink/15.0/nvidia-wip'));
  });

  it('fetches shallowly, checks out a local branch and pins the commit', async () => {
    const dest = join(remote.dir, 'src-fetch');
    const lines: string[] = [];
    const result = await fetchSource(host, {
      repo: remote.url,
      branch: 'releng/15.0',
      dest,
      onProgress: (line) => lines.push(line),
      now: () => new Date('2026-01-02T03:04:05Z'),
    });
    assert.equal(result.status, 'fetched');
    assert.equal(result.commit, sha('releng/15.0'));
    assert.equal(result.remoteCommit, result.commit);
    assert.match(readFileSync(join(dest, 'sys/conf/newvers.sh'), 'utf8'), /REVISION="15.0"/);
    assert.equal(gitIn(dest, 'rev-parse', '--abbrev-ref', 'HEAD').trim(), 'bhyve-gpu/releng/15.0');
    assert.ok(existsSync(join(dest, '.git/shallow')), 'a --depth 1 fetch leaves .git/shallow');
    assert.equal(gitIn(dest, 'rev-list', '--count', 'HEAD').trim(), '1');
    const pin = JSON.parse(readFileSync(join(dest, '.bhyve-gpu/source.json'), 'utf8'));
    assert.deepEqual(pin, {
      repo: remote.url,
      branch: 'releng/15.0',
      commit: result.commit,
      fetchedAt: '2026-01-02T03:04:05.000Z',
    });
    assert.equal(
      gitIn(dest, 'status', '--porcelain').trim(),
      '',
      'the record directory is excluded from git',
    );
    assert.ok(
      lines.some((l) => /objects/i.test(l)),
      `git --progress lines are forwarded: ${lines.join(' | ')}`,
    );
  });

  it('leaves a tree that already holds the branch alone, and keeps local changes', async () => {
    const dest = join(remote.dir, 'src-rerun');
    await fetchSource(host, { repo: remote.url, branch: 'stable/15', dest });
    const fetchHead = statSync(join(dest, '.git/FETCH_HEAD')).mtimeMs;
    writeFileSync(join(dest, 'usr.sbin/bhyve/pci_passthru.c'), '/* patched */\n');
    const again = await fetchSource(host, { repo: remote.url, branch: 'stable/15', dest });
    assert.equal(again.status, 'present');
    assert.equal(statSync(join(dest, '.git/FETCH_HEAD')).mtimeMs, fetchHead, 'no second fetch');
    assert.equal(readFileSync(join(dest, 'usr.sbin/bhyve/pci_passthru.c'), 'utf8'), '/* patched */\n');
    assert.deepEqual(await changedSincePin(host, dest, again.commit), ['usr.sbin/bhyve/pci_passthru.c']);
  });

  it('moves to the new remote commit only with update', async () => {
    const dest = join(remote.dir, 'src-update');
    const first = await fetchSource(host, { repo: remote.url, branch: 'releng/14.3', dest });
    const newer = remote.advance('releng/14.3');
    const stale = await fetchSource(host, { repo: remote.url, branch: 'releng/14.3', dest });
    assert.equal(stale.status, 'present');
    assert.equal(stale.commit, first.commit);
    assert.equal(stale.remoteCommit, newer);
    const updated = await fetchSource(host, { repo: remote.url, branch: 'releng/14.3', dest, update: true });
    assert.equal(updated.status, 'updated');
    assert.equal(updated.commit, newer);
    assert.equal((await readPin(host, dest))?.commit, newer);
  });

  it('resumes after an interrupted run: repository and remote made, nothing fetched', async () => {
    const dest = join(remote.dir, 'src-interrupted');
    gitIn(remote.dir, 'init', '--quiet', dest);
    gitIn(dest, 'remote', 'add', 'origin', remote.url);
    const result = await fetchSource(host, {
      repo: remote.url,
      branch: 'phab/corvink/15.0/nvidia-wip',
      dest,
    });
    assert.equal(result.status, 'fetched');
    assert.equal(result.commit, sha('phab/corvink/15.0/nvidia-wip'));
  });

  it('restores a checkout whose files were deleted while .git was kept', async () => {
    const dest = join(remote.dir, 'src-deleted');
    const first = await fetchSource(host, { repo: remote.url, branch: 'releng/15.0', dest });
    for (const name of readdirSync(dest)) if (name !== '.git') rmSync(join(dest, name), { recursive: true });
    const again = await fetchSource(host, { repo: remote.url, branch: 'releng/15.0', dest });
    assert.equal(again.status, 'fetched');
    assert.equal(again.commit, first.commit);
    assert.ok(existsSync(join(dest, 'sys/conf/newvers.sh')));
    assert.ok(existsSync(join(dest, '.bhyve-gpu/source.json')));
  });

  it('fetches an annotated tag and pins the commit it points at', async () => {
    const result = await fetchSource(host, {
      repo: remote.url,
      branch: 'release/15.0.0',
      dest: join(remote.dir, 'src-tag'),
    });
    assert.equal(result.commit, sha('releng/15.0'));
    assert.equal(result.remoteCommit, result.commit);
  });

  it('names the nearest branch when the wanted one is missing', async () => {
    await assert.rejects(
      fetchSource(host, {
        repo: remote.url,
        branch: 'phab/corvink/14.3/nvidia-wip',
        dest: join(remote.dir, 'x'),
      }),
      (e: unknown) =>
        e instanceof ToolError &&
        e.code === 'branch-missing' &&
        /phab\/corvink\/14\.2\/nvidia-wip/.test(e.hint ?? ''),
    );
    assert.equal(existsSync(join(remote.dir, 'x')), false, 'nothing is created for a missing branch');
  });

  it('reports an unreachable repository as a ToolError', async () => {
    await assert.rejects(
      listRemote(host, `file://${join(remote.dir, 'nope.git')}`),
      (e: unknown) => e instanceof ToolError && e.code === 'git-remote',
    );
  });

  it('never fetches into /usr/src', async () => {
    for (const dest of ['/usr/src', '/usr/src/', '/usr/src/usr.sbin', '/', 'relative/dir']) {
      await assert.rejects(fetchSource(host, { repo: remote.url, branch: 'releng/15.0', dest }), UsageError);
    }
  });

  it('lists the steps of a fresh fetch for --dry-run', () => {
    const steps = fetchSteps('https://git.FreeBSD.org/src.git', 'releng/14.3', '/var/tmp/src');
    assert.deepEqual(steps[3], [
      'git',
      '-C',
      '/var/tmp/src',
      'fetch',
      '--depth',
      '1',
      '--progress',
      'origin',
      'releng/14.3',
    ]);
    assert.deepEqual(steps.at(-1), [
      'git',
      '-C',
      '/var/tmp/src',
      'checkout',
      '-B',
      'bhyve-gpu/releng/14.3',
      'FETCH_HEAD',
    ]);
  });
});

describe('hostRelease', () => {
  /** A snapshot host that captured only the given commands (output taken from the corpus). */
  function snapshot(commands: { argv: string[]; stdout: string }[]): SnapshotHost {
    return new SnapshotHost({
      format: 'bhyve-gpu-snapshot',
      version: 1,
      capturedAt: '2026-01-01T00:00:00Z',
      hostname: 'test',
      commands: commands.map((c) => ({ ...c, exitCode: 0, stderr: '' })),
      files: {},
      missing: [],
    });
  }
  const body = (name: string): string => {
    const file = corpus('versions').find((f) => f.name === name);
    assert.ok(file, name);
    return file.body;
  };

  it('takes the running kernel line of freebsd-version -kru', async () => {
    const text = body('fbsd142-freebsd-version-kru-p1-p1-p2.txt').replace(/^# freebsd-version -kru\n/, '');
    const release = await hostRelease(snapshot([{ argv: ['freebsd-version', '-kru'], stdout: text }]));
    assert.deepEqual(release, { major: 14, minor: 2, branch: 'RELEASE', patch: 1 });
  });

  it('falls back to uname -r, and to undefined when neither was captured', async () => {
    const unameA = body('fbsd150-uname-a-amd64-dorado.txt').trim();
    const unameR = unameA.split(/\s+/)[2] ?? '';
    const release = await hostRelease(snapshot([{ argv: ['uname', '-r'], stdout: `${unameR}\n` }]));
    assert.deepEqual(release, { major: 15, minor: 0, branch: 'RELEASE' });
    assert.equal(await hostRelease(snapshot([])), undefined);
  });
});

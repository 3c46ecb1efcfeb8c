import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/errors.js';
import {
  chooseBranch,
  nearestBranches,
  parseLsRemote,
  parseReleaseOption,
  parseReleaseString,
  wantedBranch,
} from '../../src/srctree/branches.js';
import { corpus, REPO_ROOT } from '../helpers/corpus.js';

// Real `git ls-remote --heads --tags file://...` output of a test remote (see test/build/repos.ts).
const LS_REMOTE = readFileSync(join(REPO_ROOT, 'test/fixtures/build/ls-remote.txt'), 'utf8');

describe('parseLsRemote', () => {
  it('reads heads and tags and drops peeled tag lines', () => {
    const refs = parseLsRemote(LS_REMOTE);
    assert.equal(refs.length, 7);
    assert.deepEqual(
      refs.filter((r) => r.kind === 'branch').map((r) => r.name),
      [
        'main',
        'phab/corvink/14.2/nvidia-wip',
        'phab/corvink/15.0/nvidia-wip',
        'releng/14.3',
        'releng/15.0',
        'stable/15',
      ],
    );
    const tag = refs.find((r) => r.kind === 'tag');
    assert.equal(tag?.name, 'release/15.0.0');
    assert.equal(tag?.ref, 'refs/tags/release/15.0.0');
    assert.equal(
      tag?.peeled,
      refs.find((r) => r.name === 'releng/15.0')?.sha,
      'the tag points at releng/15.0',
    );
    assert.match(refs[0]?.sha ?? '', /^[0-9a-f]{40}$/);
  });

  it('accepts an empty listing and CRLF lines', () => {
    assert.deepEqual(parseLsRemote(''), []);
    const crlf = LS_REMOTE.split('\n').join('\r\n');
    assert.equal(parseLsRemote(crlf).length, 7);
  });

  it('throws a ParseError with the line number on garbage', () => {
    assert.throws(
      () => parseLsRemote(`${LS_REMOTE}fatal: repository not found\n`),
      (e: unknown) => e instanceof ParseError && e.line === 9,
    );
  });
});

describe('release strings', () => {
  it('parses every freebsd-version and uname release in the corpus', () => {
    const seen: string[] = [];
    for (const file of corpus('versions')) {
      for (const m of file.body.matchAll(/\b(\d+\.\d+-[A-Z]+\d*(?:-p\d+)?)\b/g)) {
        const release = parseReleaseString(m[1] as string);
        assert.ok(release, `${file.name}: ${m[1]}`);
        seen.push(`${release.major}.${release.minor}`);
      }
    }
    assert.ok(seen.includes('14.3') && seen.includes('15.0') && seen.includes('14.2'));
  });

  it('keeps the branch and patch level', () => {
    assert.deepEqual(parseReleaseString('14.3-RELEASE-p4'), {
      major: 14,
      minor: 3,
      branch: 'RELEASE',
      patch: 4,
    });
    assert.deepEqual(parseReleaseString('15.0-BETA2'), { major: 15, minor: 0, branch: 'BETA2' });
    assert.equal(parseReleaseString('Linux 6.1'), undefined);
    assert.deepEqual(parseReleaseOption('15.0'), { major: 15, minor: 0, branch: 'RELEASE' });
    assert.equal(parseReleaseOption('fifteen'), undefined);
  });
});

describe('chooseBranch', () => {
  const names = parseLsRemote(LS_REMOTE)
    .filter((r) => r.kind === 'branch')
    .map((r) => r.name);
  const r143 = { major: 14, minor: 3, branch: 'RELEASE' };
  const r150 = { major: 15, minor: 0, branch: 'RELEASE' };

  it('maps each flavor to its branch', () => {
    assert.equal(wantedBranch(r143, 'upstream'), 'releng/14.3');
    assert.equal(wantedBranch(r150, 'stable'), 'stable/15');
    assert.equal(wantedBranch(r150, 'nvidia-wip'), 'phab/corvink/15.0/nvidia-wip');
    assert.equal(wantedBranch({ major: 16, minor: 0, branch: 'CURRENT' }, 'upstream'), 'main');
  });

  it('picks releng, stable and nvidia-wip branches that exist', () => {
    const upstream = chooseBranch(r143, 'upstream', names);
    assert.deepEqual(upstream.ok && upstream.branch, 'releng/14.3');
    const stable = chooseBranch(r150, 'stable', names);
    assert.deepEqual(stable.ok && stable.branch, 'stable/15');
    const wip = chooseBranch(r150, 'nvidia-wip', names);
    assert.ok(wip.ok);
    assert.equal(wip.branch, 'phab/corvink/15.0/nvidia-wip');
    assert.match(wip.reason, /Beckhoff/);
  });

  it('names 14.2 nvidia-wip as the nearest for a 14.3 host', () => {
    const choice = chooseBranch(r143, 'nvidia-wip', names);
    assert.equal(choice.ok, false);
    if (choice.ok) return;
    assert.equal(choice.wanted, 'phab/corvink/14.3/nvidia-wip');
    assert.deepEqual(choice.nearest, ['phab/corvink/14.2/nvidia-wip', 'phab/corvink/15.0/nvidia-wip']);
    assert.match(
      choice.message,
      /no nvidia-wip branch matches 14\.3; nearest: phab\/corvink\/14\.2\/nvidia-wip/,
    );
  });

  it('orders the nearest releng branches by distance, older first', () => {
    const upstream = [
      'releng/13.5',
      'releng/14.0',
      'releng/14.1',
      'releng/14.2',
      'releng/15.0',
      'stable/14',
      'main',
    ];
    assert.deepEqual(nearestBranches('releng/14.3', upstream), ['releng/14.2', 'releng/14.1', 'releng/14.0']);
    assert.deepEqual(nearestBranches('stable/16', ['stable/13', 'stable/14', 'stable/15']), [
      'stable/15',
      'stable/14',
      'stable/13',
    ]);
    const none = chooseBranch({ major: 13, minor: 0, branch: 'RELEASE' }, 'stable', ['main']);
    assert.equal(none.ok, false);
    assert.match(none.ok ? '' : none.message, /no similar branch/);
  });
});

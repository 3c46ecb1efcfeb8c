import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFreebsdVersion, parseRelease, parseUname } from '../../src/facts/version.js';
import { corpusFile } from '../helpers/corpus.js';

describe('parseFreebsdVersion', () => {
  it('reads -kru with a userland ahead of the kernel', () => {
    const v = parseFreebsdVersion(corpusFile('versions', 'fbsd142-freebsd-version-kru-p1-p1-p2.txt').body);
    assert.equal(v.installedKernel, '14.2-RELEASE-p1');
    assert.equal(v.runningKernel, '14.2-RELEASE-p1');
    assert.equal(v.userland, '14.2-RELEASE-p2');
    assert.deepEqual(v.release, {
      major: 14,
      minor: 2,
      branch: 'RELEASE',
      patch: 1,
      text: '14.2-RELEASE-p1',
    });
  });

  it('reads unpatched releases (no -pN) and stops after three lines', () => {
    const v = parseFreebsdVersion(
      corpusFile('versions', 'fbsd150-freebsd-version-kru-after-be-upgrade.txt').body,
    );
    assert.equal(v.userland, '15.0-RELEASE');
    assert.equal(v.release?.major, 15);
    assert.equal(v.release?.patch, undefined);
    const u = parseFreebsdVersion(
      corpusFile('versions', 'fbsd143-freebsd-version-kru-p3-p3-p4-rosemary.txt').body,
    );
    assert.equal(u.userland, '14.3-RELEASE-p4');
  });

  it('maps fewer flags in kru order, and parses STABLE/CURRENT/RC', () => {
    assert.deepEqual(parseFreebsdVersion('15.0-CURRENT\n', 'u'), {
      userland: '15.0-CURRENT',
      release: { major: 15, minor: 0, branch: 'CURRENT', text: '15.0-CURRENT' },
    });
    assert.equal(parseFreebsdVersion('14.3-STABLE\n14.3-STABLE\n', 'rk').runningKernel, '14.3-STABLE');
    assert.deepEqual(parseRelease('15.0-RC2'), {
      major: 15,
      minor: 0,
      branch: 'RC',
      candidate: 2,
      text: '15.0-RC2',
    });
    assert.equal(parseRelease('garbage'), undefined);
    assert.deepEqual(parseFreebsdVersion(''), {});
  });
});

describe('parseUname', () => {
  it('reads a 14.x uname -a with its source branch and kernel config', () => {
    const u = parseUname(corpusFile('versions', 'fbsd143-uname-a-amd64-edsonbrandi.txt').body);
    assert.ok(u);
    assert.equal(u.sysname, 'FreeBSD');
    assert.equal(u.hostname, 'freebsd.edsonbrandi.com');
    assert.equal(u.release, '14.3-RELEASE');
    assert.equal(u.version, 'FreeBSD 14.3-RELEASE releng/14.3-n271432-8c9ce319fef7 GENERIC');
    assert.equal(u.machine, 'amd64');
    assert.equal(u.kernelConfig, 'GENERIC');
    assert.equal(u.sourceBranch, 'releng/14.3');
  });

  it('finds the line among other text, in backticks, on arm64', () => {
    assert.equal(parseUname(corpusFile('versions', 'fbsd143-uname-a-arm64.txt').body)?.machine, 'arm64');
    const nexus = parseUname(corpusFile('versions', 'fbsd143-uname-a-nexus-n95-benchmark-header.txt').body);
    assert.equal(nexus?.hostname, 'nexus');
    const fx = parseUname(corpusFile('versions', 'fbsd150-uname-a-amd64-bdw-fx15.txt').body);
    assert.equal(fx?.hostname, 'bdw-fx15-x64z');
    assert.equal(fx?.machine, 'amd64');
    assert.equal(fx?.parsedRelease?.major, 15);
  });

  it('reads the old kernel build-path form and a partial line without machine', () => {
    const old = parseUname(corpusFile('versions', 'iohyve-issue287-uname-a-11.0-p9.txt').body);
    assert.equal(old?.release, '11.0-RELEASE-p9');
    assert.equal(old?.parsedRelease?.patch, 9);
    assert.equal(old?.machine, 'amd64');
    assert.equal(old?.kernelConfig, 'GENERIC');
    assert.match(old?.version ?? '', /^FreeBSD 11\.0-RELEASE-p9 #0: Tue Apr 11/);
    const partial = parseUname(corpusFile('versions', 'cbsd-issue760-uname-14.0-p5.txt').body);
    assert.equal(partial?.hostname, 'nas.nx-gen.org');
    assert.equal(partial?.release, '14.0-RELEASE-p5');
    assert.equal(partial?.machine, undefined);
  });

  it('reads uname -r alone, and gives undefined for no release', () => {
    assert.deepEqual(parseUname('14.3-RELEASE-p4\n')?.parsedRelease?.patch, 4);
    assert.equal(parseUname('Linux box 6.1.0 #1 SMP x86_64'), undefined);
  });
});

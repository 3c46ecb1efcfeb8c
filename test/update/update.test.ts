import assert from 'node:assert/strict';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/corpus.js';
import { cli, example, setCommand, tempDir, writeSnapshot } from '../helpers/snap.js';
import { gitIn } from '../make/repos.js';

const SRC = '/usr/local/bhyve-gpu/src';
const MANIFEST = '/var/db/bhyve-gpu/installed.json';
const TREE_15 = join(REPO_ROOT, 'test/fixtures/trees/15.0-amd64-makefile-inc');

function put(root: string, path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content, { mode });
}

/**
 * A bare remote shaped like git.FreeBSD.org: releng/15.0 from the project's 15.0 tree fixture, and
 * releng/15.1 whose pci_passthru.h no longer declares the passthru quirk framework (the recorded quirk
 * cannot apply there).
 */
function makeTreeRemote(dir: string): { url: string; advance: () => string } {
  const work = join(dir, 'work');
  const bare = join(dir, 'remote.git');
  mkdirSync(work, { recursive: true });
  gitIn(work, 'init', '--quiet');
  writeFileSync(join(work, 'README'), 'FreeBSD source (test remote)\n');
  gitIn(work, 'add', '-A');
  gitIn(work, 'commit', '--quiet', '-m', 'base');
  gitIn(work, 'checkout', '--quiet', '-b', 'releng/15.0');
  cpSync(TREE_15, work, { recursive: true });
  put(work, 'usr.sbin/bhyve/pci_passthru.c', '/* pci_passthru.c, 15.0-RELEASE-p1 */\n');
  gitIn(work, 'add', '-A');
  gitIn(work, 'commit', '--quiet', '-m', '15.0-RELEASE-p1');
  gitIn(work, 'checkout', '--quiet', '-b', 'releng/15.1');
  const header = join(work, 'usr.sbin/bhyve/pci_passthru.h');
  writeFileSync(header, readFileSync(header, 'utf8').replace(/^#define PASSTHRU_DEV_SET.*\n/m, ''));
  const newvers = join(work, 'sys/conf/newvers.sh');
  writeFileSync(newvers, readFileSync(newvers, 'utf8').replace(/REVISION="15\.0"/, 'REVISION="15.1"'));
  gitIn(work, 'commit', '--quiet', '-am', '15.1-RELEASE: the quirk framework was reworked');
  gitIn(dir, 'clone', '--quiet', '--bare', work, bare);
  return {
    url: `file://${bare}`,
    advance: () => {
      gitIn(work, 'checkout', '--quiet', 'releng/15.0');
      writeFileSync(join(work, 'usr.sbin/bhyve/pci_passthru.c'), '/* pci_passthru.c, 15.0-RELEASE-p2 */\n');
      gitIn(work, 'commit', '--quiet', '-am', '15.0-RELEASE-p2');
      gitIn(work, 'push', '--quiet', bare, 'releng/15.0');
      return gitIn(work, 'rev-parse', 'HEAD').trim();
    },
  };
}

/**
 * Stand-ins for the FreeBSD-only tools, on PATH ahead of the real ones: freebsd-version prints the three
 * lines of `freebsd-version -kru`; make answers `-V .OBJDIR` (bmake without an obj tree: the directory
 * itself) and "builds" bhyve by printing cc lines and writing the sources it was built from.
 */
function fakeTools(bin: string): (version: string) => void {
  mkdirSync(bin, { recursive: true });
  const script = (name: string, text: string) => {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  };
  script(
    'make',
    `#!/bin/sh
dir=$(pwd)
while [ $# -gt 0 ]; do
  case "$1" in
    -C) dir=$2; shift 2 ;;
    -V) if [ "$2" = .OBJDIR ]; then echo "$dir"; exit 0; fi; shift 2 ;;
    *) shift ;;
  esac
done
cd "$dir" || exit 2
for f in *.c; do echo "cc -O2 -pipe -fstack-protector-strong -c $f -o \${f%.c}.o"; done
echo "cc -O2 -pipe -o bhyve *.o -lvmmapi -lmd -lutil"
cat *.c > bhyve
`,
  );
  return (version: string) =>
    script('freebsd-version', `#!/bin/sh\nprintf '%s\\n%s\\n%s\\n' ${version} ${version} ${version}\n`);
}

let dir: string;
before(() => {
  dir = tempDir('bhyve-gpu-update-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('bhyve-gpu update', () => {
  it('after freebsd-update: --check says so, --dry-run plans, --yes refetches, re-patches, rebuilds, reinstalls', () => {
    const root = join(dir, 'root');
    mkdirSync(root);
    const remote = makeTreeRemote(join(dir, 'remote'));
    const setVersion = fakeTools(join(dir, 'bin'));
    const env = { PATH: `${join(dir, 'bin')}:${process.env.PATH}` };
    const run = (...args: string[]) => cli(['--root', root, ...args], { env });
    const stateBefore = existsSync('/var/db/bhyve-gpu') ? readdirSync('/var/db/bhyve-gpu') : undefined;

    // The first install, by hand, on 15.0-RELEASE-p1.
    setVersion('15.0-RELEASE-p1');
    put(root, '/usr/sbin/bhyve', 'stock bhyve 15.0-RELEASE-p1\n', 0o555);
    for (const step of [
      ['source', '--repo', remote.url, '--json'],
      ['patch', '--src', SRC],
      ['build', '--src', SRC, '--jobs', '1'],
      ['install', '--src', SRC, '--yes'],
    ]) {
      const r = run(...step);
      assert.equal(r.status, 0, `${step.join(' ')}: ${r.stderr}`);
    }
    const first = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8'));
    assert.equal(first.userland, '15.0-RELEASE-p1');
    assert.match(readFileSync(join(root, '/usr/sbin/bhyve'), 'utf8'), /PCIR_INTPIN/);
    const current = run('update', '--check');
    assert.equal(current.status, 0, current.stdout + current.stderr);
    assert.match(current.stdout, /the patched bhyve is current/);

    // freebsd-update: the stock bhyve is back and the userland is at p2; the branch moved on.
    setVersion('15.0-RELEASE-p2');
    put(root, '/usr/sbin/bhyve', 'stock bhyve 15.0-RELEASE-p2\n', 0o555);
    const newCommit = remote.advance();

    const pending = run('update', '--check');
    assert.equal(pending.status, 3, pending.stderr);
    assert.match(pending.stdout, /\/usr\/sbin\/bhyve was overwritten/);
    assert.match(pending.stdout, /built for 15\.0-RELEASE-p1; the host's userland is 15\.0-RELEASE-p2/);
    const pendingJson = JSON.parse(run('update', '--check', '--json').stdout);
    assert.equal(pendingJson.pending, true);
    assert.deepEqual(pendingJson.commands, [['bhyve-gpu', 'update', '--yes']]);

    const plan = run('update', '--dry-run');
    assert.equal(plan.status, 0, plan.stderr);
    assert.match(
      plan.stdout,
      /1\. source +fetch releng\/15\.0 of file:\/\/\S+ into \/usr\/local\/bhyve-gpu\/src/,
    );
    assert.match(plan.stdout, /2\. patch +re-apply the recorded quirks: intpin/);
    assert.match(plan.stdout, /3\. build/);
    assert.match(plan.stdout, /4\. install install \/usr\/sbin\/bhyve/);
    assert.match(plan.stdout, /then: restart each guest \(vm restart NAME\)/);
    assert.match(readFileSync(join(root, '/usr/sbin/bhyve'), 'utf8'), /stock bhyve 15\.0-RELEASE-p2/);

    const updated = run('update', '--yes', '--jobs', '1');
    assert.equal(updated.status, 0, updated.stderr);
    assert.match(updated.stdout, /journal entry (\S+) \(undo: bhyve-gpu rollback \1\)/);
    assert.match(updated.stdout, /next: restart each guest/);
    const bhyve = readFileSync(join(root, '/usr/sbin/bhyve'), 'utf8');
    assert.match(bhyve, /15\.0-RELEASE-p2/, 'built from the new commit');
    assert.match(bhyve, /PCIR_INTPIN/, 'with the recorded quirk');
    const manifest = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8'));
    assert.equal(manifest.source.commit, newCommit);
    assert.equal(manifest.source.branch, 'releng/15.0');
    assert.equal(manifest.userland, '15.0-RELEASE-p2');
    assert.deepEqual(manifest.quirks, ['intpin']);
    const logs = readdirSync(join(root, '/var/db/bhyve-gpu')).filter((n) => n.startsWith('build-'));
    assert.equal(logs.length, 2, 'both build logs are in the state directory below --root');
    assert.equal(run('update', '--check').status, 0);
    assert.match(run('update', '--yes').stdout, /is current \(.*\): nothing to update/);

    // A new minor release where the quirk no longer applies: refused, installed files as they were.
    setVersion('15.1-RELEASE');
    put(root, '/usr/sbin/bhyve', 'stock bhyve 15.1-RELEASE\n', 0o555);
    const manifestBefore = readFileSync(join(root, MANIFEST), 'utf8');
    const journalBefore = readdirSync(join(root, '/var/db/bhyve-gpu/journal'));
    const refused = run('update', '--yes', '--jobs', '1');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /the recorded quirks \(intpin\) no longer apply to releng\/15\.1/);
    assert.match(refused.stderr, /installed files are as they were/);
    assert.equal(readFileSync(join(root, '/usr/sbin/bhyve'), 'utf8'), 'stock bhyve 15.1-RELEASE\n');
    assert.equal(readFileSync(join(root, MANIFEST), 'utf8'), manifestBefore);
    assert.deepEqual(readdirSync(join(root, '/var/db/bhyve-gpu/journal')), journalBefore);

    // Nothing outside --root was touched.
    assert.equal(existsSync(SRC), false);
    const stateAfter = existsSync('/var/db/bhyve-gpu') ? readdirSync('/var/db/bhyve-gpu') : undefined;
    assert.deepEqual(stateAfter, stateBefore);
  });

  it('on a snapshot with a --root overlay: an overwritten install plans, a current one checks 0', () => {
    const root = tempDir();
    // A manifest from before quirk profiles: the INTPIN patch means ["intpin"].
    const manifest = {
      format: 'bhyve-gpu-install',
      version: 1,
      installedAt: '2026-10-01T10:00:00.000Z',
      source: { repo: 'https://git.FreeBSD.org/src.git', branch: 'releng/15.0', commit: 'c'.repeat(40) },
      patches: [{ name: 'intpin-quirk', sha256: 'f'.repeat(64) }],
      files: [{ path: '/usr/sbin/bhyve', sha256: 'a'.repeat(64) }],
      userland: '15.0-RELEASE-p2',
    };
    put(root, MANIFEST, JSON.stringify(manifest));
    const overwritten = writeSnapshot(example('tesla-p4-15.0'));
    const check = cli(['--host', overwritten, '--root', root, 'update', '--check']);
    assert.equal(check.status, 3);
    assert.match(check.stdout, /\/usr\/sbin\/bhyve was overwritten/);
    const plan = cli(['--host', overwritten, '--root', root, 'update', '--json']);
    assert.equal(plan.status, 0, plan.stderr);
    const doc = JSON.parse(plan.stdout);
    assert.deepEqual(
      doc.steps.map((s: { step: string }) => s.step),
      ['source', 'patch', 'build', 'install'],
    );
    assert.deepEqual(doc.quirks, ['intpin']);
    assert.equal(doc.source.branch, 'releng/15.0');
    const yes = cli(['--host', overwritten, '--root', root, 'update', '--yes']);
    assert.equal(yes.status, 2);
    assert.match(yes.stderr, /a snapshot can show the plan only/);

    const current = writeSnapshot(
      setCommand(example('tesla-p4-15.0'), ['sha256', '-q', '/usr/sbin/bhyve'], `${'a'.repeat(64)}\n`),
    );
    const ok = cli(['--host', current, '--root', root, 'update', '--check']);
    assert.equal(ok.status, 0, ok.stdout);
    assert.match(ok.stdout, /current/);

    // No install at all: nothing to update, exit 0 (the periodic script stays quiet).
    const none = cli(['--host', 'examples/hosts/tesla-p4-15.0.json', 'update', '--check']);
    assert.equal(none.status, 0);
    assert.match(none.stdout, /nothing to update/);
  });

  it('a nvidia-wip install moves to the same flavor; a 14.3 guess is flagged before anything is fetched', () => {
    const root = tempDir();
    const manifest = {
      format: 'bhyve-gpu-install',
      version: 1,
      installedAt: '2026-10-01T10:00:00.000Z',
      source: {
        repo: 'https://github.com/Beckhoff/freebsd-src.git',
        branch: 'phab/corvink/14.2/nvidia-wip',
        commit: 'c'.repeat(40),
      },
      patches: [{ name: 'intpin-quirk', sha256: 'f'.repeat(64) }],
      quirks: ['intpin'],
      files: [{ path: '/usr/sbin/bhyve', sha256: 'a'.repeat(64) }],
      userland: '14.2-RELEASE-p3',
    };
    put(root, MANIFEST, JSON.stringify(manifest));
    const r = cli(['--host', 'examples/hosts/rtx2080ti-14.3.json', '--root', root, 'update', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.source.branch, 'phab/corvink/14.3/nvidia-wip');
    assert.equal(doc.source.flavor, 'nvidia-wip');
    assert.match(doc.problems.join('\n'), /is a guess/);
    const pinned = cli([
      '--host',
      'examples/hosts/rtx2080ti-14.3.json',
      '--root',
      root,
      'update',
      '--branch',
      'phab/corvink/14.2/nvidia-wip',
      '--json',
    ]);
    assert.equal(JSON.parse(pinned.stdout).source.branch, 'phab/corvink/14.2/nvidia-wip');
  });

  it('a malformed manifest is an error naming the file; the command line parses as advised', async () => {
    const root = tempDir();
    put(root, MANIFEST, '{"format": "bhyve-gpu-install", "files": 3}');
    const r = cli(['--host', 'examples/hosts/tesla-p4-15.0.json', '--root', root, 'update', '--check']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\/var\/db\/bhyve-gpu\/installed\.json: field "files"/);
    const { parseArgv } = await import('../../src/cli/main.js');
    assert.deepEqual(await parseArgv(['bhyve-gpu', 'update', '--yes']), { ok: true });
  });
});

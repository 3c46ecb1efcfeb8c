import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, commandOut, example, setCommand, tempDir, writeSnapshot } from '../helpers/snap.js';

const SRC = '/usr/local/bhyve-gpu/src';
const OBJ = `/usr/obj${SRC}/amd64.amd64/usr.sbin/bhyve`;

function put(root: string, path: string, content: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content, { mode });
}
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** A FreeBSD host after `bhyve-gpu build`: the build record, the bmake objdir answer, the built binary. */
function built() {
  const root = tempDir();
  const snap = example('tesla-p4-15.0');
  setCommand(snap, ['make', '-C', `${SRC}/usr.sbin/bhyve`, '-V', '.OBJDIR'], `${OBJ}\n`);
  put(root, '/usr/sbin/bhyve', 'stock bhyve\n', 0o555);
  put(root, `${OBJ}/bhyve`, 'patched bhyve\n', 0o755);
  put(
    root,
    `${SRC}/.bhyve-gpu/build-record.json`,
    JSON.stringify({
      src: SRC,
      steps: [{ name: 'bhyve', dir: 'usr.sbin/bhyve', argv: ['make', '-j8'], installs: ['/usr/sbin/bhyve'] }],
      installs: ['/usr/sbin/bhyve'],
      logFile: '/tmp/x.log',
      finishedAt: '2026-11-26T10:00:00Z',
    }),
  );
  put(
    root,
    `${SRC}/.bhyve-gpu/patch-record.json`,
    JSON.stringify({ patch: 'intpin', patchSha256: 'f'.repeat(64), files: [] }),
  );
  put(
    root,
    `${SRC}/.bhyve-gpu/source.json`,
    JSON.stringify({
      repo: 'https://git.FreeBSD.org/src.git',
      branch: 'releng/15.0',
      commit: 'c'.repeat(40),
      fetchedAt: '2026-11-26T09:00:00Z',
    }),
  );
  return { root, snap };
}

describe('install', () => {
  it('plans, installs with a backup and a manifest, doctor then sees the patched bhyve, rollback restores', () => {
    const { root, snap } = built();
    const host = writeSnapshot(snap);
    const base = ['--host', host, '--root', root, '--src', SRC];
    const plan = cli(['install', ...base, '--json']);
    assert.equal(plan.status, 0, plan.stderr);
    const steps = JSON.parse(plan.stdout).plan.steps;
    assert.deepEqual(
      steps.map((s: { kind: string; path: string }) => `${s.kind} ${s.path}`),
      ['file-install /usr/sbin/bhyve', 'file-edit /var/db/bhyve-gpu/installed.json'],
    );
    assert.equal(
      readFileSync(join(root, '/usr/sbin/bhyve'), 'utf8'),
      'stock bhyve\n',
      'the dry run changed nothing',
    );

    const r = cli(['install', ...base, '--yes']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(root, '/usr/sbin/bhyve'), 'utf8'), 'patched bhyve\n');
    assert.equal(
      statSync(join(root, '/usr/sbin/bhyve')).mode & 0o777,
      0o555,
      'the installed file keeps its mode',
    );
    const again = cli(['install', ...base, '--check']);
    assert.equal(again.status, 0, 'installing the same build again changes nothing');
    assert.match(again.stdout, /already in the desired state/);
    const manifest = JSON.parse(readFileSync(join(root, '/var/db/bhyve-gpu/installed.json'), 'utf8'));
    assert.deepEqual(manifest.files, [{ path: '/usr/sbin/bhyve', sha256: sha('patched bhyve\n') }]);
    assert.equal(manifest.source.commit, 'c'.repeat(40));
    assert.equal(manifest.patches[0].name, 'intpin-quirk');
    assert.equal(manifest.userland, '15.0-RELEASE-p2');

    // doctor on the host as it now is: sha256 of the installed bhyve matches the manifest.
    const after = setCommand(
      example('tesla-p4-15.0'),
      ['sha256', '-q', '/usr/sbin/bhyve'],
      `${sha('patched bhyve\n')}\n`,
    );
    const d = JSON.parse(cli(['doctor', '--host', writeSnapshot(after), '--root', root, '--json']).stdout);
    const check = (id: string) => d.checks.find((c: { id: string }) => c.id === id).status;
    assert.equal(check('host.bhyve'), 'PASS');
    assert.equal(check('gpu.1/0/0.interrupts'), 'PASS');

    const rb = cli(['rollback', '--yes', '--host', host, '--root', root]);
    assert.equal(rb.status, 0, rb.stderr);
    assert.equal(readFileSync(join(root, '/usr/sbin/bhyve'), 'utf8'), 'stock bhyve\n');
  });

  it('without a build record: a clear error and a hint', () => {
    const root = tempDir();
    const r = cli(['install', '--host', 'examples/hosts/tesla-p4-15.0.json', '--root', root, '--src', SRC]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no build record/);
    assert.match(r.stderr, /hint: run bhyve-gpu build/);
    assert.equal(commandOut(example('tesla-p4-15.0'), ['uname', '-a']).includes('15.0'), true);
  });
});

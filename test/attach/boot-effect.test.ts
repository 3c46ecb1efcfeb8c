import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, example, setCommand, tempDir, writeSnapshot } from '../helpers/snap.js';

// What --json tells a program driving the CLI (the Ansible modules) about pptdevs and reboots, and what
// scan --json says about the installed bhyve's quirks.
const RTX = 'examples/hosts/rtx2080ti-14.3.json';
const P4 = 'examples/hosts/tesla-p4-15.0.json';

interface PlanDoc {
  plan: { pptdevs?: { before: string[]; after: string[]; changed: boolean }; rebootRequired?: boolean };
}
function planOf(args: string[]): PlanDoc['plan'] {
  const r = cli([...args, '--json']);
  assert.ok(r.status === 0 || r.status === 3, r.stderr);
  return (JSON.parse(r.stdout) as PlanDoc).plan;
}
function put(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

describe('attach/detach --json: pptdevs before/after and rebootRequired', () => {
  it('a GPU already reserved and on ppt: pptdevs unchanged, no reboot', () => {
    const p = planOf(['attach', '10de:1bb3', '--vm', 'xdev', '--host', P4]);
    assert.deepEqual(p.pptdevs, { before: ['1/0/0'], after: ['1/0/0'], changed: false });
    assert.equal(p.rebootRequired, false);
  });

  it('reserving a GPU on its host driver needs a reboot, unless --now binds it to ppt', () => {
    const args = ['attach', '2/0/0', '--remove-stale', '--host', RTX];
    const p = planOf([...args, '--check']);
    assert.deepEqual(p.pptdevs, {
      before: ['3/0/0'],
      after: ['2/0/0', '2/0/1', '2/0/2', '2/0/3'],
      changed: true,
    });
    assert.equal(p.rebootRequired, true);
    assert.equal(planOf([...args, '--now', '--dry-run']).rebootRequired, false);
  });

  it('--now does not help while vmm.ko is not loaded', () => {
    const snap = example('rtx2080ti-14.3');
    const kldstat = snap.commands.find((c) => c.argv[0] === 'kldstat');
    assert.ok(kldstat);
    setCommand(snap, ['kldstat'], kldstat.stdout.replace(/^.*vmm\.ko.*\n/m, ''));
    const p = planOf(['attach', '2/0/0', '--remove-stale', '--now', '--host', writeSnapshot(snap)]);
    assert.equal(p.pptdevs?.changed, true);
    assert.equal(p.rebootRequired, true);
  });

  it('detach: the GPU stays on ppt until the reboot (or --now)', () => {
    const p = planOf(['detach', '1/0/0', '--vm', 'xdev', '--host', P4]);
    assert.deepEqual(p.pptdevs, { before: ['1/0/0'], after: [], changed: true });
    assert.equal(p.rebootRequired, true);
    assert.equal(planOf(['detach', '1/0/0', '--now', '--host', P4]).rebootRequired, false);
  });

  it('a noop attach under --root after --yes reports no change and no reboot', () => {
    const root = tempDir();
    const base = ['attach', '2/0/0', '--remove-stale', '--host', RTX, '--root', root];
    const applied = cli([...base, '--yes', '--json']);
    assert.equal(applied.status, 0, applied.stderr);
    const doc = JSON.parse(applied.stdout);
    assert.equal(doc.result, 'applied');
    assert.equal(doc.plan.rebootRequired, true);
    assert.match(doc.journal, /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$/);
    const again = planOf([...base, '--yes']);
    assert.deepEqual(again.pptdevs?.before, ['2/0/0', '2/0/1', '2/0/2', '2/0/3']);
    assert.equal(again.pptdevs?.changed, false);
    assert.equal(again.rebootRequired, false);
  });
});

describe('scan --json: the installed bhyve', () => {
  const manifest = (extra: Record<string, unknown>) =>
    JSON.stringify({
      format: 'bhyve-gpu-install',
      version: 1,
      installedAt: '2026-11-26T10:00:00.000Z',
      source: { repo: 'https://git.FreeBSD.org/src.git', branch: 'releng/15.0', commit: 'c'.repeat(40) },
      patches: [{ name: 'intpin-quirk', sha256: 'f'.repeat(64) }],
      files: [{ path: '/usr/sbin/bhyve', sha256: 'a'.repeat(64) }],
      userland: '15.0-RELEASE-p2',
      ...extra,
    });
  const bhyveOf = (root: string) => {
    const r = cli(['scan', '--host', P4, '--root', root, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).host.bhyve;
  };

  it('stock: no quirks, no install record', () => {
    const b = bhyveOf(tempDir());
    assert.equal(b.state, 'stock');
    assert.deepEqual(b.quirks, []);
    assert.equal(b.installed, undefined);
  });

  it('a manifest without a quirk list whose patches name the INTPIN quirk reads as ["intpin"]', () => {
    const root = tempDir();
    put(root, '/var/db/bhyve-gpu/installed.json', manifest({}));
    const b = bhyveOf(root);
    // The recorded files do not match the snapshot's /usr/sbin/bhyve: overwritten, so no quirk is in
    // effect, while the install record still says what was installed.
    assert.equal(b.state, 'overwritten');
    assert.deepEqual(b.quirks, []);
    assert.deepEqual(b.installed.quirks, ['intpin']);
    assert.equal(b.installed.source.branch, 'releng/15.0');
    assert.equal(b.installed.userland, '15.0-RELEASE-p2');
  });

  it('a quirk list is passed through in its order', () => {
    const root = tempDir();
    put(root, '/var/db/bhyve-gpu/installed.json', manifest({ quirks: ['intpin', 'mmio64=256G'] }));
    assert.deepEqual(bhyveOf(root).installed.quirks, ['intpin', 'mmio64=256G']);
  });
});

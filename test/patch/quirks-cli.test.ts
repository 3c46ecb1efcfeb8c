import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseArgv } from '../../src/cli/main.js';
import { cli, commandOut, example, setCommand, tempDir, writeSnapshot } from '../helpers/snap.js';
import { copyTree, dropTree } from './trees.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) dropTree(d);
});
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
function put(root: string, path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content, { mode });
}

describe('patch --quirk through the CLI, then build and install', () => {
  it('--json reports each quirk; a hide-hypervisor tree plans vmm.ko in build --dry-run', () => {
    const src = copyTree('quirks-14.3-no-handler');
    dirs.push(src);
    const r = cli(['patch', '--src', src, '--quirk', 'hide-hypervisor,nvidia-mirror', '--partial', '--json']);
    assert.equal(r.status, 4, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(
      doc.quirks.map((q: { name: string; result: string }) => [q.name, q.result]),
      [
        ['hide-hypervisor', 'applied'],
        ['nvidia-mirror', 'refused'],
      ],
    );
    assert.match(doc.quirks[1].reason, /no BAR handler API/);
    assert.deepEqual(doc.files, [{ path: 'sys/amd64/vmm/x86.c', status: 'modified' }]);
    const b = cli(['build', '--src', src, '--dry-run', '--json']);
    assert.equal(b.status, 0, b.stderr);
    const plan = JSON.parse(b.stdout);
    const vmm = plan.steps.find((s: { dir: string }) => s.dir === 'sys/modules/vmm');
    assert.ok(vmm, JSON.stringify(plan.steps));
    assert.deepEqual(vmm.installs, ['/boot/kernel/vmm.ko']);
    const human = cli(['patch', '--src', src, '--quirk', 'hide-hypervisor']);
    assert.equal(human.status, 0);
    assert.match(human.stdout, /already applied/);
    assert.match(human.stderr, /quirk hide-hypervisor: already-applied/);
    assert.equal(cli(['patch', '--src', src, '--quirk', 'mmio64=48G']).status, 2);
    assert.equal(cli(['patch', '--src', src, '--quirk', 'intpin', '--patch', 'x.diff']).status, 2);
  });

  it('install --root puts vmm.ko in place with a backup, journal and manifest entry, and records the quirks', () => {
    const SRC = '/usr/local/bhyve-gpu/src';
    const objBhyve = `/usr/obj${SRC}/amd64.amd64/usr.sbin/bhyve`;
    const objVmm = `/usr/obj${SRC}/amd64.amd64/sys/modules/vmm`;
    const root = tempDir();
    const snap = example('tesla-p4-15.0');
    setCommand(snap, ['make', '-C', `${SRC}/usr.sbin/bhyve`, '-V', '.OBJDIR'], `${objBhyve}\n`);
    setCommand(snap, ['make', '-C', `${SRC}/sys/modules/vmm`, '-V', '.OBJDIR'], `${objVmm}\n`);
    put(root, '/usr/sbin/bhyve', 'stock bhyve\n', 0o555);
    put(root, '/boot/kernel/vmm.ko', 'stock vmm.ko\n', 0o555);
    put(root, `${objBhyve}/bhyve`, 'patched bhyve\n', 0o755);
    put(root, `${objVmm}/vmm.ko`, 'patched vmm.ko\n', 0o755);
    put(
      root,
      `${SRC}/.bhyve-gpu/build-record.json`,
      JSON.stringify({
        src: SRC,
        steps: [
          {
            name: 'vmm.ko',
            dir: 'sys/modules/vmm',
            argv: ['make', '-j8'],
            installs: ['/boot/kernel/vmm.ko'],
          },
          { name: 'bhyve', dir: 'usr.sbin/bhyve', argv: ['make', '-j8'], installs: ['/usr/sbin/bhyve'] },
        ],
        installs: ['/boot/kernel/vmm.ko', '/usr/sbin/bhyve'],
        logFile: '/tmp/x.log',
        finishedAt: '2026-11-26T10:00:00Z',
      }),
    );
    const quirks = ['intpin', 'hide-hypervisor', 'mmio64=256G'];
    put(
      root,
      `${SRC}/.bhyve-gpu/patch-record.json`,
      JSON.stringify({ patch: quirks.join(','), patchSha256: 'f'.repeat(64), files: [], quirks }),
    );
    const host = writeSnapshot(snap);
    const r = cli(['install', '--host', host, '--root', root, '--src', SRC, '--yes']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(root, '/boot/kernel/vmm.ko'), 'utf8'), 'patched vmm.ko\n');
    assert.match(r.stdout + r.stderr, /vmm\.ko replaced: .*reboot/);
    assert.match(r.stdout + r.stderr, /sysctl hw\.vmm\.hide_hypervisor=1/);
    const manifest = JSON.parse(readFileSync(join(root, '/var/db/bhyve-gpu/installed.json'), 'utf8'));
    assert.deepEqual(manifest.quirks, quirks);
    assert.deepEqual(
      manifest.files.map((f: { path: string }) => f.path),
      ['/boot/kernel/vmm.ko', '/usr/sbin/bhyve'],
    );
    assert.equal(manifest.files[0].sha256, sha('patched vmm.ko\n'));
    const journal = cli(['journal', '--host', host, '--root', root, '--json']);
    assert.match(journal.stdout, /\/boot\/kernel\/vmm\.ko/);
    const rb = cli(['rollback', '--yes', '--host', host, '--root', root]);
    assert.equal(rb.status, 0, rb.stderr);
    assert.equal(readFileSync(join(root, '/boot/kernel/vmm.ko'), 'utf8'), 'stock vmm.ko\n');
  });
});

/** The P4 host with a 128 GiB BAR1 and an install manifest carrying `quirks`. */
function bigBarHost(quirks: string[], hide?: string) {
  const root = tempDir();
  const snap = example('tesla-p4-15.0');
  const pci = commandOut(snap, ['pciconf', '-lbcv']).replace(
    /(base 0x6000000000, size )268435456/,
    `$1${128 * 1024 ** 3}`,
  );
  setCommand(snap, ['pciconf', '-lbcv'], pci);
  setCommand(snap, ['sha256', '-q', '/usr/sbin/bhyve'], `${sha('patched bhyve\n')}\n`);
  if (hide !== undefined) {
    const vmm = commandOut(snap, ['sysctl', 'hw.vmm']);
    setCommand(snap, ['sysctl', 'hw.vmm'], `${vmm.trimEnd()}\nhw.vmm.hide_hypervisor: ${hide}\n`);
  }
  put(
    root,
    '/var/db/bhyve-gpu/installed.json',
    JSON.stringify({
      format: 'bhyve-gpu-install',
      version: 1,
      installedAt: '2026-11-26T10:00:00Z',
      source: {},
      patches: [{ name: quirks.join(','), sha256: 'f'.repeat(64) }],
      files: [{ path: '/usr/sbin/bhyve', sha256: sha('patched bhyve\n') }],
      quirks,
    }),
  );
  return { host: writeSnapshot(snap), root };
}

describe('doctor knows the installed quirks', () => {
  it('a manifest with mmio64=256G passes a 128 GiB BAR; host.bhyve lists the quirks and the tunable', () => {
    const { host, root } = bigBarHost(['intpin', 'nvidia-mirror', 'hide-hypervisor', 'mmio64=256G'], '1');
    const d = JSON.parse(cli(['doctor', '--host', host, '--root', root, '--json']).stdout);
    const check = (id: string) => d.checks.find((c: { id: string }) => c.id === id);
    assert.equal(check('gpu.1/0/0.mmio').status, 'PASS', JSON.stringify(check('gpu.1/0/0.mmio')));
    assert.ok(check('gpu.1/0/0.mmio').evidence.some((e: string) => /mmio64=256G/.test(e)));
    assert.equal(check('gpu.1/0/0.interrupts').status, 'PASS');
    assert.ok(check('gpu.1/0/0.interrupts').evidence.some((e: string) => /config-space mirror/.test(e)));
    const bhyve = check('host.bhyve');
    assert.ok(bhyve.evidence.includes('quirks: intpin, nvidia-mirror, hide-hypervisor, mmio64=256G'));
    assert.ok(bhyve.evidence.some((e: string) => /hw\.vmm\.hide_hypervisor: 1 \(hypervisor hidden/.test(e)));
  });

  it('without mmio64 the same BAR fails, with the patch/build/install commands', async () => {
    const { host, root } = bigBarHost(['intpin']);
    const d = JSON.parse(cli(['doctor', '--host', host, '--root', root, '--json']).stdout);
    const mmio = d.checks.find((c: { id: string }) => c.id === 'gpu.1/0/0.mmio');
    assert.equal(mmio.status, 'FAIL');
    assert.deepEqual(mmio.commands[0], [
      'bhyve-gpu',
      'patch',
      '--src',
      '/usr/local/bhyve-gpu/src',
      '--quirk',
      'intpin,mmio64=128G',
    ]);
    assert.deepEqual(mmio.commands[2], [
      'bhyve-gpu',
      'install',
      '--src',
      '/usr/local/bhyve-gpu/src',
      '--yes',
    ]);
    for (const argv of mmio.commands as string[][])
      assert.deepEqual(await parseArgv(argv), { ok: true }, argv.join(' '));
  });
});

describe('attach and the mmio64 quirk', () => {
  function p4WithBigBar(quirks: string[]) {
    const snap = example('tesla-p4-15.0');
    const pci = commandOut(snap, ['pciconf', '-lbcv']).replace(
      /(base 0x6000000000, size )268435456/,
      `$1${128 * 1024 ** 3}`,
    );
    setCommand(snap, ['pciconf', '-lbcv'], pci);
    setCommand(snap, ['sha256', '-q', '/usr/sbin/bhyve'], `${sha('patched bhyve\n')}\n`);
    const manifest = '/var/db/bhyve-gpu/installed.json';
    (snap.files as Record<string, string>)[manifest] = JSON.stringify({
      format: 'bhyve-gpu-install',
      version: 1,
      installedAt: '2026-11-26T10:00:00Z',
      patches: [{ name: quirks.join(','), sha256: 'f'.repeat(64) }],
      files: [{ path: '/usr/sbin/bhyve', sha256: sha('patched bhyve\n') }],
      quirks,
    });
    const missing = (snap as unknown as { missing?: string[] }).missing;
    if (Array.isArray(missing)) missing.splice(0, missing.length, ...missing.filter((m) => m !== manifest));
    return writeSnapshot(snap);
  }

  it('sets bhyve_options -o pci.mmio64_size for a GPU that needs it when the installed bhyve has the quirk', () => {
    const r = cli([
      'attach',
      '1/0/0',
      '--vm',
      'xdev',
      '--host',
      p4WithBigBar(['intpin', 'mmio64=256G']),
      '--dry-run',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const vm = doc.plan.steps.find((s: { path?: string }) => s.path === '/zdata/vms/xdev/xdev.conf');
    assert.match(vm.after, /^bhyve_options="-o pci\.mmio64_size=128G"$/m);
  });

  it('without the quirk: no option, a note with the patch command', () => {
    const r = cli([
      'attach',
      '1/0/0',
      '--vm',
      'xdev',
      '--host',
      p4WithBigBar(['intpin']),
      '--dry-run',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const vm = doc.plan.steps.find((s: { path?: string }) => s.path === '/zdata/vms/xdev/xdev.conf');
    assert.doesNotMatch(vm?.after ?? '', /bhyve_options/);
    assert.ok(doc.plan.notes.some((n: string) => /--quirk intpin,mmio64=128G/.test(n)));
  });
});

describe('withMmio64Option', () => {
  it('replaces an earlier -o pci.mmio64_size and keeps the other bhyve options', async () => {
    const { withMmio64Option } = await import('../../src/conf/bhyve-options.js');
    const text = 'loader="uefi"\nbhyve_options="-A -o pci.mmio64_size=64G -w"\n';
    const r = withMmio64Option(text, '256G');
    assert.equal(r.changed, true);
    assert.equal(r.text, 'loader="uefi"\nbhyve_options="-A -w -o pci.mmio64_size=256G"\n');
    assert.equal(withMmio64Option(r.text, '256G').changed, false);
  });
});

describe('guest check points at the quirks for RmInitAdapter 0x31/0x23', () => {
  it('gives the patch/build/install/reboot commands, all accepted by the CLI', async () => {
    const { rmInitQuirkAdvice } = await import('../../src/patch/quirks/advice.js');
    const line = 'kern.log:17: NVRM: GPU 0000:00:06.0: RmInitAdapter failed! (0x31:0xffff:2767)';
    const advice = rmInitQuirkAdvice([line]);
    assert.ok(advice);
    assert.match(advice.fix, /VBIOS POST \(0x31\).*not established/);
    assert.deepEqual(advice.commands[0]?.slice(0, 2), ['bhyve-gpu', 'source']);
    assert.deepEqual(advice.commands[1]?.slice(-2), ['--quirk', 'intpin,nvidia-mirror,hide-hypervisor']);
    for (const argv of advice.commands.filter((a) => a[0] === 'bhyve-gpu'))
      assert.deepEqual(await parseArgv(argv), { ok: true }, argv.join(' '));
    assert.equal(rmInitQuirkAdvice(['RmInitAdapter failed! (0x11:0x45:1234)']), undefined);
  });
});

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import type { Snapshot } from '../../src/host/snapshot-format.js';
import { corpus } from '../helpers/corpus.js';
import { cli, example, tempDir, writeSnapshot } from '../helpers/snap.js';

const RTX = 'examples/hosts/rtx2080ti-14.3.json';
const P4 = 'examples/hosts/tesla-p4-15.0.json';

function put(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}
const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

describe('attach: plan, refusals, JSON', () => {
  it('refuses while a pptdevs entry points at the NIC carrying the default route, naming it', () => {
    const r = cli(['attach', '2/0/0', '--vm', 'cuda', '--host', RTX, '--dry-run', '--json']);
    assert.equal(r.status, 1);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.error.code, 'unsafe');
    assert.match(doc.error.message, /igb0/);
    assert.match(r.stderr, /refusing to attach 2\/0\/0/);
    assert.match(r.stderr, /3\/0\/0 is now igb0 \(network controller, I210 Gigabit Network Connection\)/);
    assert.match(r.stderr, /--remove-stale/);
  });

  it('a clean snapshot gives a plan whose after-text is right', async () => {
    const snap = example('rtx2080ti-14.3');
    snap.files['/boot/loader.conf'] = '# /boot/loader.conf\nautoboot_delay="3"\nzfs_load="YES"\n';
    const r = cli([
      'attach',
      '10de:1e07',
      '--vm',
      'cuda',
      '--host',
      writeSnapshot(snap),
      '--dry-run',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.schemaVersion, 1);
    const loader = doc.plan.steps.find((s: { path?: string }) => s.path === '/boot/loader.conf');
    assert.equal(loader.kind, 'file-edit');
    assert.equal(
      loader.after,
      '# /boot/loader.conf\nautoboot_delay="3"\nzfs_load="YES"\npptdevs="2/0/0 2/0/1 2/0/2 2/0/3"\nvmm_load="YES"\n',
    );
    assert.match(loader.diff, /^--- a\/boot\/loader.conf/m);
    const vm = doc.plan.steps.find((s: { path?: string }) => s.path === '/vm/cuda/cuda.conf');
    for (const f of [0, 1, 2, 3])
      assert.match(vm.after, new RegExp(`^passthru${f}="2/0/${f}=\\d+:${f}"$`, 'm'));
    assert.match(vm.after, /^wired_memory="yes"$/m);
    // The guest's bhyveload loader is kept unless asked for: a guest installed for it may not boot with UEFI.
    assert.match(vm.after, /^loader="bhyveload"$/m);
    assert.match(
      doc.plan.notes.join('\n'),
      /cuda keeps loader="bhyveload".*--set-loader-uefi.*may not boot with UEFI/,
    );
    const switched = cli([
      'attach',
      '10de:1e07',
      '--vm',
      'cuda',
      '--set-loader-uefi',
      '--host',
      writeSnapshot(snap),
      '--dry-run',
      '--json',
    ]);
    assert.equal(switched.status, 0, switched.stderr);
    const sdoc = JSON.parse(switched.stdout);
    const svm = sdoc.plan.steps.find((s: { path?: string }) => s.path === '/vm/cuda/cuda.conf');
    assert.match(svm.after, /^loader="uefi"$/m);
    assert.match(sdoc.plan.notes.join('\n'), /loader "bhyveload" changed to "uefi"/);
    const { parseArgv } = await import('../../src/cli/main.js');
    assert.deepEqual(await parseArgv(['bhyve-gpu', 'attach', '2/0/0', '--vm', 'cuda', '--set-loader-uefi']), {
      ok: true,
    });
  });

  it('refuses the console GPU and a non-GPU device; an unknown device is a usage error', () => {
    assert.equal(cli(['attach', '0/2/0', '--host', RTX, '--remove-stale']).status, 1);
    const nic = cli(['attach', '3/0/0', '--host', RTX]);
    assert.equal(nic.status, 2);
    assert.match(nic.stderr, /not a GPU/);
    assert.equal(cli(['attach', '9/0/0', '--host', RTX]).status, 2);
    assert.equal(cli(['attach', 'banana', '--host', RTX]).status, 2);
  });

  it('refuses to change a running guest', () => {
    const snap: Snapshot = example('tesla-p4-15.0');
    snap.files['/dev/vmm/xdev'] = '';
    snap.missing = snap.missing.filter((p) => p !== '/dev/vmm/');
    const r = cli(['attach', '1/0/0', '--vm', 'xdev', '--host', writeSnapshot(snap)]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is running/);
  });

  it('--check exits 3 with changes pending; a snapshot without --root is read-only', () => {
    assert.equal(cli(['attach', '1/0/0', '--vm', 'xdev', '--host', P4, '--check']).status, 3);
    const r = cli(['attach', '1/0/0', '--vm', 'xdev', '--host', P4, '--yes']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /read-only/);
  });
});

describe('attach --yes then detach --yes under --root', () => {
  it('applies, is idempotent, and detach gives back the original bytes', () => {
    const root = tempDir();
    const base = ['--host', RTX, '--root', root];
    const a = cli(['attach', '2/0/0', '--vm', 'cuda', '--remove-stale', '--yes', ...base]);
    assert.equal(a.status, 0, a.stderr);
    assert.match(read(root, '/boot/loader.conf'), /^pptdevs="2\/0\/0 2\/0\/1 2\/0\/2 2\/0\/3"$/m);
    assert.equal(cli(['attach', '2/0/0', '--vm', 'cuda', '--check', ...base]).status, 0);
    const again = cli(['attach', '2/0/0', '--vm', 'cuda', '--yes', ...base]);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /already in the desired state/);
    const d = cli(['detach', '2/0/0', '--vm', 'cuda', '--yes', ...base]);
    assert.equal(d.status, 0, d.stderr);
    const snap = example('rtx2080ti-14.3');
    // The stale 3/0/0 (the host's NIC) that attach --remove-stale dropped does not come back.
    const loader = read(root, '/boot/loader.conf');
    assert.doesNotMatch(loader, /pptdevs/);
    assert.equal(
      loader,
      `${(snap.files['/boot/loader.conf'] as string).replace('pptdevs="3/0/0"\n', '')}vmm_load="YES"\n`,
    );
    assert.equal(read(root, '/vm/cuda/cuda.conf'), snap.files['/vm/cuda/cuda.conf']);
    const j = JSON.parse(cli(['journal', '--json', '--root', root]).stdout);
    assert.equal(j.entries.length, 2);
  });

  it('attach then detach gives back the original bytes of both files', () => {
    const root = tempDir();
    const loader = '# boot settings\nautoboot_delay="3"\nzfs_load="YES"';
    put(root, '/boot/loader.conf', loader);
    const base = ['--host', P4, '--root', root];
    assert.equal(cli(['attach', '1/0/0', '--vm', 'xdev', '--yes', ...base]).status, 0);
    assert.match(read(root, '/boot/loader.conf'), /pptdevs="1\/0\/0"\nvmm_load="YES"/);
    assert.equal(cli(['detach', '1/0/0', '--vm', 'xdev', '--yes', ...base]).status, 0);
    assert.equal(read(root, '/boot/loader.conf'), loader);
    assert.equal(
      read(root, '/zdata/vms/xdev/xdev.conf'),
      example('tesla-p4-15.0').files['/zdata/vms/xdev/xdev.conf'],
    );
  });

  it('rolling back an attach --remove-stale restores the entry exactly, and warns that it is stale', () => {
    const root = tempDir();
    const base = ['--host', RTX, '--root', root];
    assert.equal(cli(['attach', '2/0/0', '--remove-stale', '--yes', ...base]).status, 0);
    const r = cli(['rollback', '--yes', ...base]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(read(root, '/boot/loader.conf'), example('rtx2080ti-14.3').files['/boot/loader.conf']);
    assert.match(r.stderr, /pptdevs entry 3\/0\/0 .* is stale again: 3\/0\/0 is now igb0/);
  });

  it('rollback undoes the attach exactly', () => {
    const root = tempDir();
    const base = ['--host', P4, '--root', root];
    assert.equal(cli(['attach', '1/0/0', '--vm', 'xdev', '--yes', ...base]).status, 0);
    assert.match(read(root, '/zdata/vms/xdev/xdev.conf'), /passthru0="1\/0\/0=6:0"/);
    const r = cli(['rollback', '--yes', ...base]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      read(root, '/zdata/vms/xdev/xdev.conf'),
      example('tesla-p4-15.0').files['/zdata/vms/xdev/xdev.conf'],
    );
  });

  it('on every real loader.conf and vm-bhyve config: untouched lines stay, detach restores the bytes', () => {
    const loaders = corpus('loader-conf');
    const vms = corpus('vm-conf');
    assert.ok(loaders.length > 5 && vms.length > 5);
    for (let i = 0; i < Math.max(loaders.length, vms.length); i++) {
      const loader = loaders[i % loaders.length]?.body ?? '';
      const vm = vms[i % vms.length]?.body ?? '';
      const root = tempDir();
      // A host whose pptdevs carry nothing stale: the GPU at 1/0/0 of the Tesla P4 host.
      put(root, '/boot/loader.conf', loader.replace(/^(\s*pptdevs[23]?=).*$/gm, '$1"1/0/0"'));
      put(root, '/zdata/vms/xdev/xdev.conf', vm.replace(/^passthru\d+=.*$/gm, ''));
      const before = { loader: read(root, '/boot/loader.conf'), vm: read(root, '/zdata/vms/xdev/xdev.conf') };
      const base = ['--host', P4, '--root', root, '--force'];
      const a = cli(['attach', '1/0/0', '--vm', 'xdev', '--yes', ...base]);
      assert.equal(a.status, 0, `${loaders[i % loaders.length]?.name}: ${a.stderr}`);
      const afterVm = read(root, '/zdata/vms/xdev/xdev.conf');
      for (const line of before.vm.split('\n'))
        if (line && !/^(passthru|wired_memory|loader)/.test(line)) assert.ok(afterVm.includes(line), line);
      const d = cli(['detach', '1/0/0', '--vm', 'xdev', '--yes', '--host', P4, '--root', root]);
      assert.equal(d.status, 0, d.stderr);
      assert.equal(read(root, '/zdata/vms/xdev/xdev.conf'), before.vm);
      if (existsSync(join(root, '/boot/loader.conf'))) {
        const now = read(root, '/boot/loader.conf');
        assert.equal(now, before.loader.includes('1/0/0') ? now : before.loader);
      }
    }
  });

  it('bad input: an unreadable pptdevs line is refused with file and line, and nothing changes', () => {
    const root = tempDir();
    const broken = 'vmm_load="YES"\npptdevs="1/0/0\nfoo=bar\n';
    put(root, '/boot/loader.conf', broken);
    const r = cli(['attach', '1/0/0', '--host', P4, '--root', root, '--yes']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: \/boot\/loader\.conf:2: /m);
    assert.equal(read(root, '/boot/loader.conf'), broken);
    assert.equal(existsSync(join(root, '/var/db/bhyve-gpu/journal')), false);
    // prose and "..." in a loader.conf are skipped by the loader, and kept byte for byte here
    put(root, '/boot/loader.conf', 'see the wiki ...\nvmm_load="YES"\n');
    assert.equal(cli(['attach', '1/0/0', '--host', P4, '--root', root, '--yes']).status, 0);
    assert.equal(read(root, '/boot/loader.conf'), 'see the wiki ...\nvmm_load="YES"\npptdevs="1/0/0"\n');
  });

  it('pptdevs over 128 characters splits into pptdevs2', () => {
    const root = tempDir();
    const ids = Array.from({ length: 21 }, (_, i) => `${10 + i}/0/0`).join(' ');
    put(root, '/boot/loader.conf', `vmm_load="YES"\npptdevs="${ids}"\n`);
    const r = cli(['attach', '1/0/0', '--host', P4, '--root', root, '--force', '--json']);
    const doc = JSON.parse(r.stdout);
    const after: string = doc.plan.steps[0].after;
    // The existing value was already past the loader's limit: it is re-split, and 1/0/0 lands in pptdevs2.
    assert.match(after, /^pptdevs2="[^"]*\b1\/0\/0"$/m);
    assert.equal(after.match(/\d+\/0\/0/g)?.length, 22);
    for (const line of after.split('\n'))
      if (line.startsWith('pptdevs')) assert.ok(line.length - line.indexOf('"') - 2 <= 128, line);
  });
});

describe('vm-args', () => {
  it('prints -S and one -s per function, and bhyve_config lines', () => {
    const r = cli(['vm-args', '10de:1e07', '--host', RTX, '--slot', '8']);
    assert.equal(
      r.stdout.trim(),
      '-S -s 8:0,passthru,2/0/0 -s 8:1,passthru,2/0/1 -s 8:2,passthru,2/0/2 -s 8:3,passthru,2/0/3',
    );
    const c = cli(['vm-args', '1/0/0', '--host', P4, '--config', '--rom', '/roms/p4.rom']);
    assert.deepEqual(c.stdout.trim().split('\n'), [
      'memory.wired=true',
      'pci.0.6.0.device=passthru',
      'pci.0.6.0.pptdev=ppt0',
      'pci.0.6.0.rom=/roms/p4.rom',
    ]);
    assert.equal(cli(['vm-args', '1/0/0', '--host', P4, '--slot', '31']).status, 2);
  });
});

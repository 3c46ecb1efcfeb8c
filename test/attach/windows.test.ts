import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { detectWindowsGuest } from '../../src/attach/windows.js';
import { parseArgv } from '../../src/cli/main.js';
import type { Snapshot } from '../../src/host/snapshot-format.js';
import { corpus } from '../helpers/corpus.js';
import { cli, example, tempDir, writeSnapshot } from '../helpers/snap.js';

/** vm-bhyve's sample-templates/windows.conf settings, as `vm create -t windows win11` copies them. */
const WINDOWS_CONF = `loader="uefi"
graphics="yes"
xhci_mouse="yes"
cpu=8
memory=16G

# put up to 8 disks on a single ahci controller.
ahci_device_limit="8"

network0_type="e1000"
network0_switch="public"

disk0_type="ahci-hd"
disk0_name="disk0.img"

# windows expects the host to expose localtime by default, not UTC
utctime="no"
uuid="5d2e1f70-93b2-11f0-9e1b-3cecef102299"
network0_mac="58:9c:fc:0e:21:7a"
`;

const MANIFEST = '/var/db/bhyve-gpu/installed.json';

/** The RTX 2080 Ti host, clean loader.conf, a Windows guest "gamebox" and optionally an install manifest. */
function windowsHost(opts: { quirks?: string[]; bar1?: number } = {}): Snapshot {
  const snap = example('rtx2080ti-14.3');
  snap.files['/boot/loader.conf'] = '# /boot/loader.conf\nautoboot_delay="3"\nzfs_load="YES"\n';
  snap.files['/vm/gamebox/gamebox.conf'] = WINDOWS_CONF;
  if (opts.quirks) {
    const sha = (p: string) =>
      snap.commands.find((c) => c.argv.join(' ') === `sha256 -q ${p}`)?.stdout.trim() as string;
    snap.files[MANIFEST] = JSON.stringify({
      format: 'bhyve-gpu-install',
      version: 1,
      installedAt: '2025-07-01T10:00:00.000Z',
      patches: [{ name: 'intpin-quirk', sha256: 'a'.repeat(64) }],
      files: [
        { path: '/usr/sbin/bhyve', sha256: sha('/usr/sbin/bhyve') },
        { path: '/boot/kernel/vmm.ko', sha256: sha('/boot/kernel/vmm.ko') },
      ],
      quirks: opts.quirks,
    });
    snap.missing = snap.missing.filter((p) => p !== MANIFEST);
  }
  if (opts.bar1 !== undefined) {
    const pc = snap.commands.find((c) => c.argv.join(' ') === 'pciconf -lbcv');
    assert.ok(pc);
    pc.stdout = pc.stdout.replace(
      'bar   [14] = type Prefetchable Memory, range 64, base 0x4000000000, size 268435456, enabled',
      `bar   [14] = type Prefetchable Memory, range 64, base 0x4000000000, size ${opts.bar1}, enabled`,
    );
  }
  return snap;
}

function put(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}
const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

describe('Windows guest recognition', () => {
  it("vm-bhyve's windows template is a Windows guest, with the reasons", () => {
    const d = detectWindowsGuest('gamebox', WINDOWS_CONF);
    assert.equal(d.windows, true);
    assert.ok(d.reasons.some((r) => r.startsWith('utctime="no"')));
    assert.ok(d.reasons.some((r) => r.startsWith('disk0_type="ahci-hd"')));
  });

  it('a real Windows 10 vm-bhyve config from the corpus is recognised; Linux configs are not', () => {
    const win10 = corpus('vm-conf').find((f) => f.name.includes('win10'));
    assert.ok(win10);
    assert.equal(detectWindowsGuest('optane', win10.body).windows, true);
    for (const f of corpus('vm-conf').filter((x) => !x.name.includes('win10')))
      assert.equal(detectWindowsGuest('guest', f.body).windows, false, f.name);
    assert.equal(
      detectWindowsGuest('cuda', example('rtx2080ti-14.3').files['/vm/cuda/cuda.conf'] as string).windows,
      false,
    );
    // utctime="no" alone (a FreeBSD dual-boot habit) is not enough.
    assert.equal(detectWindowsGuest('build', 'loader="uefi"\nutctime="no"\n').windows, false);
  });
});

describe('attach on a Windows guest', () => {
  it('--dry-run shows the Windows settings and why; without the quirk, the command that adds it', async () => {
    const r = cli([
      'attach',
      '2/0/0',
      '--vm',
      'gamebox',
      '--host',
      writeSnapshot(windowsHost()),
      '--dry-run',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\s+\+passthru0="2\/0\/0=6:0"$/m);
    assert.match(r.stdout, /^\s+\+passthru3="2\/0\/3=6:3"$/m);
    assert.match(r.stdout, /^\s+\+wired_memory="yes"$/m);
    assert.match(r.stdout, /Windows guest: utctime="no"/);
    assert.match(r.stdout, /no pci\.mmio64_size: the GPU's BARs fit/);
    assert.match(r.stdout, /lacks the hide-hypervisor quirk/);
    const chain = /(bhyve-gpu source --src \S+) && (bhyve-gpu patch .*--yes)/.exec(r.stdout);
    assert.ok(chain);
    for (const part of `${chain[1]} && ${chain[2]}`.split(' && ')) {
      const v = await parseArgv(part.split(' '));
      assert.ok(v.ok, `${part}: ${v.message}`);
    }
    assert.doesNotMatch(r.stdout, /hw\.vmm\.hide_hypervisor="1"/);
  });

  it('--guest-os linux turns the Windows settings off; --guest-os windows works without --vm', () => {
    const host = writeSnapshot(windowsHost({ quirks: ['intpin', 'hide-hypervisor'] }));
    const linux = cli([
      'attach',
      '2/0/0',
      '--vm',
      'gamebox',
      '--guest-os',
      'linux',
      '--host',
      host,
      '--dry-run',
    ]);
    assert.equal(linux.status, 0, linux.stderr);
    assert.doesNotMatch(linux.stdout, /hide_hypervisor|Windows guest/);
    const hostOnly = cli(['attach', '2/0/0', '--guest-os', 'windows', '--host', host, '--dry-run', '--json']);
    assert.equal(hostOnly.status, 0, hostOnly.stderr);
    const loader = JSON.parse(hostOnly.stdout).plan.steps.find(
      (s: { path?: string }) => s.path === '/boot/loader.conf',
    );
    assert.match(loader.after, /^hw\.vmm\.hide_hypervisor="1"$/m);
    assert.equal(cli(['attach', '2/0/0', '--guest-os', 'beos', '--host', host]).status, 2);
  });

  it('with the quirks installed: the tunable and the MMIO window; applying, then a second run changes nothing', () => {
    const snap = windowsHost({ quirks: ['intpin', 'hide-hypervisor', 'mmio64=32G'], bar1: 64 * 2 ** 30 });
    const host = writeSnapshot(snap);
    const root = tempDir();
    const base = ['--host', host, '--root', root];
    const dry = cli(['attach', '10de:1e07', '--vm', 'gamebox', '--dry-run', '--json', ...base]);
    assert.equal(dry.status, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout).plan;
    assert.ok(plan.notes.some((n: string) => /hw\.vmm\.hide_hypervisor="1"/.test(n)));
    assert.ok(plan.notes.some((n: string) => /bhyve_options gets -o pci\.mmio64_size=64G/.test(n)));
    assert.ok(plan.notes.some((n: string) => /without it Windows reports Code 12/.test(n)));
    const a = cli(['attach', '10de:1e07', '--vm', 'gamebox', '--yes', ...base]);
    assert.equal(a.status, 0, a.stderr);
    const loader = read(root, '/boot/loader.conf');
    assert.match(loader, /^pptdevs="2\/0\/0 2\/0\/1 2\/0\/2 2\/0\/3"$/m);
    assert.match(loader, /^hw\.vmm\.hide_hypervisor="1"$/m);
    const conf = read(root, '/vm/gamebox/gamebox.conf');
    assert.match(conf, /^bhyve_options="-o pci\.mmio64_size=64G"$/m);
    assert.match(conf, /^loader="uefi"$/m);
    assert.match(conf, /^passthru0="2\/0\/0=6:0"$/m);
    assert.match(conf, /^wired_memory="yes"$/m);
    const again = cli(['attach', '10de:1e07', '--vm', 'gamebox', '--yes', ...base]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /already in the desired state/);
    assert.equal(read(root, '/boot/loader.conf'), loader);
    assert.equal(read(root, '/vm/gamebox/gamebox.conf'), conf);
    assert.equal(cli(['attach', '10de:1e07', '--vm', 'gamebox', '--check', ...base]).status, 0);
  });

  it('without the mmio64 quirk, the note gives the commands that add it as one shell line that runs', async () => {
    const snap = windowsHost({ quirks: ['intpin', 'hide-hypervisor'], bar1: 64 * 2 ** 30 });
    const dry = cli([
      'attach',
      '10de:1e07',
      '--vm',
      'gamebox',
      '--dry-run',
      '--json',
      '--host',
      writeSnapshot(snap),
    ]);
    assert.equal(dry.status, 0, dry.stderr);
    const note = (JSON.parse(dry.stdout).plan.notes as string[]).find((n) =>
      n.includes('add the mmio64 quirk'),
    );
    assert.ok(note, dry.stdout);
    const line = note.slice(note.indexOf('run this attach again: ') + 'run this attach again: '.length);
    assert.match(line, / --quirk intpin,hide-hypervisor,mmio64=64G /);
    // sh reads each command of the line back into the argv the tool means, and the CLI accepts it
    for (const command of line.split(' && ')) {
      const words = spawnSync('sh', ['-c', `printf '%s\\n' ${command}`], { encoding: 'utf8' }).stdout.split(
        '\n',
      );
      words.pop();
      assert.equal(words.join(' '), command);
      if (words[0] !== 'bhyve-gpu') continue;
      const parsed = await parseArgv(words);
      assert.ok(parsed.ok, `${command}: ${parsed.ok ? '' : parsed.message}`);
    }
  });

  it('an installed mmio64 default still gets the window the GPU needs, explicitly; --rom lands on function 0', () => {
    const snap = windowsHost({ quirks: ['intpin', 'hide-hypervisor', 'mmio64=256G'], bar1: 64 * 2 ** 30 });
    const root = tempDir();
    put(root, '/vms/roms/tu102.rom', 'rom');
    const r = cli([
      'attach',
      '2/0/0',
      '--vm',
      'gamebox',
      '--rom',
      '/vms/roms/tu102.rom',
      '--dry-run',
      '--json',
      '--host',
      writeSnapshot(snap),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const plan = JSON.parse(r.stdout).plan;
    const vm = plan.steps.find((s: { path?: string }) => s.path === '/vm/gamebox/gamebox.conf');
    // The window follows the GPU, not the build's default: a later rebuild with another default keeps it.
    assert.match(vm.after, /^bhyve_options="-o pci\.mmio64_size=64G"$/m);
    assert.match(vm.after, /^passthru0_options="rom=\/vms\/roms\/tu102\.rom"$/m);
  });
});

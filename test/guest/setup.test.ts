import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ToolError, UsageError } from '../../src/errors.js';
import { architectureOf, CHIP_RANGES, driverChoice } from '../../src/guest/generations.js';
import {
  DISTROS,
  detectDistro,
  detectGpu,
  distroFromOsRelease,
  keyringUrl,
  parseGpuSpec,
  planSetup,
  renderCloudInit,
  renderScript,
  runSetupScript,
} from '../../src/guest/setup.js';
import { LocalHost } from '../../src/host/local.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import { parseSnapshot } from '../../src/host/snapshot-format.js';
import { fixture } from '../helpers/corpus.js';

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const tmp = () => mkdtempSync(join(tmpdir(), 'guest-setup-'));

describe('GPU generations', () => {
  it('known boards map to their architecture', () => {
    const boards: [number, string][] = [
      [0x102d, 'Kepler'], // Tesla K80
      [0x17fd, 'Maxwell'], // Tesla M40 24GB
      [0x1bb3, 'Pascal'], // Tesla P4
      [0x1b38, 'Pascal'], // Tesla P40
      [0x1db1, 'Volta'], // Tesla V100 SXM2
      [0x1eb8, 'Turing'], // Tesla T4
      [0x1e04, 'Turing'], // RTX 2080 Ti
      [0x20b0, 'Ampere'], // A100 SXM4 40GB
      [0x2330, 'Hopper'], // H100 SXM5 80GB
      [0x26b9, 'Ada'], // L40S
      [0x2f04, 'Blackwell'], // RTX 5070 (corpus: Qubes guest log)
      [0x2b85, 'Blackwell'], // RTX 5090
      [0x2c02, 'Blackwell'], // RTX 5080
    ];
    for (const [id, arch] of boards) assert.equal(architectureOf(id), arch, id.toString(16));
    assert.equal(architectureOf(0x0001), undefined);
  });

  it('ranges do not overlap', () => {
    const sorted = [...CHIP_RANGES].sort((a, b) => a.first - b.first);
    for (let i = 1; i < sorted.length; i++)
      assert.ok((sorted[i - 1]?.last ?? 0) < (sorted[i]?.first ?? 0), sorted[i]?.chip);
  });

  it('agree with every NVIDIA GPU entry of the installed pci.ids', (t) => {
    const path = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids'].find((p) => existsSync(p));
    if (path === undefined) {
      t.skip('pci.ids not installed (apt-get install pci.ids)');
      return;
    }
    const lines = readFileSync(path, 'utf8').split('\n');
    const start = lines.findIndex((l) => l.startsWith('10de  NVIDIA'));
    const prefixes: [RegExp, string][] = [
      [/^GF\d/, 'Fermi'],
      [/^GK\d/, 'Kepler'],
      [/^GM\d/, 'Maxwell'],
      [/^GP\d/, 'Pascal'],
      [/^GV\d/, 'Volta'],
      [/^TU\d/, 'Turing'],
      [/^GA\d/, 'Ampere'],
      [/^AD\d/, 'Ada'],
      [/^GH\d/, 'Hopper'],
      [/^GB\d/, 'Blackwell'],
    ];
    let checked = 0;
    for (const line of lines.slice(start + 1)) {
      if (/^[0-9a-f]/.test(line)) break;
      const m = /^\t([0-9a-f]{4}) {2}(\S+)(.*)$/.exec(line);
      if (
        !m ||
        /Audio|USB|UCSI|HDMI|SMBus|Serial|bridge|NVSwitch|Memory|thernet|IDE|SATA|LPC|ISA|RAID/i.test(
          m[3] ?? '',
        )
      )
        continue;
      const arch = prefixes.find(([re]) => re.test(m[2] ?? ''))?.[1];
      if (arch === undefined) continue;
      assert.equal(architectureOf(Number.parseInt(m[1] as string, 16)), arch, line.trim());
      checked++;
    }
    assert.ok(checked > 500, `only ${checked} entries checked`);
  });

  it('module flavour and branch per generation', () => {
    assert.deepEqual(driverChoice('Pascal'), {
      architecture: 'Pascal',
      modules: 'proprietary',
      lastBranch: 580,
    });
    assert.deepEqual(driverChoice('Turing'), { architecture: 'Turing', modules: 'open' });
    assert.ok(driverChoice('Kepler').unsupported);
  });
});

describe('planSetup', () => {
  it('Pascal on Ubuntu: proprietary 580; on Debian also the proprietary DKMS flavour', () => {
    assert.deepEqual(planSetup({ distro: 'ubuntu-24.04', deviceId: 0x1bb3, format: 'script' }).packages, [
      'cuda-drivers-580',
    ]);
    assert.deepEqual(planSetup({ distro: 'debian-12', deviceId: 0x1bb3, format: 'script' }).packages, [
      'nvidia-kernel-dkms',
      'cuda-drivers-580',
    ]);
  });

  it('Turing and newer: nvidia-open', () => {
    for (const id of [0x1eb8, 0x20b0, 0x2330, 0x2f04])
      assert.deepEqual(planSetup({ distro: 'ubuntu-22.04', deviceId: id, format: 'script' }).packages, [
        'nvidia-open',
      ]);
  });

  it('refuses Kepler, and an unknown id without --modules', () => {
    assert.throws(() => planSetup({ distro: 'debian-13', deviceId: 0x102d, format: 'script' }), ToolError);
    assert.throws(() => planSetup({ distro: 'debian-13', deviceId: 0x0001, format: 'script' }), UsageError);
    assert.equal(
      planSetup({ distro: 'debian-13', deviceId: 0x0001, modules: 'open', format: 'script' }).modules,
      'open',
    );
  });

  it('refuses the open modules for a known pre-Turing GPU; proprietary may be forced on Turing', () => {
    for (const id of [0x1bb3, 0x13c2, 0x1db4])
      assert.throws(
        () => planSetup({ distro: 'ubuntu-24.04', deviceId: id, modules: 'open', format: 'script' }),
        (e: unknown) => e instanceof UsageError && /Turing or newer/.test(e.message),
      );
    assert.deepEqual(
      planSetup({ distro: 'ubuntu-24.04', deviceId: 0x1eb8, modules: 'proprietary', format: 'script' })
        .packages,
      ['cuda-drivers-580'],
    );
  });

  it('keyring URLs follow the CUDA repository layout', () => {
    assert.deepEqual(
      DISTROS.map((d) =>
        keyringUrl(d).replace('https://developer.download.nvidia.com/compute/cuda/repos/', ''),
      ),
      [
        'ubuntu2204/x86_64/cuda-keyring_1.1-1_all.deb',
        'ubuntu2404/x86_64/cuda-keyring_1.1-1_all.deb',
        'debian12/x86_64/cuda-keyring_1.1-1_all.deb',
        'debian13/x86_64/cuda-keyring_1.1-1_all.deb',
      ],
    );
  });

  it('parses GPU specs and os-release', () => {
    assert.equal(parseGpuSpec('10de:1BB3'), 0x1bb3);
    assert.equal(parseGpuSpec('1eb8'), 0x1eb8);
    assert.throws(() => parseGpuSpec('1002:7590'), UsageError);
    assert.equal(distroFromOsRelease('ID=debian\nVERSION_ID="12"\n'), 'debian-12');
    assert.equal(distroFromOsRelease('ID=ubuntu\nVERSION_ID="20.04"\n'), undefined);
  });

  it('detects distro and GPU from a guest snapshot', async () => {
    const host = new SnapshotHost(parseSnapshot(fixture('guest', 'bhyve-ubuntu-p4-healthy.json')));
    assert.equal(await detectDistro(host), 'ubuntu-24.04');
    assert.equal(await detectGpu(host), 0x1bb3);
  });
});

describe('generated setup', () => {
  const plans = DISTROS.flatMap((distro) =>
    [0x1bb3, 0x2330].map((deviceId) => planSetup({ distro, deviceId, format: 'script' })),
  );

  it('the script blacklists nouveau, installs headers and the keyring, and passes shellcheck', (t) => {
    for (const plan of plans) {
      const script = renderScript(plan);
      assert.ok(script.startsWith('#!/usr/bin/env bash\n'));
      assert.ok(script.includes(plan.keyringUrl));
      assert.match(script, /linux-headers-\$\(uname -r\)/);
      assert.match(script, /blacklist nouveau/);
      assert.match(script, /update-initramfs -u/);
      assert.match(script, new RegExp(`apt-get install -y ${plan.packages.join(' ')}\\n`));
      assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0);
    }
    if (!has('shellcheck')) {
      t.skip('shellcheck not installed (apt-get install shellcheck): script lint not run');
      return;
    }
    const dir = tmp();
    for (const [i, plan] of plans.entries()) {
      const file = join(dir, `setup-${i}.sh`);
      writeFileSync(file, renderScript(plan));
      const r = spawnSync('shellcheck', [file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout);
    }
  });

  it('cloud-init user-data is #cloud-config YAML (and a valid schema when cloud-init is installed)', (t) => {
    const dir = tmp();
    for (const [i, plan] of plans.entries()) {
      const text = renderCloudInit(plan);
      assert.ok(text.startsWith('#cloud-config\n'));
      const file = join(dir, `user-data-${i}.yaml`);
      writeFileSync(file, text);
      if (spawnSync('python3', ['-c', 'import yaml']).status === 0) {
        const r = spawnSync(
          'python3',
          ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file],
          {
            encoding: 'utf8',
          },
        );
        assert.equal(r.status, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as {
          runcmd: string[][];
          write_files: { path: string; content: string }[];
        };
        assert.deepEqual(doc.runcmd.at(-2), ['apt-get', 'install', '-y', ...plan.packages]);
        assert.equal(doc.write_files[0]?.path, '/etc/modprobe.d/blacklist-nouveau.conf');
        assert.match(doc.write_files[0]?.content ?? '', /^blacklist nouveau$/m);
      }
      if (has('cloud-init')) {
        const r = spawnSync('cloud-init', ['schema', '-c', file], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stdout + r.stderr);
      }
    }
    if (!has('cloud-init')) t.skip('cloud-init not installed: schema validation not run');
  });

  it('runSetupScript writes the script to a file, runs it with bash and removes it', async () => {
    const dir = tmp();
    const marker = join(dir, 'ran');
    let output = '';
    const code = await runSetupScript(
      new LocalHost(),
      `echo hello > '${marker}'\necho done\nexit 3\n`,
      (chunk) => {
        output += chunk;
      },
    );
    assert.equal(code, 3);
    assert.equal(readFileSync(marker, 'utf8'), 'hello\n');
    assert.equal(output, 'done\n');
  });
});

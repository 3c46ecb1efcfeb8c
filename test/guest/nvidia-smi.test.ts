import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/errors.js';
import {
  parseMiB,
  parseNvidiaSmiTable,
  parseNvidiaSmiXml,
  sysfsAddress,
} from '../../src/guest/nvidia-smi.js';
import { corpusFile } from '../helpers/corpus.js';
import { NVIDIA_SMI_TABLE, NVIDIA_SMI_XML } from './fixture-text.js';

const table = (name: string) => parseNvidiaSmiTable(corpusFile('guest-lspci', name).body);

describe('parseNvidiaSmiXml', () => {
  it('reads driver, CUDA and the GPU of the P4 fixture (nvsmi_device_v12 layout)', () => {
    const r = parseNvidiaSmiXml(NVIDIA_SMI_XML);
    assert.equal(r.kind, 'gpus');
    if (r.kind !== 'gpus') return;
    assert.equal(r.driverVersion, '580.82.07');
    assert.equal(r.cudaVersion, '13.0');
    assert.deepEqual(r.gpus, [
      {
        busId: '00000000:00:06.0',
        productName: 'Tesla P4',
        architecture: 'Pascal',
        memoryTotalMiB: 7680,
        bar1TotalMiB: 256,
        vbiosVersion: '86.04.55.00.01',
        persistence: 'Disabled',
      },
    ]);
  });

  it('takes the bus id from the gpu id attribute when <pci> is absent, and skips N/A values', () => {
    const xml = `<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
<nvidia_smi_log>
	<driver_version>550.54.14</driver_version>
	<cuda_version>Not Found</cuda_version>
	<gpu id="00000000:01:00.0">
		<product_name>NVIDIA A100-SXM4-40GB</product_name>
		<fb_memory_usage>
			<total>N/A</total>
		</fb_memory_usage>
	</gpu>
	<gpu id="00000000:02:00.0">
		<product_name>NVIDIA A100-SXM4-40GB</product_name>
	</gpu>
</nvidia_smi_log>`;
    const r = parseNvidiaSmiXml(xml);
    assert.equal(r.kind, 'gpus');
    if (r.kind !== 'gpus') return;
    assert.equal(r.cudaVersion, undefined);
    assert.deepEqual(
      r.gpus.map((g) => [g.busId, g.memoryTotalMiB]),
      [
        ['00000000:01:00.0', undefined],
        ['00000000:02:00.0', undefined],
      ],
    );
  });

  it('recognises the two failure answers', () => {
    assert.equal(parseNvidiaSmiXml('No devices were found\n').kind, 'no-devices');
    const r = parseNvidiaSmiXml(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
    );
    assert.equal(r.kind, 'driver-unreachable');
  });

  it('gives unrecognised or ParseError for garbage, never a crash', () => {
    assert.equal(parseNvidiaSmiXml('').kind, 'unrecognised');
    assert.equal(parseNvidiaSmiXml('bash: nvidia-smi: command not found').kind, 'unrecognised');
    for (const bad of ['<nvidia_smi_log><gpu id="x">', '<nvidia_smi_log></gpu>', '<nvidia_smi_log>']) {
      try {
        const r = parseNvidiaSmiXml(bad);
        assert.ok(r.kind === 'gpus' || r.kind === 'unrecognised');
      } catch (e) {
        assert.ok(e instanceof ParseError, String(e));
      }
    }
  });
});

describe('parseNvidiaSmiTable on real outputs', () => {
  it('old layout, two GPUs, NVIDIA-SMI and driver versions differ', () => {
    const r = table('nvidia-smi-390-container-2x-m40-smi-driver-mismatch.txt');
    assert.equal(r.kind, 'gpus');
    if (r.kind !== 'gpus') return;
    assert.equal(r.driverVersion, '390.59');
    assert.equal(r.cudaVersion, undefined);
    assert.deepEqual(
      r.gpus.map((g) => [g.productName, g.busId, g.memoryTotalMiB, g.persistence]),
      [
        ['Tesla M40 24GB', '00000000:02:00.0', 22945, 'On'],
        ['Tesla M40 24GB', '00000000:82:00.0', 22945, 'On'],
      ],
    );
  });

  it('new layout with MIG, CUDA N/A', () => {
    const r = table('nvidia-smi-host-a100-mig-550.txt');
    assert.equal(r.kind, 'gpus');
    if (r.kind !== 'gpus') return;
    assert.equal(r.driverVersion, '550.90.05');
    assert.equal(r.cudaVersion, undefined);
    assert.deepEqual(r.gpus[0], {
      productName: 'NVIDIA A100 80GB PCIe',
      persistence: 'On',
      busId: '00000000:8A:00.0',
      memoryTotalMiB: 81920,
    });
  });

  it('610 wording: KMD Version / CUDA UMD Version', () => {
    const r = table('nvidia-smi-610-kmd-umd-header-rtx3080-laptop.txt');
    assert.equal(r.kind, 'gpus');
    if (r.kind !== 'gpus') return;
    assert.equal(r.driverVersion, '610.43.03');
    assert.equal(r.cudaVersion, '13.3');
    assert.equal(r.gpus[0]?.memoryTotalMiB, 16384);
  });

  it('a cut table keeps the header versions', () => {
    const r = table('nvidia-smi-kvm-ubuntu-vm-rtx2080-435-partial.txt');
    assert.equal(r.kind, 'gpus');
    if (r.kind !== 'gpus') return;
    assert.equal(r.driverVersion, '435.21');
    assert.equal(r.cudaVersion, '10.1');
  });

  it('"No devices were found" from a bhyve guest', () => {
    const text = corpusFile(
      'guest-dmesg',
      'cloudatlas-bhyve-ubuntu-p4-nouveau-line-and-nvidia-smi-none.txt',
    ).body;
    assert.equal(parseNvidiaSmiTable(text).kind, 'no-devices');
  });

  it('the P4 fixture table agrees with the P4 fixture XML', () => {
    const t = parseNvidiaSmiTable(NVIDIA_SMI_TABLE);
    const x = parseNvidiaSmiXml(NVIDIA_SMI_XML);
    assert.ok(t.kind === 'gpus' && x.kind === 'gpus');
    assert.equal(t.driverVersion, x.driverVersion);
    assert.equal(t.cudaVersion, x.cudaVersion);
    assert.equal(t.gpus[0]?.busId, x.gpus[0]?.busId);
    assert.equal(t.gpus[0]?.memoryTotalMiB, x.gpus[0]?.memoryTotalMiB);
  });
});

describe('helpers', () => {
  it('parseMiB and sysfsAddress', () => {
    assert.equal(parseMiB('7680 MiB'), 7680);
    assert.equal(parseMiB('N/A'), undefined);
    assert.equal(sysfsAddress('00000000:00:06.0'), '0000:00:06.0');
    assert.equal(sysfsAddress('00000000:8A:00.0'), '0000:8a:00.0');
  });
});

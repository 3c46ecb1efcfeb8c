import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { diagnoseText } from '../../src/diagnose/index.js';
import { guestCheck } from '../../src/guest/check.js';
import { parseNvidiaSmiTable } from '../../src/guest/nvidia-smi.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import { REPO_ROOT } from '../helpers/corpus.js';
import { cli } from '../helpers/snap.js';

// A real capture (test/fixtures/guest/h100-real/README.md): the healthy reference.
const dir = join(REPO_ROOT, 'test', 'fixtures', 'guest', 'h100-real');
const snapshot = join(dir, 'guest-snapshot.json');

describe('guest check on a real Linux machine with a passed-through H100', () => {
  it('answers every question yes, with the sizes nvidia-smi reports', async () => {
    const report = await guestCheck(SnapshotHost.load(snapshot));
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.checks.map((c) => `${c.id}=${c.answer}`),
      [
        'gpu-visible=yes',
        'interrupt-pin=yes',
        'irq=yes',
        'msi=yes',
        'driver-bound=yes',
        'driver-initialised=yes',
        'memory=yes',
      ],
    );
    const gpu = report.gpus[0];
    assert.ok(gpu);
    assert.equal(gpu.address, '0000:00:06.0');
    assert.equal(gpu.deviceId, 0x2330);
    assert.equal(gpu.architecture, 'Hopper');
    assert.equal(gpu.interruptPin, 1);
    assert.equal(gpu.driver, 'nvidia');
    assert.equal(gpu.msix?.enabled, true);
    assert.equal(gpu.smi?.memoryTotalMiB, 81559);
    assert.equal(gpu.smi?.bar1TotalMiB, 131072);
    const bar1 = gpu.bars.find((b) => b.size === 128 * 1024 ** 3);
    assert.ok(bar1, 'the 128 GiB BAR that nvidia-smi calls BAR1');
    assert.equal(report.driverVersion, '580.159.04');
  });

  it('the CLI exits 0 and --json carries the same answers', () => {
    const r = cli(['guest', 'check', '--host', snapshot, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.ok, true);
  });

  it('its kernel log and nvidia-smi table give no error or warning finding', () => {
    const report = diagnoseText([
      { name: 'dmesg.txt', text: readFileSync(join(dir, 'dmesg.txt'), 'utf8') },
      { name: 'nvidia-smi.txt', text: readFileSync(join(dir, 'nvidia-smi.txt'), 'utf8') },
    ]);
    assert.deepEqual(
      report.findings.filter((f) => f.severity !== 'info').map((f) => f.id),
      [],
    );
    const smi = parseNvidiaSmiTable(readFileSync(join(dir, 'nvidia-smi.txt'), 'utf8'));
    assert.equal(smi.kind, 'gpus');
    if (smi.kind === 'gpus') assert.equal(smi.gpus[0]?.productName, 'NVIDIA H100 80GB HBM3');
  });
});

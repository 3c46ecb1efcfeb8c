#!/usr/bin/env node
// Benchmark of `bhyve-gpu scan` (not a test). Needs `npm run build` first.
//  1. A snapshot with BENCH_DEVICES (default 300) PCI devices: the Tesla P4 example host plus 4-function
//     GPUs in the exact `pciconf -lbcv` format. Prints the wall time of `scan --json` on it and the number
//     of host commands the scan ran (vm-bhyve's `vm passthru` runs one pciconf per device: 1 + N).
//  2. Cold start: `bhyve-gpu --version` and `scan` of the small example host against a bare `node -e 0`,
//     median of BENCH_RUNS (default 15) runs each. Target: within 2.5x of `node -e 0`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const cliPath = join(root, 'dist', 'cli.js');
const devices = Number(process.env.BENCH_DEVICES ?? 300);
const runs = Number(process.env.BENCH_RUNS ?? 15);
const lib = await import(join(root, 'dist', 'index.js'));

function gpuBlock(bus) {
  const fn = (f, cls, dev, name, sub, bars, caps) =>
    [
      `${f === 0 ? 'vgapci' : 'none'}${bus * 4 + f}@pci0:${bus}:0:${f}:\tclass=${cls} rev=0xa1 hdr=0x80 vendor=0x10de device=${dev} subvendor=0x1043 subdevice=0x866a`,
      "    vendor     = 'NVIDIA Corporation'",
      `    device     = '${name}'`,
      `    class      = ${sub[0]}`,
      `    subclass   = ${sub[1]}`,
      ...bars,
      ...caps,
    ].join('\n');
  const base = (0x4000 + bus * 0x10).toString(16);
  return [
    fn(
      0,
      '0x030000',
      '0x1e07',
      'TU102 [GeForce RTX 2080 Ti Rev. A]',
      ['display', 'VGA'],
      [
        `    bar   [10] = type Memory, range 32, base 0x${(0xa0000000 + bus * 0x1000000).toString(16)}, size 16777216, enabled`,
        `    bar   [14] = type Prefetchable Memory, range 64, base 0x${base}0000000, size 268435456, enabled`,
      ],
      ['    cap 05[68] = MSI supports 1 message, 64 bit'],
    ),
    fn(
      1,
      '0x040300',
      '0x10f7',
      'TU102 High Definition Audio Controller',
      ['multimedia', 'HDA'],
      [],
      ['    cap 05[68] = MSI supports 1 message, 64 bit enabled with 1 message'],
    ),
    fn(
      2,
      '0x0c0330',
      '0x1ad6',
      'TU102 USB 3.1 Host Controller',
      ['serial bus', 'USB'],
      [],
      [
        '    cap 11[b4] = MSI-X supports 8 messages, enabled',
        '                 Table in map 0x1c[0x0], PBA in map 0x1c[0x80]',
      ],
    ),
    fn(3, '0x0c8000', '0x1ad7', 'TU102 USB Type-C UCSI Controller', ['serial bus', 'serial bus'], [], []),
  ].join('\n');
}

const snap = JSON.parse(readFileSync(join(root, 'examples', 'hosts', 'tesla-p4-15.0.json'), 'utf8'));
const pci = snap.commands.find((c) => c.argv[0] === 'pciconf');
const baseCount = (pci.stdout.match(/^\S+@pci/gm) ?? []).length;
const blocks = [];
for (let bus = 10; baseCount + blocks.length * 4 < devices; bus++) blocks.push(gpuBlock(bus));
pci.stdout = `${pci.stdout.trimEnd()}\n${blocks.join('\n')}\n`;
const dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-bench-'));
const big = join(dir, 'host-300.json');
writeFileSync(big, JSON.stringify(snap));

const host = lib.SnapshotHost.load(big);
const t0 = performance.now();
const inv = await lib.scanHost(host);
const inProcess = performance.now() - t0;
console.log(
  `scan of ${inv.devices.length} devices (${inv.gpus.length} GPUs): ${inProcess.toFixed(1)} ms in process, ${host.runLog.length} host commands (vm passthru would run ${1 + inv.devices.length})`,
);

function median(argv) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'ignore'] });
    times.push(performance.now() - t);
    if (r.status !== 0 && argv[1] !== '--version') throw new Error(`${argv.join(' ')} exited ${r.status}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const bare = median(['-e', '0']);
const version = median([cliPath, '--version']);
const scanSmall = median([cliPath, 'scan', '--host', join(root, 'examples', 'hosts', 'tesla-p4-15.0.json')]);
const scanBig = median([cliPath, 'scan', '--json', '--host', big]);
console.log(`node -e 0:                 ${bare.toFixed(1)} ms`);
console.log(
  `bhyve-gpu --version:       ${version.toFixed(1)} ms  (${(version / bare).toFixed(2)}x; target <= 2.5x)`,
);
console.log(
  `bhyve-gpu scan (example):  ${scanSmall.toFixed(1)} ms  (${(scanSmall / bare).toFixed(2)}x; target <= 2.5x)`,
);
console.log(
  `bhyve-gpu scan --json (${inv.devices.length} devices): ${scanBig.toFixed(1)} ms  (${(scanBig / bare).toFixed(2)}x)`,
);

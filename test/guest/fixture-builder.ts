/**
 * Builds the project-written guest snapshots in test/fixtures/guest/: a bhyve Ubuntu 24.04 guest with a
 * Tesla P4 (10de:1bb3) at 0000:00:06.0, once without the host's INTPIN quirk and once healthy.
 * Config bytes follow the PCI type 0 header layout; the capability chain is the one lspci shows for this
 * GPU in bhyve ([60] Power Management v3, [68] MSI Count=1/1 64bit+, [78] Express Endpoint).
 * Sysfs text files use the kernel's formats (`0x%04x`, `0x%06x`, resource `0x%016llx` triples).
 *
 * Regenerate: node --import tsx test/guest/fixture-builder.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot, SnapshotCommand } from '../../src/host/snapshot-format.js';
import { REPO_ROOT } from '../helpers/corpus.js';
import { HEALTHY_DMESG, NVIDIA_SMI_TABLE, NVIDIA_SMI_XML, QUIRK_MISSING_DMESG } from './fixture-text.js';

export interface FunctionSpec {
  vendor: number;
  device: number;
  classCode: number;
  revision?: number;
  command?: number;
  subsystem?: [number, number];
  /** Raw BAR register values (6 dwords). */
  bars?: number[];
  interruptLine?: number;
  interruptPin?: number;
  /** MSI capability at 0x68 (after PM at 0x60), then PCIe at 0x78. */
  msi?: { enabled: boolean };
  length?: 64 | 256 | 4096;
}

export function buildConfig(spec: FunctionSpec): Uint8Array {
  const bytes = new Uint8Array(spec.length ?? 256);
  const v = new DataView(bytes.buffer);
  v.setUint16(0x00, spec.vendor, true);
  v.setUint16(0x02, spec.device, true);
  v.setUint16(0x04, spec.command ?? 0x0007, true);
  v.setUint16(0x06, spec.msi ? 0x0010 : 0x0000, true);
  v.setUint8(0x08, spec.revision ?? 0);
  v.setUint8(0x09, spec.classCode & 0xff);
  v.setUint8(0x0a, (spec.classCode >> 8) & 0xff);
  v.setUint8(0x0b, (spec.classCode >> 16) & 0xff);
  (spec.bars ?? []).forEach((bar, i) => {
    v.setUint32(0x10 + i * 4, bar >>> 0, true);
  });
  if (spec.subsystem) {
    v.setUint16(0x2c, spec.subsystem[0], true);
    v.setUint16(0x2e, spec.subsystem[1], true);
  }
  v.setUint8(0x3c, spec.interruptLine ?? 0);
  v.setUint8(0x3d, spec.interruptPin ?? 0);
  if (spec.msi && bytes.length >= 256) {
    v.setUint8(0x34, 0x60);
    v.setUint8(0x60, 0x01); // Power Management
    v.setUint8(0x61, 0x68);
    v.setUint16(0x62, 0x0003, true); // version 3
    v.setUint8(0x68, 0x05); // MSI
    v.setUint8(0x69, 0x78);
    v.setUint16(0x6a, 0x0080 | (spec.msi.enabled ? 1 : 0), true); // 64-bit, 1 vector
    if (spec.msi.enabled) {
      v.setUint32(0x6c, 0xfee00000, true); // message address (x86 LAPIC window)
      v.setUint16(0x74, 0x0025, true); // message data
    }
    v.setUint8(0x78, 0x10); // PCI Express
    v.setUint8(0x79, 0x00);
    v.setUint16(0x7a, 0x0002, true); // version 2, endpoint
  }
  return bytes;
}

const hex = (n: number, width: number) => `0x${n.toString(16).padStart(width, '0')}`;
const resourceLine = (start: bigint, size: bigint, flags: number) =>
  size === 0n
    ? `${hex(0, 16)} ${hex(0, 16)} ${hex(0, 16)}`
    : `0x${start.toString(16).padStart(16, '0')} 0x${(start + size - 1n).toString(16).padStart(16, '0')} ${hex(flags, 16)}`;

type Files = Snapshot['files'];

function addFunction(
  files: Files,
  missing: string[],
  address: string,
  spec: FunctionSpec,
  extra: { irq: number; driver?: string; resource?: string[] },
) {
  const dir = `/sys/bus/pci/devices/${address}`;
  files[`${dir}/vendor`] = `${hex(spec.vendor, 4)}\n`;
  files[`${dir}/device`] = `${hex(spec.device, 4)}\n`;
  files[`${dir}/class`] = `${hex(spec.classCode, 6)}\n`;
  files[`${dir}/irq`] = `${extra.irq}\n`;
  files[`${dir}/enable`] = extra.driver ? '1\n' : '0\n';
  files[`${dir}/config`] = { base64: Buffer.from(buildConfig(spec)).toString('base64') };
  const lines = extra.resource ?? [];
  files[`${dir}/resource`] =
    `${[...lines, ...Array(13 - lines.length).fill(resourceLine(0n, 0n, 0))].join('\n')}\n`;
  if (extra.driver) files[`${dir}/driver`] = { link: `../../../bus/pci/drivers/${extra.driver}` };
  else missing.push(`${dir}/driver`);
}

export type P4Case = 'quirk-missing' | 'healthy';

const MIB = 1024n * 1024n;
const P4_BARS = [0xc2000000, 0x0000000c, 0x8, 0x1000000c, 0x8, 0];
const P4_RESOURCE = [
  resourceLine(0xc2000000n, 16n * MIB, 0x40200),
  resourceLine(0x800000000n, 256n * MIB, 0x14220c),
  resourceLine(0n, 0n, 0),
  resourceLine(0x810000000n, 32n * MIB, 0x14220c),
];

export function buildP4Snapshot(kind: P4Case): Snapshot {
  const healthy = kind === 'healthy';
  const files: Files = {};
  const missing: string[] = [];
  addFunction(
    files,
    missing,
    '0000:00:00.0',
    { vendor: 0x1275, device: 0x1275, classCode: 0x060000 },
    { irq: 0 },
  );
  addFunction(
    files,
    missing,
    '0000:00:1f.0',
    { vendor: 0x8086, device: 0x7000, classCode: 0x060100 },
    { irq: 0 },
  );
  addFunction(
    files,
    missing,
    '0000:00:04.0',
    { vendor: 0x1af4, device: 0x1001, classCode: 0x010000, interruptPin: 1, interruptLine: 11 },
    { irq: 11, driver: 'virtio-pci' },
  );
  addFunction(
    files,
    missing,
    '0000:00:05.0',
    { vendor: 0x1af4, device: 0x1000, classCode: 0x020000, interruptPin: 1, interruptLine: 10 },
    { irq: 10, driver: 'virtio-pci' },
  );
  addFunction(
    files,
    missing,
    '0000:00:1d.0',
    { vendor: 0xfb5d, device: 0x40fb, classCode: 0x030000, bars: [0xc0000000] },
    { irq: 0 },
  );
  addFunction(
    files,
    missing,
    '0000:00:06.0',
    {
      vendor: 0x10de,
      device: 0x1bb3,
      classCode: 0x030200,
      revision: 0xa1,
      command: healthy ? 0x0406 : 0x0002,
      subsystem: [0x10de, 0x11d8],
      bars: P4_BARS,
      interruptLine: healthy ? 10 : 0,
      interruptPin: healthy ? 1 : 0,
      msi: { enabled: healthy },
    },
    { irq: healthy ? 37 : 0, ...(healthy ? { driver: 'nvidia' } : {}), resource: P4_RESOURCE },
  );
  files['/etc/os-release'] =
    'PRETTY_NAME="Ubuntu 24.04.2 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.2 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=noble\n';
  if (healthy)
    files['/proc/driver/nvidia/version'] =
      'NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.82.07  Wed Aug 27 18:39:48 UTC 2025\nGCC version:  gcc version 13.3.0 (Ubuntu 13.3.0-6ubuntu2~24.04) \n';
  else missing.push('/proc/driver/nvidia/version');
  const unreachable =
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n";
  const commands: SnapshotCommand[] = [
    { argv: ['uname', '-r'], exitCode: 0, stdout: '6.8.0-60-generic\n', stderr: '' },
    { argv: ['dmesg'], exitCode: 0, stdout: healthy ? HEALTHY_DMESG : QUIRK_MISSING_DMESG, stderr: '' },
    {
      argv: ['nvidia-smi', '-q', '-x'],
      exitCode: healthy ? 0 : 9,
      stdout: healthy ? NVIDIA_SMI_XML : unreachable,
      stderr: '',
    },
    {
      argv: ['nvidia-smi'],
      exitCode: healthy ? 0 : 9,
      stdout: healthy ? NVIDIA_SMI_TABLE : unreachable,
      stderr: '',
    },
  ];
  return {
    format: 'bhyve-gpu-snapshot',
    version: 1,
    capturedAt: '2025-09-09T02:30:00Z',
    hostname: 'xdev',
    description: `project-written fixture (test/guest/fixture-builder.ts): bhyve Ubuntu 24.04 guest, Tesla P4 at 0000:00:06.0, ${healthy ? 'INTPIN quirk present, MSI enabled, nvidia 580.82.07 bound and initialised' : 'host bhyve without the INTPIN quirk: INTPIN 0, irq 0, nvidia probe fails'}`,
    commands,
    files,
    missing,
  };
}

export const FIXTURE_NAMES: Record<P4Case, string> = {
  'quirk-missing': 'bhyve-ubuntu-p4-intpin-missing.json',
  healthy: 'bhyve-ubuntu-p4-healthy.json',
};

export const fixturePath = (kind: P4Case) =>
  join(REPO_ROOT, 'test', 'fixtures', 'guest', FIXTURE_NAMES[kind]);

if (process.argv[1]?.endsWith('fixture-builder.ts')) {
  for (const kind of ['quirk-missing', 'healthy'] as const)
    writeFileSync(fixturePath(kind), `${JSON.stringify(buildP4Snapshot(kind), null, 2)}\n`);
}

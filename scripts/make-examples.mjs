#!/usr/bin/env node
// Assembles the example host snapshots (examples/hosts/*.json) from the readable sources under
// examples/hosts/src/<name>/: one file per probe output, written by the project in the exact format the
// FreeBSD tools print. Run after editing a source file: node scripts/make-examples.mjs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = 'examples/hosts';
const commands = [
  ['pciconf.txt', ['pciconf', '-lbcv']],
  ['freebsd-version.txt', ['freebsd-version', '-kru']],
  ['uname.txt', ['uname', '-a']],
  ['sysctl.txt', ['sysctl', 'hw.model', 'hw.machine', 'hw.ncpu', 'hw.physmem', 'kern.osreldate']],
  ['sysctl-vmm.txt', ['sysctl', 'hw.vmm']],
  ['kldstat.txt', ['kldstat']],
  ['acpidump.txt', ['acpidump', '-t']],
  ['route.txt', ['route', '-n', 'get', 'default']],
  ['ifconfig.txt', ['ifconfig', '-a']],
  ['sha-bhyve.txt', ['sha256', '-q', '/usr/sbin/bhyve']],
  ['sha-vmm.txt', ['sha256', '-q', '/boot/kernel/vmm.ko']],
];
const files = {
  'loader.conf': '/boot/loader.conf',
  'rc.conf': '/etc/rc.conf',
  'dmesg.boot': '/var/run/dmesg.boot',
  'installed.json': '/var/db/bhyve-gpu/installed.json',
};

for (const name of readdirSync(join(root, 'src')).sort()) {
  const dir = join(root, 'src', name);
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
  const present = new Set(readdirSync(dir));
  const read = (f) => readFileSync(join(dir, f), 'utf8');
  const snap = {
    format: 'bhyve-gpu-snapshot',
    version: 1,
    capturedAt: meta.capturedAt,
    hostname: meta.hostname,
    description: meta.description,
    commands: [],
    files: {},
    missing: meta.missing,
  };
  for (const [file, argv] of commands)
    if (present.has(file)) snap.commands.push({ argv, exitCode: 0, stdout: read(file), stderr: '' });
  const rc = read('rc.conf');
  const vmDir = /^vm_dir="zfs:([^"]+)"/m.exec(rc);
  if (vmDir && present.has('zfs.txt'))
    snap.commands.push({
      argv: ['zfs', 'get', '-H', '-o', 'value', 'mountpoint', vmDir[1]],
      exitCode: 0,
      stdout: read('zfs.txt'),
      stderr: '',
    });
  for (const [file, path] of Object.entries(files)) if (present.has(file)) snap.files[path] = read(file);
  const mount = present.has('zfs.txt') ? read('zfs.txt').trim() : undefined;
  for (const f of [...present].filter((f) => f.endsWith('.conf') && f !== 'loader.conf' && f !== 'rc.conf')) {
    const vm = f.slice(0, -'.conf'.length);
    snap.files[`${mount}/${vm}/${vm}.conf`] = read(f);
  }
  for (const f of [...present].filter((f) => f.startsWith('running-')))
    snap.files[`/dev/vmm/${f.slice(8)}`] = '';
  writeFileSync(join(root, `${name}.json`), `${JSON.stringify(snap, null, 2)}\n`);
  console.log(`wrote ${join(root, `${name}.json`)}`);
}

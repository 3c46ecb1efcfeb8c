import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CALLS, type CallSpec, formatJson } from '../../scripts/extract-catalog.mjs';
import {
  type Catalog,
  type CatalogEntry,
  catalogSignatures,
  loadCatalogs,
} from '../../src/diagnose/catalog.js';
import { diagnoseText } from '../../src/diagnose/engine.js';
import { REPO_ROOT } from '../helpers/corpus.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'extract-catalog.mjs');
const work = mkdtempSync(join(tmpdir(), 'bhyve-gpu-catalog-'));
after(() => rmSync(work, { recursive: true, force: true }));

function extract(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function catalog(source: string): Catalog {
  const c = loadCatalogs().catalogs.find((x) => x.source === source);
  assert.ok(c, source);
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Source trees rebuilt from a catalog: one call per template, written with the call the catalog records

function cString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

function cCall(e: CatalogEntry, specs: CallSpec[]): string {
  const spec = specs.find((s) => s.name === e.call);
  assert.ok(spec, `${e.id}: no call spec ${e.call}`);
  if (e.call === 'assert') {
    const expr = /^Assertion failed: \((.*)\), function %s, file %s, line %d\.$/s.exec(e.text)?.[1];
    assert.ok(expr !== undefined, e.id);
    return `\tassert(${expr});\n`;
  }
  let fmt = e.text;
  if (spec.prefix) {
    assert.ok(fmt.startsWith(spec.prefix), `${e.id}: ${spec.prefix}`);
    fmt = fmt.slice(spec.prefix.length);
  }
  if (spec.suffix) {
    assert.ok(fmt.endsWith(spec.suffix), `${e.id}: ${spec.suffix}`);
    fmt = fmt.slice(0, -spec.suffix.length);
  }
  const level =
    e.call === 'log'
      ? e.level === 'error'
        ? 'LOG_ERR'
        : 'LOG_WARNING'
      : e.call === 'printk'
        ? e.level === 'error'
          ? 'KERN_ERR'
          : 'KERN_WARNING'
        : e.level === 'error'
          ? 'NV_DBG_ERRORS'
          : 'NV_DBG_WARNINGS';
  const args: string[] = [];
  for (let i = 0; i <= Math.max(spec.fmtArg, spec.levelArg ?? 0); i++) args.push('x');
  if (spec.levelArg !== undefined) args[spec.levelArg] = level;
  if (spec.needArg0) args[0] = spec.needArg0;
  args[spec.fmtArg] = spec.levelArg === spec.fmtArg ? `${level} ${cString(fmt)}` : cString(fmt);
  return `\t${e.call}(${args.join(', ')});\n`;
}

function shellCall(e: CatalogEntry): string {
  const prefix = { 'util::err': 'vm: ERROR: ', 'util::warn': 'vm: WARNING: ' }[e.call] ?? '';
  assert.ok(e.text.startsWith(prefix), e.id);
  // `\$var` (unbraced) is read as a placeholder after a backslash: write it back the same way
  const msg = e.text
    .slice(prefix.length)
    .replace(/\\%s|%s|[\\"$`]/g, (m) => (m === '\\%s' ? '\\$x' : m === '%s' ? `\${x}` : `\\${m}`));
  return e.call === 'util::log' ? `  util::log guest "\${_name}" "${msg}"\n` : `  ${e.call} "${msg}"\n`;
}

/** A tree whose files hold one call per catalog entry that names them (what the extractor reads). */
function rebuild(c: Catalog): string {
  const dir = join(work, c.source);
  const files = new Map<string, string>();
  for (const [f, commit] of Object.entries(c.origin.files ?? {}))
    files.set(f, `/* excerpt of freebsd/freebsd-src ${f} @ ${commit}: rebuilt from the catalog */\n`);
  for (const e of c.entries)
    for (const f of e.files) {
      const call =
        c.source === 'vm-bhyve'
          ? shellCall(e)
          : cCall(
              e,
              c.source === 'nvidia' ? CALLS.nvidia : f.startsWith('sys/') ? CALLS.kernel : CALLS.bhyve,
            );
      files.set(f, `${files.get(f) ?? ''}${call}`);
    }
  for (const [f, text] of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text, 'latin1');
  }
  if (c.origin.release) writeFileSync(join(dir, 'version.mk'), `NVIDIA_VERSION = ${c.origin.release}\n`);
  return dir;
}

/** A finding as `diagnose --json` prints it (the fields these tests read). */
interface CliFinding {
  id: string;
  severity: string;
  occurrences: number;
  commands?: string[][];
  references?: string[];
  evidence: { line: number }[];
}

/** `bhyve-gpu diagnose --json FILE`, run through the CLI as a user types it. */
function diagnoseCli(log: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'diagnose', '--json', log], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

/** The findings of `diagnose --json` output, by id. */
function findingsById(r: SpawnSyncReturns<string>): Map<string, CliFinding> {
  const doc = JSON.parse(r.stdout) as { findings: CliFinding[] };
  return new Map(doc.findings.map((f) => [f.id, f]));
}

describe('extract-catalog.mjs', () => {
  it('reproduces each checked-in catalog byte for byte: --check exits 0, and 1 once a message changes', () => {
    const args: string[] = [];
    for (const c of loadCatalogs().catalogs) {
      args.push(`--${c.source}`, rebuild(c));
      if (!c.origin.files) args.push(`--${c.source}-rev`, c.origin.commit);
    }
    const same = extract([...args, '--check']);
    assert.equal(same.code, 0, same.out);
    const n = catalog('freebsd').entries.length;
    assert.ok(same.out.includes(`freebsd: ${n} templates from per file; 0 new, 0 gone\n`), same.out);
    assert.match(same.out, /^vm-bhyve: \d+ templates from [0-9a-f]{40}; 0 new, 0 gone$/m);

    // one message reworded in the host kernel: --check names it and fails, writing nothing
    const vmx = join(work, 'freebsd', 'sys', 'amd64', 'vmm', 'intel', 'vmx.c');
    const before = readFileSync(join(REPO_ROOT, 'src', 'diagnose', 'catalog', 'freebsd.json'), 'utf8');
    writeFileSync(
      vmx,
      `${readFileSync(vmx, 'latin1')}\tprintf("vmx_modinit: VMX disabled by the firmware\\n");\n`,
    );
    const changed = extract([...args, '--check']);
    assert.equal(changed.code, 1, changed.out);
    assert.match(
      changed.out,
      new RegExp(
        `freebsd: ${n + 1} templates from per file; 1 new, 0 gone\n {2}\\+ freebsd\\.[0-9a-f]{10} "vmx_modinit: VMX disabled by the firmware"`,
      ),
    );
    assert.equal(readFileSync(join(REPO_ROOT, 'src', 'diagnose', 'catalog', 'freebsd.json'), 'utf8'), before);
  });

  it('reads host kernel messages: failures only, not boot information or bootverbose lines, with the file commit', () => {
    const dir = join(work, 'kernel');
    const out = join(work, 'kernel-out');
    mkdirSync(join(dir, 'sys', 'amd64', 'vmm', 'io'), { recursive: true });
    mkdirSync(out, { recursive: true });
    const commit = 'a'.repeat(40);
    writeFileSync(
      join(dir, 'sys', 'amd64', 'vmm', 'io', 'ppt.c'),
      [
        `/* excerpt of freebsd/freebsd-src sys/amd64/vmm/io/ppt.c @ ${commit}: test */`,
        '\tif (bootverbose)',
        '\t\tdevice_printf(dev, "attach failed quietly\\n");',
        '\tdevice_printf(dev, "attached\\n");',
        '\tdevice_printf(dev, "could not allocate MSI-X "',
        '\t    "table: %d\\n", error);',
        '\tlog(LOG_WARNING, "ppt%d: IOMMU domain missing\\n", unit);',
        '\tlog(LOG_INFO, "ppt%d: mapped BAR %d\\n", unit, bar);',
        '\tprintf("ppt: %d devices\\n", n);',
        '\tpanic("ppt_unmap: bad segment %d", i);',
        '\tprintf("HPA is not size aligned.\\n");',
        '\tdevice_printf(pcib, "HT device at pci%d:%d:%d:%d has non-default MSI window 0x%llx\\n",',
        '\t    cfg->domain, cfg->bus, cfg->slot, cfg->func, (long long)addr);',
        '',
      ].join('\n'),
    );
    const r = extract(['--freebsd', dir, '--out', out]);
    assert.equal(r.code, 0, r.out);
    const written = readFileSync(join(out, 'freebsd.json'), 'utf8');
    const doc = JSON.parse(written) as Catalog;
    assert.deepEqual(doc.entries.map((e) => [e.text, e.level, e.call]).sort(), [
      ['%s: could not allocate MSI-X table: %d', 'error', 'device_printf'],
      ['HPA is not size aligned.', 'warning', 'printf'],
      ['panic: ppt_unmap: bad segment %d', 'fatal', 'panic'],
      ['ppt%d: IOMMU domain missing', 'warning', 'log'],
    ]);
    assert.equal(doc.origin.commit, 'per file');
    assert.deepEqual(doc.origin.files, { 'sys/amd64/vmm/io/ppt.c': commit });
    // what biome would write for the same document (the checked-in catalogs are biome-formatted)
    const biome = join(REPO_ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
    if (existsSync(biome)) {
      const f = spawnSync(biome, ['format', '--stdin-file-path=src/diagnose/catalog/freebsd.json'], {
        cwd: REPO_ROOT,
        input: written,
        encoding: 'utf8',
      });
      assert.equal(f.status, 0, f.stderr);
      assert.equal(f.stdout, written);
    }
    assert.equal(formatJson(JSON.parse(written)), written);
  });
});

describe('derived signatures link their source at the commit it was read from', () => {
  it('uses the per-file commit of the FreeBSD excerpts and the checkout commit elsewhere', () => {
    const sigs = catalogSignatures();
    const fbsd = catalog('freebsd');
    const vmm = sigs.find((s) => s.catalog === 'freebsd.c8a190de2e');
    assert.deepEqual(vmm?.references, [
      'https://github.com/freebsd/freebsd-src/blob/001345683da712c21ec449c4116671a4554c737b/sys/amd64/vmm/intel/vmx.c',
    ]);
    const passthru = sigs.find((s) =>
      s.references?.some((r) => r.endsWith('/usr.sbin/bhyve/pci_passthru.c')),
    );
    assert.ok(passthru);
    assert.ok(
      passthru.references?.some((r) => r.includes('/blob/02df1902fe923d3742dc1702708737dab253712e/')),
    );
    for (const s of sigs)
      for (const r of s.references ?? []) {
        const m = /^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/([0-9a-f]{40})\/(.+)$/.exec(r);
        assert.ok(m, `${s.id}: ${r}`);
        if (s.catalog?.startsWith('freebsd.')) assert.equal(m[1], fbsd.origin.files?.[m[2] as string], r);
      }
  });
});

describe('FreeBSD host /var/log/messages', () => {
  it('puts VT-x disabled in the firmware before the vmm.ko load failure and the VM creation error it causes', () => {
    const text = [
      'Copyright (c) 1992-2024 The FreeBSD Project.',
      'FreeBSD 14.2-RELEASE releng/14.2-n269506-c8918d6c7412 GENERIC amd64',
      'CPU: Intel(R) Xeon(R) E-2274G CPU @ 4.00GHz (3984.00-MHz K8-class CPU)',
      '  Origin="GenuineIntel"  Id=0x906ed  Family=0x6  Model=0x9e  Stepping=13',
      '  VT-x: (disabled in BIOS) PAT,HLT,MTF,PAUSE,EPT,UG,VPID',
      'real memory  = 68719476736 (65536 MB)',
      'vmx_modinit: VMX operation disabled by BIOS',
      'module_register_init: MOD_LOAD (vmm, 0xffffffff82b7a0a0, 0) error 6',
      '',
    ].join('\n');
    const r = diagnoseText([
      { name: 'dmesg.boot', text },
      { name: 'bhyve.err', text: 'vm_create: Device not configured\n' },
    ]);
    const first = r.findings[0];
    assert.equal(first?.id, 'host.cpu.virtualisation-disabled');
    assert.equal(first?.rootCause, true);
    assert.deepEqual(
      first?.evidence.map((e) => e.line),
      [5, 7],
    );
    for (const id of ['host.vmm.mod-load-error', 'host.vmm.vm-create-enxio']) {
      const f = r.findings.find((x) => x.id === id);
      assert.equal(f?.rootCause, false, id);
      assert.ok(f?.causedBy?.includes('host.cpu.virtualisation-disabled'), id);
    }
    // the catalog's own template of the vmm.ko line is this signature, not a second finding
    assert.equal(r.findings.filter((f) => f.id.startsWith('host.vmm.init.')).length, 0);
  });

  it('reports the AMD-Vi, vmx and BAR failures a passthrough host logs, through the CLI', () => {
    const log = join(work, 'messages');
    writeFileSync(
      log,
      [
        'Nov 30 07:34:58 gpuhost syslogd: kernel boot file is /boot/kernel/kernel',
        'Nov 30 07:34:58 gpuhost kernel: ---<<BOOT>>---',
        'Nov 30 07:34:58 gpuhost kernel: Copyright (c) 1992-2024 The FreeBSD Project.',
        'Nov 30 07:34:58 gpuhost kernel: FreeBSD 14.2-RELEASE releng/14.2-n269506-c8918d6c7412 GENERIC amd64',
        'Nov 30 07:34:58 gpuhost kernel: CPU: AMD Ryzen 9 5950X 16-Core Processor             (3393.62-MHz K8-class CPU)',
        'Nov 30 07:34:58 gpuhost kernel: ivhd0: <AMD-Vi/IOMMU ivhd with EFR> on acpi0',
        'Nov 30 07:34:58 gpuhost kernel: ppt0 mem 0xfb000000-0xfbffffff,0xd0000000-0xdfffffff,0xe0000000-0xe1ffffff irq 40 at device 0.0 on pci1',
        'Nov 30 07:34:58 gpuhost kernel: ppt0: 0x400000000 bytes of rid 0x1c res 3 failed (0, 0xffffffffffffffff).',
        'Nov 30 07:35:01 gpuhost kernel: bhyve: Found 1 AMD-Vi/IOMMU device(s), use hw.vmm.amdvi.enable=1 to enable pass-through.',
        'Nov 30 07:35:01 gpuhost kernel: bhyve: Found 1 AMD-Vi/IOMMU device(s), use hw.vmm.amdvi.enable=1 to enable pass-through.',
        "Nov 30 07:35:02 gpuhost devd[712]: Processing event '!system=DEVFS subsystem=CDEV type=CREATE cdev=vmm/xdev'",
        '',
      ].join('\n'),
    );
    const r = diagnoseCli(log);
    const byId = findingsById(r);
    const amdvi = byId.get('host.vmm.init.1c18046a05');
    assert.ok(amdvi, JSON.stringify([...byId.keys()]));
    assert.equal(amdvi.severity, 'error');
    assert.equal(amdvi.occurrences, 2);
    assert.deepEqual(amdvi.evidence[0]?.line, 9);
    assert.deepEqual(amdvi.commands, [['bhyve-gpu', 'doctor']]);
    const bar = byId.get('host.pci.resource.b822712053');
    assert.ok(bar);
    assert.equal(bar.evidence[0]?.line, 8);
    // boot banners, the ppt0 attach line and devd events are not findings
    assert.deepEqual([...byId.keys()].sort(), ['host.pci.resource.b822712053', 'host.vmm.init.1c18046a05']);
    assert.notEqual(r.status, 2, r.stderr);
  });

  it('reports an AMD-Vi mapping failure at VM start, not the VPD, APEI or MSI-window lines around it', () => {
    const log = join(work, 'messages-amdvi');
    writeFileSync(
      log,
      [
        'Nov 30 07:41:02 gpuhost kernel: pcib0: HT device at pci0:0:24:0 has non-default MSI window 0xfee00000',
        'Nov 30 07:41:02 gpuhost kernel: pci0:65:0:0: invalid VPD checksum 0x5a',
        'Nov 30 07:41:02 gpuhost kernel: ppt0 mem 0xf6000000-0xf6ffffff,0xe0000000-0xefffffff,0xf0000000-0xf1ffffff irq 88 at device 0.0 numa-domain 0 on pci12',
        'Nov 30 07:41:09 gpuhost kernel: pcib3: Correctable PCIe error reported by APEI',
        'Nov 30 07:41:09 gpuhost kernel: pcib3: Clearing COR AER errors 0x00000040',
        'Nov 30 07:41:12 gpuhost kernel: HPA is not size aligned.',
        "Nov 30 07:41:12 gpuhost kernel: Error: Couldn't map HPA:0xe0001000 GPA:0xc0000000",
        'Nov 30 07:41:12 gpuhost kernel: tap0: link state changed to DOWN',
        '',
      ].join('\n'),
    );
    const r = diagnoseCli(log);
    const byId = findingsById(r);
    assert.deepEqual(
      [...byId.keys()].sort(),
      ['host.vmm.iommu.94cc1e6997', 'host.vmm.iommu.f8e86dabd0'],
      JSON.stringify([...byId.keys()]),
    );
    const hpa = byId.get('host.vmm.iommu.f8e86dabd0');
    assert.equal(hpa?.severity, 'error');
    assert.equal(hpa?.evidence[0]?.line, 6);
    assert.deepEqual(hpa?.commands, [['bhyve-gpu', 'doctor', '--vm', '{vm}']]);
    assert.equal(byId.get('host.vmm.iommu.94cc1e6997')?.evidence[0]?.line, 7);
    assert.notEqual(r.status, 2, r.stderr);
  });
});

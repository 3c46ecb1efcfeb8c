import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local.js';
import { cProblems, loadCParser } from '../../src/patch/csyntax.js';
import { parseQuirkList } from '../../src/patch/quirks/words.js';
import { readPatchRecord, runPatch } from '../../src/patch/run.js';
import { copyTree, dropTree, readTree, snapshotTree } from './trees.js';

const host = new LocalHost();
const QUIRKS = 'usr.sbin/bhyve/pci_passthru_quirks.c';
const EMUL = 'usr.sbin/bhyve/pci_emul.c';
const X86 = 'sys/amd64/vmm/x86.c';
const ALL = 'intpin,nvidia-mirror,hide-hypervisor,mmio64=256G';
const dirs: string[] = [];
const tree = (name: string) => {
  const d = copyTree(name);
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) dropTree(d);
});

type Outcome = Record<string, 'applied' | 'already-applied' | 'refused'>;

/** Run the quirks with --partial; check outcomes, written files, no new parse errors, second run a no-op. */
async function quirkRun(name: string, list: string, expected: Outcome, files: string[]) {
  const dir = tree(name);
  const before = snapshotTree(dir);
  const run = await runPatch(host, dir, { quirks: parseQuirkList(list), partial: true });
  assert.deepEqual(Object.fromEntries(run.quirks.map((q) => [q.name, q.result])), expected);
  assert.equal(run.syntax.ok, true, JSON.stringify(run.syntax.files.map((f) => f.introduced)));
  for (const f of run.syntax.files) assert.deepEqual(f.introduced, [], f.path);
  assert.deepEqual(run.files.map((f) => f.path).sort(), [...files].sort());
  const after = snapshotTree(dir);
  const changed = Object.keys(after).filter((k) => after[k] !== before[k] && !k.startsWith('.bhyve-gpu/'));
  assert.deepEqual(changed.sort(), [...files].sort());
  const again = await runPatch(host, dir, { quirks: parseQuirkList(list), partial: true });
  assert.equal(again.files.length, 0);
  assert.deepEqual(
    again.quirks.map((q) => q.result),
    run.quirks.map((q) => (q.result === 'refused' ? 'refused' : 'already-applied')),
  );
  assert.deepEqual(snapshotTree(dir), after);
  return { dir, run };
}

describe('patch --quirk on each BAR-handler API generation', () => {
  it('upstream uint64_t handlers (baridx): mirror merged into the existing NVIDIA entry, x86.c and pci_emul.c patched', async () => {
    const { dir, run } = await quirkRun(
      'quirks-main-uint64',
      ALL,
      {
        intpin: 'already-applied',
        'nvidia-mirror': 'applied',
        'hide-hypervisor': 'applied',
        'mmio64=256G': 'applied',
      },
      [QUIRKS, X86, EMUL],
    );
    const q = readTree(dir, QUIRKS);
    assert.match(
      q,
      /static uint64_t\nbhyve_gpu_mirror_read\(struct pci_devinst \*pi, int baridx, uint64_t off,/,
    );
    assert.match(q, /static void\nbhyve_gpu_mirror_write\(/);
    // One NVIDIA entry: the registration goes into the existing init, none is added.
    assert.equal(q.match(/PASSTHRU_DEV_SET\(/g)?.length, 1);
    assert.match(q, /gpu_quirk_init[\s\S]*passthru_set_bar_handler\(pi->pi_arg, 0, BHYVE_GPU_MIRROR_OFF/);
    assert.ok(q.indexOf('bhyve_gpu_mirror_read(') < q.indexOf('gpu_quirk_init('));
    const x = readTree(dir, X86);
    assert.match(
      x,
      /SYSCTL_INT\(_hw_vmm, OID_AUTO, hide_hypervisor, CTLFLAG_RWTUN, &hide_hypervisor,\n\s+0,/,
    );
    assert.match(
      x,
      /if \(!hide_hypervisor\)[^\n]*\n\t+regs\[2\] \|= CPUID2_HV;\n\t+else\n\t+regs\[2\] &= ~CPUID2_HV;/,
    );
    // Both the signature leaf and the newer features leaf follow the switch.
    assert.equal(x.match(/if \(hide_hypervisor\) \{/g)?.length, 2);
    const e = readTree(dir, EMUL);
    assert.match(e, /#define\tBHYVE_GPU_MMIO64_DEFAULT\t"256G"/);
    assert.match(e, /get_config_value\("pci\.mmio64_size"\)/);
    assert.match(e, /pci_emul_membase64 = roundup2\(pci_emul_membase64, pci_emul_memsize64\);/);
    assert.match(e, /bhyve_gpu_mmio64_check\(pci_emul_memlim64\);/);
    assert.match(
      e,
      /if \(pci_emul_assign_bar\(bar->pdi, bar->idx, bar->type,\n\t+ {4}bar->size\) != 0\) \{[\s\S]*?return \(ENOSPC\);/,
    );
    assert.match(e, /#ifdef __amd64__\n#include <machine\/cpufunc.h>\n#endif/);
    assert.ok(
      run.quirks.find((r) => r.name === 'mmio64=256G')?.warnings.some((w) => /32 GiB aperture/.test(w)),
    );
    const record = await readPatchRecord(host, dir);
    assert.deepEqual(record?.quirks, ['intpin', 'nvidia-mirror', 'hide-hypervisor', 'mmio64=256G']);
  });

  it('older int handlers with *rv (Beckhoff API), no quirks file: one NVIDIA entry carries INTPIN and the mirror', async () => {
    const { dir } = await quirkRun(
      'quirks-beckhoff-int',
      ALL,
      {
        intpin: 'applied',
        'nvidia-mirror': 'applied',
        'hide-hypervisor': 'applied',
        'mmio64=256G': 'applied',
      },
      [QUIRKS, X86, EMUL],
    );
    const q = readTree(dir, QUIRKS);
    assert.match(
      q,
      /static int\nbhyve_gpu_mirror_read\(struct pci_devinst \*pi, uint64_t off, uint64_t size,\n\s+uint64_t \*rv\)/,
    );
    assert.equal(q.match(/PASSTHRU_DEV_SET\(/g)?.length, 1);
    const init = /\nbhyve_gpu_nvidia_init\([^)]*\)\n\{([\s\S]*?)\n\}/.exec(q)?.[1] ?? '';
    assert.match(init, /pci_set_cfgdata8\(pi, PCIR_INTPIN, 1\);/);
    assert.match(init, /passthru_set_bar_handler\(pi->pi_arg, 0, BHYVE_GPU_MIRROR_OFF/);
    assert.equal(cProblems(await loadCParser(), q).length, 0);
  });

  it('the mirror first, INTPIN second: the same single entry, in either order', async () => {
    const { dir } = await quirkRun(
      'quirks-beckhoff-int',
      'nvidia-mirror,intpin',
      { 'nvidia-mirror': 'applied', intpin: 'applied' },
      [QUIRKS],
    );
    const q = readTree(dir, QUIRKS);
    assert.equal(q.match(/PASSTHRU_DEV_SET\(/g)?.length, 1);
    assert.match(q, /PCIR_INTPIN, 1/);
  });

  it('Beckhoff nvidia-wip: its mirror is kept (already-applied), its unconditional CPUID change refuses the switch', async () => {
    const { dir, run } = await quirkRun(
      'quirks-beckhoff-wip',
      ALL,
      {
        intpin: 'applied',
        'nvidia-mirror': 'already-applied',
        'hide-hypervisor': 'refused',
        'mmio64=256G': 'applied',
      },
      [QUIRKS, EMUL],
    );
    assert.match(run.quirks[2]?.reason ?? '', /never sets CPUID2_HV/);
    assert.equal(run.quirks[2]?.state, 'conflicting');
    const q = readTree(dir, QUIRKS);
    assert.equal(q.match(/passthru_set_bar_handler\(/g)?.length, 1, 'the existing mirror is not doubled');
    assert.doesNotMatch(q, /bhyve_gpu_mirror_read/);
  });

  it('no BAR handler API (14.x upstream): the mirror is refused with the reason, the rest applies', async () => {
    const { run } = await quirkRun(
      'quirks-14.3-no-handler',
      ALL,
      {
        intpin: 'applied',
        'nvidia-mirror': 'refused',
        'hide-hypervisor': 'applied',
        'mmio64=256G': 'applied',
      },
      [QUIRKS, 'usr.sbin/bhyve/Makefile', X86, EMUL],
    );
    assert.match(run.quirks[1]?.reason ?? '', /no BAR handler API \(passthru_set_bar_handler\)/);
    assert.equal(run.result, 'applied');
  });

  it('forks that conflict: forum mirror, KVM signature, fixed window: each refused with its reason, nothing written', async () => {
    const dir = tree('quirks-fork-conflicts');
    const before = snapshotTree(dir);
    const run = await runPatch(host, dir, {
      quirks: parseQuirkList('nvidia-mirror,hide-hypervisor,mmio64=64G'),
    });
    assert.equal(run.result, 'failed');
    assert.deepEqual(
      run.quirks.map((q) => [q.result, q.state]),
      [
        ['refused', 'conflicting'],
        ['refused', 'conflicting'],
        ['refused', 'conflicting'],
      ],
    );
    assert.match(run.quirks[0]?.reason ?? '', /0x880000/);
    assert.match(run.quirks[1]?.reason ?? '', /KVMKVMKVM/);
    assert.match(run.quirks[2]?.reason ?? '', /PCI_EMUL_MEMSIZE64/);
    assert.deepEqual(snapshotTree(dir), before);
  });

  it('without --partial one refused quirk writes nothing at all', async () => {
    const dir = tree('quirks-14.3-no-handler');
    const before = snapshotTree(dir);
    const run = await runPatch(host, dir, { quirks: parseQuirkList(ALL) });
    assert.equal(run.result, 'failed');
    assert.equal(run.written, false);
    assert.deepEqual(snapshotTree(dir), before);
  });

  it('mmio64 with another SIZE later: only the default changes; the record keeps one mmio64 word', async () => {
    const dir = tree('quirks-main-uint64');
    await runPatch(host, dir, { quirks: parseQuirkList('mmio64=128G') });
    const run = await runPatch(host, dir, { quirks: parseQuirkList('hide-hypervisor,mmio64=1T') });
    assert.equal(run.result, 'applied');
    assert.match(run.quirks[1]?.detail ?? '', /from 128G to 1T/);
    assert.match(readTree(dir, EMUL), /BHYVE_GPU_MMIO64_DEFAULT\t"1T"/);
    assert.equal(readTree(dir, EMUL).match(/bhyve_gpu_mmio64_size\(void\)/g)?.length, 1);
    const record = await readPatchRecord(host, dir);
    assert.deepEqual(record?.quirks, ['mmio64=1T', 'hide-hypervisor']);
    assert.deepEqual(record?.files.map((f) => f.path).sort(), [EMUL, X86].sort());
  });
});

describe('--quirk words', () => {
  it('canonical words, sizes and usage errors', () => {
    assert.deepEqual(
      parseQuirkList(' intpin, mmio64=1024g ,hide-hypervisor').map((q) => q.word),
      ['intpin', 'mmio64=1T', 'hide-hypervisor'],
    );
    for (const bad of [
      'mmio64=48G',
      'mmio64=16G',
      'mmio64',
      'mmio64=256',
      'turbo',
      'intpin,intpin',
      'intpin=1',
      '',
    ])
      assert.throws(() => parseQuirkList(bad), UsageError, bad);
  });
});

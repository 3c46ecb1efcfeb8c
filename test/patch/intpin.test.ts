import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ToolError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local.js';
import { cProblems, loadCParser } from '../../src/patch/csyntax.js';
import { PATCH_RECORD_PATH, runPatch } from '../../src/patch/run.js';
import { inspectTree } from '../../src/srctree/layout.js';
import { copyTree, dropTree, readTree, snapshotTree } from './trees.js';

const host = new LocalHost();
const QUIRKS = 'usr.sbin/bhyve/pci_passthru_quirks.c';
const INC = 'usr.sbin/bhyve/amd64/Makefile.inc';
const MK = 'usr.sbin/bhyve/Makefile';
const dirs: string[] = [];
const tree = (name: string) => {
  const d = copyTree(name);
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) dropTree(d);
});

async function parsesClean(text: string): Promise<void> {
  assert.deepEqual(cProblems(await loadCParser(), text), []);
}

/** Apply, check, apply again: the second run must change nothing. */
async function applyTwice(dir: string) {
  const first = await runPatch(host, dir);
  assert.equal(first.result, 'applied', first.errors.join('\n'));
  assert.equal(first.written, true);
  const afterFirst = snapshotTree(dir);
  const second = await runPatch(host, dir);
  assert.equal(second.result, 'already-applied');
  assert.deepEqual(second.files, []);
  assert.deepEqual(snapshotTree(dir), afterFirst);
  const info = await inspectTree(host, dir);
  assert.equal(info.quirks.setsIntpin, true);
  assert.equal(info.quirks.listed, true);
  return first;
}

describe('built-in INTPIN quirk', () => {
  it('14.3 makefile-srcs: creates the quirks file and lists it in usr.sbin/bhyve/Makefile', async () => {
    const dir = tree('14.3-makefile-srcs');
    const run = await applyTwice(dir);
    assert.deepEqual(run.files, [
      { path: QUIRKS, status: 'created' },
      { path: MK, status: 'modified' },
    ]);
    const quirks = readTree(dir, QUIRKS);
    assert.match(quirks, /pci_host_read_config\(sel, PCIR_VENDOR, 2\) != BHYVE_GPU_NVIDIA_VENDOR/);
    assert.match(quirks, /pci_set_cfgdata8\(pi, PCIR_INTPIN, 1\);/);
    assert.doesNotMatch(quirks, /pci_lintr_request\s*\(/);
    await parsesClean(quirks);
    assert.match(
      readTree(dir, MK),
      /\tpci_passthru\.c\t\t\\\n\tpci_passthru_quirks\.c\t\\\n\tpci_uart\.c\t\t\\/,
    );
    const record = JSON.parse(readTree(dir, PATCH_RECORD_PATH));
    assert.equal(record.files.length, 2);
    assert.match(record.patchSha256, /^[0-9a-f]{64}$/);
    assert.equal(record.files[0].sha256Before, undefined);
    assert.match(record.files[1].sha256Before, /^[0-9a-f]{64}$/);
  });

  it('15.0 amd64 layout: lists it in amd64/Makefile.inc, in sorted place', async () => {
    const dir = tree('15.0-amd64-makefile-inc');
    const before = readTree(dir, MK);
    await applyTwice(dir);
    assert.equal(readTree(dir, MK), before);
    assert.match(
      readTree(dir, INC),
      /\tpci_passthru\.c\t\\\n\tpci_passthru_quirks\.c\t\\\n\tpctestdev\.c\t\\/,
    );
  });

  it('split tree: the Makefile that lists pci_passthru.c, not amd64/Makefile.inc', async () => {
    const dir = tree('14.3-split');
    const inc = readTree(dir, INC);
    await applyTwice(dir);
    assert.equal(readTree(dir, INC), inc);
    assert.match(readTree(dir, MK), /pci_passthru_quirks\.c/);
  });

  it('a quirks file with another vendor quirk: appends an NVIDIA entry, keeps the other', async () => {
    const dir = tree('15.0-other-quirk');
    const before = readTree(dir, QUIRKS);
    const run = await applyTwice(dir);
    assert.deepEqual(run.files, [{ path: QUIRKS, status: 'modified' }]);
    const text = readTree(dir, QUIRKS);
    assert.ok(text.startsWith(before));
    const info = await inspectTree(host, dir);
    assert.deepEqual(info.quirks.entries, ['example_nic', 'bhyve_gpu_nvidia']);
    assert.deepEqual(info.quirks.nvidiaEntries, ['bhyve_gpu_nvidia']);
    await parsesClean(text);
  });

  it('INTPIN already present: already-applied, nothing written, no record', async () => {
    const dir = tree('15.1-intpin-present');
    const before = snapshotTree(dir);
    const run = await runPatch(host, dir);
    assert.equal(run.result, 'already-applied');
    assert.deepEqual(snapshotTree(dir), before);
    assert.equal(existsSync(`${dir}/${PATCH_RECORD_PATH}`), false);
  });

  it('nvidia-wip config mirror: merges INTPIN into that entry (bhyve runs only the first match)', async () => {
    const dir = tree('beckhoff-nvidia-wip');
    const run = await applyTwice(dir);
    assert.deepEqual(run.files, [{ path: QUIRKS, status: 'modified' }]);
    const text = readTree(dir, QUIRKS);
    const info = await inspectTree(host, dir);
    assert.deepEqual(info.quirks.nvidiaEntries, ['nvidia_gpu']);
    assert.equal(info.quirks.configMirror, true);
    assert.match(
      text,
      /\tint error;\n\n\t\/\* bhyve-gpu: [^\n]*\*\/\n\tpci_set_cfgdata8\(pi, PCIR_INTPIN, 1\);\n\n\t\(void\)nvl;/,
    );
    assert.equal(run.syntax.ok, true);
    assert.deepEqual(run.syntax.warnings, []);
    await parsesClean(text);
  });

  it('a quirks file that already fails to parse: merged, the old error is a warning', async () => {
    const dir = tree('beckhoff-missing-comma');
    const run = await runPatch(host, dir);
    assert.equal(run.result, 'applied');
    assert.equal(run.syntax.ok, true);
    assert.equal(run.syntax.warnings.length > 0, true);
    assert.match(run.syntax.warnings[0] ?? '', /pci_passthru_quirks\.c:\d+: parse problem already present/);
    assert.deepEqual(run.syntax.files[0]?.introduced, []);
  });

  it('13.x tree without the quirk framework: refuses clearly, writes nothing', async () => {
    const dir = tree('13.2-no-framework');
    const before = snapshotTree(dir);
    await assert.rejects(runPatch(host, dir), (e: unknown) => {
      assert.ok(e instanceof ToolError);
      assert.equal(e.code, 'tree-unsupported');
      assert.match(e.message, /PASSTHRU_DEV_SET/);
      return true;
    });
    assert.deepEqual(snapshotTree(dir), before);
  });

  it('dry run: shows the diff and writes nothing', async () => {
    const dir = tree('14.3-makefile-srcs');
    const before = snapshotTree(dir);
    const run = await runPatch(host, dir, { dryRun: true });
    assert.equal(run.result, 'applied');
    assert.equal(run.written, false);
    assert.deepEqual(snapshotTree(dir), before);
    assert.match(run.diff, /^--- \/dev\/null\n\+\+\+ b\/usr\.sbin\/bhyve\/pci_passthru_quirks\.c/m);
    assert.match(run.diff, /^\+\tpci_passthru_quirks\.c\t\\$/m);
  });
});

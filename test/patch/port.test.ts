import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ToolError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local.js';
import { blankAttributes, cProblems, loadCParser } from '../../src/patch/csyntax.js';
import { mergeIntoInit } from '../../src/patch/intpin.js';
import { PATCH_RECORD_PATH, runPatch } from '../../src/patch/run.js';
import { findPassthruEntries } from '../../src/srctree/cfunctions.js';
import { inspectTree } from '../../src/srctree/layout.js';
import { analyzeQuirks } from '../../src/srctree/quirks.js';
import { REPO_ROOT } from '../helpers/corpus.js';
import { copyTree, diffFixture, dropTree, readTree, snapshotTree, TREES } from './trees.js';

// Shapes seen in real trees that the first fixtures did not have: an upstream-form quirk whose init
// marks its nvlist parameter __unused (in a diff, and already in a tree), and a diff that creates the
// quirks file on a tree that already has one.

const host = new LocalHost();
const QUIRKS = 'usr.sbin/bhyve/pci_passthru_quirks.c';
const INC = 'usr.sbin/bhyve/amd64/Makefile.inc';
const MK = 'usr.sbin/bhyve/Makefile';
const UPSTREAM_FORM = diffFixture('intpin-quirk-unused.diff');
const PROJECT_FORM = diffFixture('intpin-quirk-amd64.diff');
const dirs: string[] = [];
const tree = (name: string) => {
  const d = copyTree(name);
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) dropTree(d);
});

describe('C syntax check and FreeBSD attribute macros', () => {
  it('blanks __unused, __packed, __aligned(n), __printflike(a, b) without moving anything', async () => {
    const text =
      'static int\nf(struct pci_devinst *const pi, nvlist_t *const nvl __unused)\n{\n\treturn (0);\n}\n' +
      'struct s { int x; } __packed __aligned(8);\nvoid g(const char *, ...) __printflike(1, 2);\n';
    const blanked = blankAttributes(text);
    assert.equal(blanked.length, text.length);
    assert.equal(blanked.split('\n').length, text.split('\n').length);
    assert.doesNotMatch(blanked, /__unused|__packed|__aligned|__printflike/);
    assert.match(blanked, /nvlist_t \*const nvl {9}\)/);
    assert.deepEqual(cProblems(await loadCParser(), text), []);
    // A real error next to a macro is still found.
    assert.notDeepEqual(cProblems(await loadCParser(), 'int\nf(int a __unused\n{\n\treturn (0);\n}\n'), []);
  });
});

describe('--patch with an upstream-form quirk (nvl __unused)', () => {
  it('ports it onto a 14.3 tree: new file parses, SRCS hunk moves to the Makefile, rerun is a no-op', async () => {
    const dir = tree('14.3-makefile-srcs');
    const first = await runPatch(host, dir, { patchText: UPSTREAM_FORM, patchName: 'upstream.diff' });
    assert.equal(first.result, 'applied', first.errors.join('\n'));
    assert.equal(first.syntax.ok, true);
    assert.deepEqual(first.syntax.files.find((f) => f.path === QUIRKS)?.after, []);
    assert.equal(first.hunks.find((h) => h.file === INC)?.remappedTo, MK);
    assert.match(readTree(dir, QUIRKS), /nvl __unused\)/);
    const snapshot = snapshotTree(dir);
    const second = await runPatch(host, dir, { patchText: UPSTREAM_FORM, patchName: 'upstream.diff' });
    assert.equal(second.result, 'already-applied');
    assert.deepEqual(snapshotTree(dir), snapshot);
  });

  it('applies as-is on a 15.0 amd64 tree', async () => {
    const dir = tree('15.0-amd64-makefile-inc');
    const run = await runPatch(host, dir, { patchText: UPSTREAM_FORM });
    assert.equal(run.result, 'applied', run.errors.join('\n'));
    assert.deepEqual(
      run.files.map((f) => [f.path, f.status]),
      [
        [INC, 'modified'],
        [QUIRKS, 'created'],
      ],
    );
  });
});

describe('--patch creating a quirks file the tree already has', () => {
  it('the tree already sets INTPIN (upstream form): already-applied for either diff, nothing written', async () => {
    const dir = tree('16.0-intpin-unused');
    const before = snapshotTree(dir);
    const info = await inspectTree(host, dir);
    assert.deepEqual(info.quirks.nvidiaEntries, ['gpu_quirk']);
    assert.equal(info.quirks.setsIntpin, true);
    assert.equal((await runPatch(host, dir)).result, 'already-applied');
    for (const patchText of [PROJECT_FORM, UPSTREAM_FORM]) {
      const run = await runPatch(host, dir, { patchText });
      assert.equal(run.result, 'already-applied', run.errors.join('\n'));
      const hunk = run.hunks.find((h) => h.file === QUIRKS);
      assert.equal(hunk?.status, 'already-applied');
    }
    const project = await runPatch(host, dir, { patchText: PROJECT_FORM });
    assert.match(
      project.hunks.find((h) => h.file === QUIRKS)?.ported ?? '',
      /gpu_quirk already sets PCIR_INTPIN/,
    );
    assert.deepEqual(snapshotTree(dir), before);
    assert.equal(existsSync(`${dir}/${PATCH_RECORD_PATH}`), false);
  });

  it('nvidia-wip config mirror: the diff is merged into the existing NVIDIA entry, not added beside it', async () => {
    const dir = tree('beckhoff-nvidia-wip');
    const run = await runPatch(host, dir, { patchText: UPSTREAM_FORM });
    assert.equal(run.result, 'applied', run.errors.join('\n'));
    const hunk = run.hunks.find((h) => h.file === QUIRKS);
    assert.equal(hunk?.status, 'applied');
    assert.equal(hunk?.ported, 'PCIR_INTPIN merged into nvidia_gpu_init()');
    const text = readTree(dir, QUIRKS);
    assert.deepEqual(
      findPassthruEntries(text).map((e) => e.name),
      ['nvidia_gpu'],
    );
    assert.match(readTree(dir, INC), /\tpci_passthru_quirks\.c\t+\\\n/);
    const info = await inspectTree(host, dir);
    assert.equal(info.quirks.setsIntpin, true);
    assert.equal(info.quirks.configMirror, true);
    assert.equal(info.quirks.listed, true);
    const snapshot = snapshotTree(dir);
    const again = await runPatch(host, dir, { patchText: UPSTREAM_FORM });
    assert.equal(again.result, 'already-applied');
    assert.deepEqual(snapshotTree(dir), snapshot);
  });

  it('a quirks file with only other vendors: still rejected, with the way out', async () => {
    const dir = tree('15.0-other-quirk');
    const run = await runPatch(host, dir, { patchText: UPSTREAM_FORM });
    assert.equal(run.result, 'failed');
    assert.match(run.errors.join('\n'), /already exists with other quirks \(run without --patch/);
  });
});

describe('--patch on a 13.x tree without the quirk framework', () => {
  it('a quirk diff is refused like the built-in quirk, nothing written', async () => {
    const dir = tree('13.2-no-framework');
    const before = snapshotTree(dir);
    for (const patchText of [PROJECT_FORM, UPSTREAM_FORM]) {
      await assert.rejects(runPatch(host, dir, { patchText }), (e: unknown) => {
        assert.ok(e instanceof ToolError);
        assert.equal(e.code, 'tree-unsupported');
        return true;
      });
    }
    assert.deepEqual(snapshotTree(dir), before);
  });

  it('CLI: exit 1 and a JSON failure document', () => {
    const dir = tree('13.2-no-framework');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'patch',
        '--src',
        dir,
        '--patch',
        `${TREES}/diffs/intpin-quirk-unused.diff`,
        '--json',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    );
    assert.equal(r.status, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.result, 'failed');
    assert.equal(doc.error.code, 'tree-unsupported');
  });
});

describe('quirk reading details', () => {
  const zeroQuirk = [
    '#define\tVENDOR_NV\t0x10DEU',
    '',
    'static int',
    'nv_probe(struct pci_devinst *const pi)',
    '{',
    '\tif (pci_host_read_config(passthru_get_sel(pi->pi_arg), PCIR_VENDOR, 2) != VENDOR_NV)',
    '\t\treturn (ENXIO);',
    '\treturn (0);',
    '}',
    '',
    'static int',
    'nv_init(struct pci_devinst *const dev, nvlist_t *const nvl __unused)',
    '{',
    '\tpci_set_cfgdata8(dev, PCIR_INTPIN, 1);',
    '\tpci_set_cfgdata8(dev, PCIR_INTPIN, 0);',
    '',
    '\treturn (0);',
    '}',
    '',
    'static struct passthru_dev nv = {',
    '\t.probe = nv_probe,',
    '\t.init = nv_init,',
    '};',
    'PASSTHRU_DEV_SET(nv);',
    '',
  ].join('\n');

  it('a vendor macro with an integer suffix is NVIDIA; the last INTPIN setting wins', () => {
    const q = analyzeQuirks(zeroQuirk);
    assert.deepEqual(q.nvidiaEntries, ['nv']);
    assert.equal(q.setsIntpin, false);
    assert.equal(analyzeQuirks(zeroQuirk.replace('PCIR_INTPIN, 0)', 'PCIR_INTPIN, 2)')).setsIntpin, true);
  });

  it('merging into an init that sets INTPIN to 0 turns that setting into 1', async () => {
    const merged = mergeIntoInit(zeroQuirk, 'nv_init') ?? '';
    assert.match(
      merged,
      /\tpci_set_cfgdata8\(dev, PCIR_INTPIN, 1\);\n\t\/\* bhyve-gpu: [^\n]*\*\/\n\tpci_set_cfgdata8\(dev, PCIR_INTPIN, 1\);\n/,
    );
    assert.equal(analyzeQuirks(merged).setsIntpin, true);
    assert.deepEqual(cProblems(await loadCParser(), merged), []);
  });
});

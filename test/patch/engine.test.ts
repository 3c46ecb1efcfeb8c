import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyUnifiedDiff } from '../../src/patch/engine.js';
import { stripPath } from '../../src/patch/paths.js';
import type { TreeReader } from '../../src/patch/types.js';
import { diffFixture, snapshotTree, TREES } from './trees.js';

function reader(files: Record<string, string>): TreeReader {
  return async (path) => files[path];
}

const D51892_SHAPED = diffFixture('intpin-quirk-amd64.diff');
const QUIRKS = 'usr.sbin/bhyve/pci_passthru_quirks.c';
const INC = 'usr.sbin/bhyve/amd64/Makefile.inc';
const MK = 'usr.sbin/bhyve/Makefile';

describe('applyUnifiedDiff', () => {
  it('applies the D51892-shaped diff as-is on a 15.0 tree (amd64/Makefile.inc)', async () => {
    const files = snapshotTree(`${TREES}/15.0-amd64-makefile-inc`);
    const r = await applyUnifiedDiff(D51892_SHAPED, reader(files), { srcsFile: INC });
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.hunks.map((h) => [h.file, h.status]),
      [
        [INC, 'applied'],
        [QUIRKS, 'applied'],
      ],
    );
    const inc = r.changes.find((c) => c.path === INC);
    assert.match(inc?.after ?? '', /\tpci_passthru\.c\t\\\n\tpci_passthru_quirks\.c\t\\\n\tpctestdev\.c/);
    const created = r.changes.find((c) => c.path === QUIRKS);
    assert.equal(created?.before, undefined);
    assert.match(created?.after ?? '', /PASSTHRU_DEV_SET\(bhyve_gpu_nvidia\);\n$/);
  });

  it('ports it to a 14.3 tree: the amd64/Makefile.inc hunk moves onto usr.sbin/bhyve/Makefile', async () => {
    const files = snapshotTree(`${TREES}/14.3-makefile-srcs`);
    const r = await applyUnifiedDiff(D51892_SHAPED, reader(files), { srcsFile: MK });
    assert.equal(r.ok, true);
    const hunk = r.hunks.find((h) => h.file === INC);
    assert.equal(hunk?.status, 'applied');
    assert.equal(hunk?.remappedTo, MK);
    assert.deepEqual(r.changes.map((c) => c.path).sort(), [MK, QUIRKS]);
    const mk = r.changes.find((c) => c.path === MK)?.after ?? '';
    assert.match(mk, /\tpci_passthru\.c\t\t\\\n\tpci_passthru_quirks\.c\t\\\n\tpci_uart\.c/);
  });

  it('ports it to a split tree (amd64/Makefile.inc exists but lacks pci_passthru.c)', async () => {
    const files = snapshotTree(`${TREES}/14.3-split`);
    const r = await applyUnifiedDiff(D51892_SHAPED, reader(files), { srcsFile: MK });
    assert.equal(r.ok, true);
    assert.equal(r.hunks[0]?.remappedTo, MK);
    assert.equal(
      r.changes.some((c) => c.path === INC),
      false,
    );
  });

  it('reports every hunk already applied on a patched tree and changes nothing', async () => {
    const files = snapshotTree(`${TREES}/15.0-amd64-makefile-inc`);
    const first = await applyUnifiedDiff(D51892_SHAPED, reader(files), { srcsFile: INC });
    for (const c of first.changes) files[c.path] = c.after;
    const second = await applyUnifiedDiff(D51892_SHAPED, reader(files), { srcsFile: INC });
    assert.equal(second.ok, true);
    assert.deepEqual(
      second.hunks.map((h) => h.status),
      ['already-applied', 'already-applied'],
    );
    assert.deepEqual(second.changes, []);
  });

  it('finds a hunk at an offset and with fuzz', async () => {
    const files = snapshotTree(`${TREES}/15.0-amd64-makefile-inc`);
    const inc = files[INC] ?? '';
    const shifted = { ...files, [INC]: `# local comment\n# another\n${inc}` };
    const r1 = await applyUnifiedDiff(D51892_SHAPED, reader(shifted), { srcsFile: INC });
    assert.equal(r1.hunks[0]?.status, 'offset');
    assert.equal(r1.hunks[0]?.offset, 2);
    // a changed first and last context line: applies with fuzz 1
    const changed = inc
      .replace('\tpci_gvt-d.c\t\\', '\tpci_gvt_d.c\t\\')
      .replace('\tpost.c\t\t\\', '\tpost2.c\t\t\\');
    const r2 = await applyUnifiedDiff(D51892_SHAPED, reader({ ...files, [INC]: changed }), { srcsFile: INC });
    assert.equal(r2.hunks[0]?.status, 'fuzz');
    assert.equal(r2.hunks[0]?.fuzz, 1);
    assert.match(
      r2.changes.find((c) => c.path === INC)?.after ?? '',
      /pci_gvt_d\.c[\s\S]*pci_passthru_quirks\.c[\s\S]*post2\.c/,
    );
  });

  it('rejects a hunk whose context is gone, writes nothing unless partial', async () => {
    const files = snapshotTree(`${TREES}/15.0-amd64-makefile-inc`);
    const diff = `--- a/${INC}\n+++ b/${INC}\n@@ -1,3 +1,3 @@\n-NOT_THERE=1\n+NOT_THERE=2\n context\n other\n`;
    const combined = `${diff}${D51892_SHAPED.slice(D51892_SHAPED.indexOf('diff --git a/usr.sbin/bhyve/pci_passthru_quirks.c'))}`;
    const r = await applyUnifiedDiff(combined, reader(files), { srcsFile: INC });
    assert.equal(r.ok, false);
    assert.equal(r.hunks[0]?.status, 'rejected');
    assert.match(r.hunks[0]?.reject ?? '', /context not found\n@@ -1,3 \+1,3 @@\n-NOT_THERE=1/);
    assert.deepEqual(r.changes, []);
    const partial = await applyUnifiedDiff(combined, reader(files), { srcsFile: INC, partial: true });
    assert.deepEqual(
      partial.changes.map((c) => c.path),
      [QUIRKS],
    );
  });

  it('rejects creating a file that exists with other content', async () => {
    const files = snapshotTree(`${TREES}/15.0-other-quirk`);
    const r = await applyUnifiedDiff(D51892_SHAPED, reader(files), { srcsFile: INC });
    const hunk = r.hunks.find((h) => h.file === QUIRKS);
    assert.equal(hunk?.status, 'rejected');
    assert.match(hunk?.reject ?? '', /already exists/);
  });
});

describe('applyUnifiedDiff on bad input', () => {
  it('throws a ParseError for text that is not a diff or has broken hunk counts', async () => {
    const none = async () => undefined;
    await assert.rejects(applyUnifiedDiff('hello\nworld\n', none), { name: 'ParseError' });
    const broken = '--- a/x.c\n+++ b/x.c\n@@ -1,5 +1,5 @@\n-a\n+b\n';
    await assert.rejects(applyUnifiedDiff(broken, none), { name: 'ParseError' });
  });
});

describe('stripPath', () => {
  it('strips git prefixes, -p levels, timestamps and /dev/null', () => {
    assert.equal(stripPath('a/usr.sbin/bhyve/Makefile'), 'usr.sbin/bhyve/Makefile');
    assert.equal(stripPath('src/usr.sbin/bhyve/Makefile\t2025-08-01 10:00:00', 1), 'usr.sbin/bhyve/Makefile');
    assert.equal(stripPath('/usr/src/usr.sbin/bhyve/Makefile', 2), 'usr.sbin/bhyve/Makefile');
    assert.equal(stripPath('/dev/null'), undefined);
  });
});

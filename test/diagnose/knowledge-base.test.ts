import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { diagnoseText } from '../../src/diagnose/engine.js';
import {
  checkSignatures,
  KB_FILES,
  knowledgeBaseFileSchema,
  loadKnowledgeBase,
  parseKnowledgeBase,
} from '../../src/diagnose/knowledge-base.js';
import type { Signature } from '../../src/diagnose/types.js';

const REQUIRED = [
  'guest.nvidia.no-irq',
  'guest.intx.no-route',
  'guest.nvidia.rm-init-failed',
  'guest.nvidia.probe-failed',
  'guest.nvidia.fallen-off-bus',
  'guest.nvidia.bar-invalid',
  'guest.nvidia.nouveau-bound',
  'guest.nvidia.drm-init-failed',
  'guest.nvidia.xid',
  'guest.nvidia.no-devices',
  'guest.nvidia.osinit-mapping',
  'guest.pci.d3cold',
  'guest.gpu.init-failed',
  'guest.windows.code43',
  'host.bhyve.not-ppt',
  'host.bhyve.memory-not-wired',
  'host.bhyve.setup-memory-failed',
  'host.bhyve.setup-memory-mismatch',
  'host.bhyve.bootrom-mmap-failed',
  'host.bhyve.passthru-bar-assert',
  'host.bhyve.nvidia-bar-map-failed',
  'host.bhyve.map-pptdev-mmio-failed',
  'host.bhyve.nvidia-mirror-handler-failed',
  'host.bhyve.dev-pci-denied',
  'host.vmbhyve.no-iommu',
  'host.vmbhyve.exit-status',
  'host.vmbhyve.unsupported-loader',
  'host.vmbhyve.vmm-not-initialised',
  'host.vmbhyve.vmm-load-failed',
];

function rawFile(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../src/diagnose/kb/${name}`, import.meta.url), 'utf8'));
}

describe('knowledge base', () => {
  it('every file matches the schema and passes the cross checks', () => {
    for (const f of KB_FILES) assert.equal(knowledgeBaseFileSchema.safeParse(rawFile(f)).success, true, f);
    const kb = loadKnowledgeBase();
    assert.deepEqual(checkSignatures(kb), []);
  });

  it('has every required signature id', () => {
    const ids = new Set(loadKnowledgeBase().map((s) => s.id));
    for (const id of REQUIRED) assert.ok(ids.has(id), id);
  });

  it('finds each signature in its own example lines through the engine (prefilter included)', () => {
    // One input per example line, all in one run: each input's findings are told apart by file name.
    const kb = loadKnowledgeBase();
    const inputs = kb.flatMap((s, i) =>
      s.examples.map((ex, j) => ({ name: `${i}.${j}`, text: `[   12.345678] ${ex}\n` })),
    );
    const found = new Set<string>();
    for (const f of diagnoseText(inputs).findings) for (const e of f.evidence) found.add(`${f.id} ${e.file}`);
    kb.forEach((s, i) => {
      s.examples.forEach((ex, j) => {
        const report = found.has(`${s.id} ${i}.${j}`)
          ? undefined
          : diagnoseText([{ name: 'example', text: `[   12.345678] ${ex}\n` }]);
        assert.ok(
          report === undefined || report.findings.some((f) => f.id === s.id),
          `${s.id} not found in: ${ex}`,
        );
      });
    });
  });

  it('rejects a signature with a missing field or an unknown severity', () => {
    const good = loadKnowledgeBase()[0] as Signature;
    const { title: _dropped, ...noTitle } = good;
    assert.throws(
      () => parseKnowledgeBase(JSON.stringify({ signatures: [noTitle] }), 'x.json'),
      /x\.json: signatures\.0\.title/,
    );
    const badSeverity = { ...good, severity: 'fatal' };
    assert.throws(
      () => parseKnowledgeBase(JSON.stringify({ signatures: [badSeverity] }), 'y.json'),
      /y\.json: signatures\.0\.severity/,
    );
  });

  it('flags non-portable patterns, unknown consequence ids and examples that do not match', () => {
    const good = loadKnowledgeBase()[0] as Signature;
    const problems = checkSignatures([
      { ...good, patterns: ['\\d+ failed'], consequenceOf: ['no.such.id'], examples: ['nothing here'] },
    ]);
    assert.ok(problems.some((p) => p.includes('grep -E')));
    assert.ok(problems.some((p) => p.includes('unknown id no.such.id')));
    assert.ok(problems.some((p) => p.includes('example not matched')));
  });

  it('lists every hand-written signature id and every catalog family in docs/knowledge-base.md', () => {
    const doc = readFileSync(new URL('../../docs/knowledge-base.md', import.meta.url), 'utf8');
    for (const s of loadKnowledgeBase()) {
      // Catalog-derived signatures are documented by their family (id prefix), not one by one.
      const id = s.catalog === undefined ? s.id : s.id.slice(0, s.id.lastIndexOf('.'));
      assert.ok(doc.includes(`\`${id}\``), id);
    }
  });

  it("gives each hand-written signature's severity and root-cause rule as the docs' signature table does", () => {
    const doc = readFileSync(new URL('../../docs/knowledge-base.md', import.meta.url), 'utf8');
    const rows = new Map<string, string[]>();
    for (const line of doc.slice(doc.indexOf('## Signatures')).split('\n')) {
      const cells = line.split('|').map((c) => c.trim());
      if (cells.length >= 6 && cells[1]?.startsWith('`')) rows.set(cells[1].slice(1, -1), cells.slice(2, 4));
    }
    let checked = 0;
    for (const s of loadKnowledgeBase()) {
      const row = rows.get(s.id);
      if (s.catalog !== undefined || row === undefined) continue;
      const rule = !s.rootCause ? 'no' : s.consequenceOf.length === 0 ? 'yes' : 'unless a listed cause fired';
      assert.deepEqual(row, [s.severity, rule], s.id);
      checked++;
    }
    assert.ok(checked > 40, `only ${checked} rows read`);
  });

  it('keeps the INTx routing signature at info severity', () => {
    const s = loadKnowledgeBase().find((x) => x.id === 'guest.intx.no-route');
    assert.equal(s?.severity, 'info');
  });
});

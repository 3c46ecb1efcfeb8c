import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  effectivePptdevs,
  ensureVmmLoad,
  loaderConfFiles,
  PPTDEVS_VALUE_LIMIT,
  parseBsf,
  planPptdevs,
  VMM_KLD_LIST_WARNING,
  vmmLoadState,
  vmmLoadWarning,
} from '../../src/conf/loader-conf.js';
import { ToolError, UsageError } from '../../src/errors.js';
import { corpus, corpusFile, fixture } from '../helpers/corpus.js';

const conf = (text: string, path = '/boot/loader.conf') => ({ path, text });

describe('loader.conf: files and effective pptdevs', () => {
  it('orders loader.conf, loader.conf.d/*.conf by name, then loader.conf.local', () => {
    assert.deepEqual(loaderConfFiles(['zz.conf', 'README', 'gpu.conf', '.hidden.conf', 'a.conf.bak']), [
      '/boot/loader.conf',
      '/boot/loader.conf.d/gpu.conf',
      '/boot/loader.conf.d/zz.conf',
      '/boot/loader.conf.local',
    ]);
    assert.deepEqual(loaderConfFiles(), ['/boot/loader.conf', '/boot/loader.conf.local']);
  });

  it('reads pptdevs, pptdevs2 and pptdevs3 with file and line', () => {
    const text = corpusFile('loader-conf', 'hoster-docs-pptdevs-pptdevs2-pptdevs3.txt').body;
    const e = effectivePptdevs([conf(text)]);
    assert.deepEqual(
      e.combined.map((x) => [x.text, x.variable, x.line]),
      [
        ['2/0/0', 'pptdevs', 1],
        ['1/2/6', 'pptdevs', 1],
        ['4/9/0', 'pptdevs', 1],
        ['123/5/0', 'pptdevs2', 2],
        ['123/8/0', 'pptdevs2', 2],
        ['200/2/0', 'pptdevs3', 3],
        ['200/3/0', 'pptdevs3', 3],
      ],
    );
    assert.deepEqual(e.warnings, []);
  });

  it('reads every corpus loader.conf without throwing; prose lines become warnings', () => {
    for (const c of corpus('loader-conf')) {
      const e = effectivePptdevs([conf(c.body)]);
      for (const x of e.combined) assert.ok(x.bsf, `${c.name}: ${x.text}`);
    }
    const rtx = effectivePptdevs([
      conf(corpusFile('loader-conf', 'vmbhyve-issue546-pptdevs-rtx2080ti-4func.txt').body),
    ]);
    assert.deepEqual(
      rtx.byVariable.pptdevs?.entries.map((x) => x.bsf?.id),
      ['2/0/0', '2/0/1', '2/0/2', '2/0/3'],
    );
    assert.match(rtx.warnings[0] ?? '', /loader\.conf:1: /);
    assert.equal(
      effectivePptdevs([conf(corpusFile('loader-conf', 'cloudatlas-loader-vmm-only.txt').body)]).combined
        .length,
      0,
    );
  });

  it('a later file overrides an earlier one', () => {
    const e = effectivePptdevs([
      conf('pptdevs="1/0/0"\n'),
      conf('pptdevs="3/0/0 3/0/1"\n', '/boot/loader.conf.local'),
    ]);
    assert.deepEqual(
      e.combined.map((x) => [x.text, x.file]),
      [
        ['3/0/0', '/boot/loader.conf.local'],
        ['3/0/1', '/boot/loader.conf.local'],
      ],
    );
  });

  it('validates B/S/F syntax and ranges', () => {
    assert.deepEqual(parseBsf('01/2/3'), { bus: 1, slot: 2, func: 3, id: '1/2/3' });
    for (const bad of ['256/0/0', '1/32/0', '1/0/8', '0x1/0/0', '1:0:0', '1/0', 'pci0:1:0:0']) {
      assert.equal(typeof parseBsf(bad), 'string', bad);
      assert.throws(() => planPptdevs([], { add: [bad], remove: [] }), UsageError);
    }
    const e = effectivePptdevs([conf('pptdevs="1/0/0 1/40/0"\n')]);
    assert.equal(e.combined[1]?.bsf, undefined);
    assert.match(e.warnings[0] ?? '', /1\/40\/0/);
  });
});

describe('loader.conf: planPptdevs', () => {
  it('adds to the existing pptdevs line only, and removing restores the bytes', () => {
    const text = fixture('conf', 'loader.conf');
    const plan = planPptdevs([conf(text)], { add: ['65/0/0', '2/0/1'], remove: [] });
    assert.equal(plan.changes.length, 1);
    const after = plan.changes[0]?.after ?? '';
    assert.equal(after, text.replace('pptdevs="2/0/0 2/0/1"', 'pptdevs="2/0/0 2/0/1 65/0/0"'));
    const back = planPptdevs([conf(after)], { add: [], remove: ['65/0/0'] });
    assert.equal(back.changes[0]?.after, text);
  });

  it('reserve then release gives back every corpus loader.conf byte for byte', () => {
    for (const c of corpus('loader-conf')) {
      for (const text of [c.body, c.body.replace(/\n/g, '\r\n'), c.body.replace(/\n$/, '')]) {
        const plan = planPptdevs([conf(text)], { add: ['250/31/7'], remove: [] });
        assert.equal(plan.changes.length, 1, c.name);
        const after = plan.changes[0]?.after ?? '';
        const changed = after.split(/\r?\n/).filter((l, i) => l !== text.split(/\r?\n/)[i]);
        assert.ok(
          changed.every((l) => l === '' || /^\s*pptdevs="/.test(l)),
          `${c.name}: ${changed.join(' | ')}`,
        );
        const back = planPptdevs([conf(after)], { add: [], remove: ['250/31/7'] });
        assert.equal(back.changes[0]?.after, text, c.name);
      }
    }
  });

  it('is idempotent: nothing to change when every device is reserved', () => {
    const text = corpusFile('loader-conf', 'cloudatlas-pptdevs-two.txt').body;
    assert.deepEqual(planPptdevs([conf(text)], { add: ['4/0/0', '1/0/0'], remove: [] }).changes, []);
  });

  it('appends pptdevs to a loader.conf without one, and creates a missing loader.conf', () => {
    const text = corpusFile('loader-conf', 'cloudatlas-loader-vmm-only.txt').body;
    const plan = planPptdevs([conf(text)], { add: ['1/0/0'], remove: [] });
    assert.equal(plan.changes[0]?.after, `${text}pptdevs="1/0/0"\n`);
    assert.equal(
      planPptdevs([conf(plan.changes[0]?.after ?? '')], { add: [], remove: ['1/0/0'] }).changes[0]?.after,
      text,
    );
    const created = planPptdevs([], { add: ['1/0/0'], remove: [] });
    assert.deepEqual(created.changes, [
      { path: '/boot/loader.conf', before: '', after: 'pptdevs="1/0/0"\n' },
    ]);
  });

  it('edits the file where pptdevs is defined', () => {
    const files = [conf('vmm_load="YES"\n'), conf('pptdevs="1/0/0"\n', '/boot/loader.conf.d/passthru.conf')];
    const plan = planPptdevs(files, { add: ['2/0/0'], remove: [] });
    assert.deepEqual(
      plan.changes.map((c) => [c.path, c.after]),
      [['/boot/loader.conf.d/passthru.conf', 'pptdevs="1/0/0 2/0/0"\n']],
    );
  });

  it('writes loader syntax: double quotes, no sh escapes, digits may stay bare', () => {
    const plan = planPptdevs([conf('pptdevs=1/0/0\nhw.vmm.amdvi.enable=1\n')], {
      add: ['2/0/0'],
      remove: [],
    });
    assert.equal(plan.changes[0]?.after, 'pptdevs="1/0/0 2/0/0"\nhw.vmm.amdvi.enable=1\n');
    assert.equal(ensureVmmLoad('vmm_load=NO\n'), 'vmm_load="YES"\n');
  });

  it('drops duplicates and unsets a continuation variable that becomes empty', () => {
    const text = 'pptdevs="2/0/0 2/0/0 1/2/6"\npptdevs2="123/5/0"\n';
    const plan = planPptdevs([conf(text)], { add: ['1/2/6'], remove: ['123/5/0'] });
    assert.equal(plan.changes[0]?.after, 'pptdevs="2/0/0 1/2/6"\n');
  });

  it('splits entries longer than 128 characters into pptdevs2 and pptdevs3, and refuses beyond', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `${100 + i}/10/${i % 8}`);
    const plan = planPptdevs([conf('vmm_load="YES"\n')], { add: ids, remove: [] });
    const values = [plan.values.pptdevs, plan.values.pptdevs2, plan.values.pptdevs3];
    for (const v of values)
      assert.ok(v !== undefined && v.length <= PPTDEVS_VALUE_LIMIT && v.length > 100, v);
    assert.deepEqual(values.join(' ').split(' '), ids);
    const after = plan.changes[0]?.after ?? '';
    assert.match(after, /^vmm_load="YES"\npptdevs="100\/10\/0 [^"]*"\npptdevs2="[^"]+"\npptdevs3="[^"]+"\n$/);
    assert.deepEqual(
      effectivePptdevs([conf(after)]).combined.map((x) => x.text),
      ids,
    );
    const more = Array.from({ length: 20 }, (_, i) => `${200 + i}/10/0`);
    assert.throws(
      () => planPptdevs([conf(after)], { add: more, remove: [] }),
      (e: unknown) => e instanceof ToolError && e.code === 'pptdevs-full',
    );
  });
});

describe('loader.conf: vmm loading', () => {
  it('ensureVmmLoad sets vmm_load="YES" once', () => {
    const vmmOnly = corpusFile('loader-conf', 'cloudatlas-loader-vmm-only.txt').body;
    assert.equal(ensureVmmLoad(vmmOnly), vmmOnly);
    const text = corpusFile('loader-conf', 'cloudatlas-pptdevs-two.txt').body;
    assert.equal(ensureVmmLoad(text), `${text}vmm_load="YES"\n`);
    assert.equal(ensureVmmLoad('vmm_load="NO" # off\n'), 'vmm_load="YES" # off\n');
    assert.equal(ensureVmmLoad('vmm_load="yes"\n'), 'vmm_load="yes"\n');
  });

  it('tells loader, kld_list-only and absent apart', () => {
    const rc = fixture('conf', 'rc.conf');
    assert.equal(vmmLoadState([conf(fixture('conf', 'loader.conf'))], rc), 'loader');
    const noVmm = corpusFile('loader-conf', 'cloudatlas-pptdevs-two.txt').body;
    assert.equal(vmmLoadState([conf(noVmm)], rc), 'kld_list-only');
    assert.equal(vmmLoadWarning('kld_list-only'), VMM_KLD_LIST_WARNING);
    assert.equal(vmmLoadState([conf(noVmm)], 'kld_list="nmdm vmm.ko"\n'), 'kld_list-only');
    assert.equal(vmmLoadState([conf(noVmm)], 'kld_list="nmdm vmmx"\n'), 'absent');
    assert.equal(
      vmmLoadState([conf('vmm_load="YES"\n'), conf('vmm_load="NO"\n', '/boot/loader.conf.local')], ''),
      'absent',
    );
    assert.equal(vmmLoadWarning('loader'), undefined);
  });
});

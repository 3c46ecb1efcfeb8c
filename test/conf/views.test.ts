import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBhyveId } from '../../src/bhyve/ids.js';
import { readBsf } from '../../src/conf/bsf.js';
import { parseBsf } from '../../src/conf/loader-files.js';
import { effectivePptdevs, kernelValueLimit, planPptdevs } from '../../src/conf/pptdevs.js';
import { parseShDoc, printShDoc, readShDoc, set } from '../../src/conf/shedit.js';
import { loaderValue, loaderView, loaderViews, parseShVars, vmBhyveLines } from '../../src/conf/views.js';
import { readVmBhyveConfig } from '../../src/conf/vm-layout.js';
import { ToolError } from '../../src/errors.js';

const conf = (text: string, path = '/boot/loader.conf') => ({ path, text });
const loaderGet = (text: string, key: string) => loaderValue(loaderView(text), key)?.value;

describe('one B/S/F reader for arguments and files', () => {
  const table = [
    '1/0/0',
    '01/2/3',
    '255/31/7',
    '256/0/0',
    '1/32/0',
    '1/0/8',
    'garbage',
    '7/x/0',
    '1/0',
    ' 1/0/0',
    '1/0/0x',
  ];
  it('parseBhyveId (CLI) and parseBsf (files) agree with readBsf on every input', () => {
    for (const t of table) {
      const r = readBsf(t);
      const file = parseBsf(t);
      if (r.ok) {
        assert.deepEqual(file, { bus: r.bus, slot: r.slot, func: r.func, id: r.id }, t);
        assert.deepEqual(parseBhyveId(t), { domain: 0, bus: r.bus, slot: r.slot, function: r.func }, t);
      } else {
        assert.equal(file, r.message, t);
        if (t.trim() !== t) continue; // the CLI trims what a user typed
        if (r.kind === 'range') assert.throws(() => parseBhyveId(t), ToolError, t);
        else assert.equal(parseBhyveId(t), undefined, t);
      }
    }
    assert.deepEqual(readBsf('01/2/3'), { ok: true, bus: 1, slot: 2, func: 3, id: '1/2/3' });
    assert.deepEqual(readBsf('999/0/0'), {
      ok: false,
      kind: 'range',
      message: '"999/0/0" is out of range (bus 0-255, slot 0-31, function 0-7)',
    });
  });
});

describe('each file is parsed once per command', () => {
  it('readers share one parse; an editor gets its own copy', () => {
    const text = 'pptdevs="1/0/0"\nvmm_load="YES"\n';
    assert.equal(readShDoc(text, '/boot/loader.conf'), readShDoc(text, '/boot/loader.conf'));
    const doc = parseShDoc(text, '/boot/loader.conf', { loader: true });
    set(doc, 'pptdevs', '2/0/0');
    assert.equal(printShDoc(doc), 'pptdevs="2/0/0"\nvmm_load="YES"\n');
    assert.equal(printShDoc(readShDoc(text, '/boot/loader.conf')), text);
    assert.equal(loaderGet(text, 'pptdevs'), '1/0/0');
  });
});

describe('the boot loader view (stand/lua/config.lua)', () => {
  it('reads double quotes, bare words and blanks around =; CRLF is white space to it', () => {
    const text = 'vmm_load="YES"\r\nhw.vmm.amdvi.enable=1\r\n  pptdevs = "1/0/0 2/0/0"   # the GPU\r\n';
    assert.equal(loaderGet(text, 'vmm_load'), 'YES');
    assert.equal(loaderGet(text, 'hw.vmm.amdvi.enable'), '1');
    assert.equal(loaderGet(text, 'pptdevs'), '1/0/0 2/0/0');
    assert.deepEqual(loaderView(text).skipped, []);
  });

  it('skips single quotes, an unquoted B/S/F list, a `;` after the value, and keeps the earlier value', () => {
    const text = [
      'pptdevs="1/0/0"',
      "pptdevs='2/0/0'",
      'pptdevs=3/0/0',
      'pptdevs="4/0/0";',
      "vmm_load='YES'",
      '_private="x"',
      '',
    ].join('\n');
    const view = loaderView(text, '/boot/loader.conf');
    assert.equal(loaderValue(view, 'pptdevs')?.value, '1/0/0');
    assert.equal(loaderValue(view, 'vmm_load'), undefined);
    assert.deepEqual(
      view.skipped.map((s) => s.line),
      [2, 3, 4, 5, 6],
    );
    assert.match(view.skipped[0]?.reason ?? '', /single quotes/);
    // sh reads every one of them: the views disagree, which is what doctor and attach report.
    assert.equal(parseShVars(text).assignments.filter((a) => a.key === 'pptdevs').length, 4);
  });

  it('takes the quoted value to the last quote, resolves backslashes and $variables', () => {
    assert.equal(loaderGet('a="x\\y"\n', 'a'), 'xy');
    const env = loaderViews([
      conf('base="1/0/0"\n'),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the loader's own ${name} syntax
      conf('pptdevs="${base} 2/0/0"\n', '/boot/loader.conf.local'),
    ]);
    assert.equal(loaderValue(env, 'pptdevs')?.value, '1/0/0 2/0/0');
    // A quote in a trailing comment makes the value hold a quote: "Failed to parse variable", not set.
    const odd = loaderView('pptdevs="1/0/0" # was "3/0/0"\n');
    assert.equal(loaderValue(odd, 'pptdevs'), undefined);
    assert.match(odd.skipped[0]?.reason ?? '', /Failed to parse variable/);
  });
});

describe('pptdevs as the kernel reads it', () => {
  const ids = (n: number, from = 100) => Array.from({ length: n }, (_, i) => `${from + i}/0/0`).join(' ');
  it('a value over KENV_MNAMELEN + 1 + KENV_MVALLEN minus the name is lost whole, naming its entries', () => {
    assert.equal(kernelValueLimit('pptdevs'), 249);
    assert.equal(kernelValueLimit('pptdevs2'), 248);
    const fits = `${ids(31)} 1/0/0 9/0/0`.slice(0, 249).trim();
    assert.ok(fits.length <= 249);
    assert.equal(
      effectivePptdevs([conf(`pptdevs="${fits}"\n`)]).combined.some((e) => e.lost),
      false,
    );
    const long = `${ids(31)} 1/0/0 2/0/0`;
    assert.ok(long.length > 249, `${long.length}`);
    const e = effectivePptdevs([conf(`vmm_load="YES"\npptdevs="${long}"\n`)]);
    assert.equal(e.combined.length, 33);
    assert.ok(e.combined.every((x) => x.lost?.includes('too long kenv string')));
    assert.match(e.warnings.join('\n'), /1\/0\/0 2\/0\/0 never reach vmm/);
    // An edit splits it into pptdevs, pptdevs2 and pptdevs3 of at most 128 characters each.
    const plan = planPptdevs([conf(`vmm_load="YES"\npptdevs="${long}"\n`)], { add: ['3/0/0'], remove: [] });
    const after = plan.changes[0]?.after ?? '';
    assert.equal(after.match(/\d+\/0\/0/g)?.length, 34);
    assert.match(after, /^pptdevs2="/m);
    assert.match(after, /^pptdevs3="/m);
    assert.equal(effectivePptdevs([conf(after)]).combined.filter((x) => x.lost).length, 0);
  });

  it('splits at spaces only, as vmm_is_pptdev does: a tab joins two ids into one unreadable entry', () => {
    const e = effectivePptdevs([conf('pptdevs="1/0/0\t2/0/0 3/0/0"\n')]);
    assert.deepEqual(
      e.combined.map((x) => [x.text, x.bsf?.id]),
      [
        ['1/0/0\t2/0/0', undefined],
        ['3/0/0', '3/0/0'],
      ],
    );
  });

  it('removes unparsable and out-of-range entries as written', () => {
    const text = 'pptdevs="1/0/0 garbage 7/x/0 999/0/0"\n';
    const plan = planPptdevs([conf(text)], { add: [], remove: ['garbage', '7/x/0', '999/0/0'] });
    assert.equal(plan.changes[0]?.after, 'pptdevs="1/0/0"\n');
  });
});

describe('the vm-bhyve view', () => {
  it('keeps the CR of a CRLF line, the first line of a key wins, cut at #, quotes deleted', () => {
    const text = 'loader="uefi"\r\nloader="bhyveload"\r\nwired_memory="yes" # pin\r\n  cpu=8\r\n';
    const c = readVmBhyveConfig(text);
    assert.equal(c.get('loader'), 'uefi\r');
    assert.equal(c.get('wired_memory'), 'yes');
    assert.equal(c.get('cpu'), undefined);
    assert.deepEqual(vmBhyveLines('a="1"\nb="x"y"\n'), ['a=1', 'b=xy']);
  });
});

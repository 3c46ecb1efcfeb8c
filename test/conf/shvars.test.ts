import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { append, get, parseShDoc, printShDoc, set, unset } from '../../src/conf/shedit.js';
import { ToolError } from '../../src/errors.js';
import { corpus, fixture } from '../helpers/corpus.js';

const texts = [...corpus('loader-conf'), ...corpus('vm-conf')].map((c) => ({ name: c.name, text: c.body }));
const fixtures = ['loader.conf', 'rc.conf', 'guest-windows.conf', 'rc-path.conf'].map((n) => ({
  name: n,
  text: fixture('conf', n),
}));

/** Every text also as CRLF and without its final newline. */
function variants(t: { name: string; text: string }): { name: string; text: string }[] {
  return [
    t,
    { name: `${t.name} (CRLF)`, text: t.text.replace(/\n/g, '\r\n') },
    { name: `${t.name} (no final newline)`, text: t.text.replace(/\r?\n$/, '') },
  ];
}

const reprint = (text: string): string => printShDoc(parseShDoc(text));

describe('shvars: lossless round trip', () => {
  for (const t of [...texts, ...fixtures].flatMap(variants)) {
    it(`prints ${t.name} back byte for byte`, () => {
      assert.equal(reprint(t.text), t.text);
    });
    it(`set then unset of a fresh key restores ${t.name}`, () => {
      const doc = parseShDoc(t.text);
      set(doc, 'bhyve_gpu_probe', 'a "quoted" $value');
      assert.notEqual(printShDoc(doc), t.text);
      unset(doc, 'bhyve_gpu_probe');
      assert.equal(printShDoc(doc), t.text);
    });
  }
});

describe('shvars: edits', () => {
  it('replaces the last assignment in place and keeps untouched lines', () => {
    const text = fixture('conf', 'loader.conf');
    const doc = parseShDoc(text);
    set(doc, 'vmm_load', 'NO');
    const out = printShDoc(doc).split('\n');
    const lines = text.split('\n');
    assert.equal(out.length, lines.length);
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]?.startsWith('vmm_load='))
        assert.equal(out[i], 'vmm_load="NO"\t\t# must load before ppt(4) claims devices');
      else assert.equal(out[i], lines[i]);
    }
  });

  it('keeps unquoted and single-quoted styles when the value allows it', () => {
    const doc = parseShDoc("hw.vmm.amdvi.enable=1\nopts='-a -b'\n");
    set(doc, 'hw.vmm.amdvi.enable', '0');
    set(doc, 'opts', "-c '$x'");
    assert.equal(printShDoc(doc), 'hw.vmm.amdvi.enable=0\nopts="-c \'\\$x\'"\n');
    const single = parseShDoc("opts='-a -b' # flags\n");
    set(single, 'opts', '-d $y');
    assert.equal(printShDoc(single), "opts='-d $y' # flags\n");
  });

  it('the last assignment wins for get and set, and unset removes all', () => {
    const doc = parseShDoc('a="1"\nb=2\na="3" # later\n');
    assert.equal(get(doc, 'a'), '3');
    set(doc, 'a', '4');
    assert.equal(printShDoc(doc), 'a="1"\nb=2\na="4" # later\n');
    unset(doc, 'a');
    assert.equal(printShDoc(doc), 'b=2\n');
  });

  it('appends after a file that has no final newline and keeps that shape', () => {
    const doc = parseShDoc('a="1"');
    set(doc, 'b', '2');
    assert.equal(printShDoc(doc), 'a="1"\nb="2"');
    const crlf = parseShDoc('a="1"\r\n');
    set(crlf, 'b', '2');
    assert.equal(printShDoc(crlf), 'a="1"\r\nb="2"\r\n');
    const empty = parseShDoc('');
    set(empty, 'b', '2');
    assert.equal(printShDoc(empty), 'b="2"\n');
  });

  it('append adds a word once (sysrc +=)', () => {
    const doc = parseShDoc('kld_list="nmdm"\n');
    assert.equal(append(doc, 'kld_list', 'vmm'), true);
    assert.equal(append(doc, 'kld_list', 'vmm'), false);
    append(doc, 'cloned_interfaces', 'bridge0');
    assert.equal(printShDoc(doc), 'kld_list="nmdm vmm"\ncloned_interfaces="bridge0"\n');
  });

  it('round-trips values with quotes, escapes, $ and backticks', () => {
    for (const value of ['say "hi"', 'C:\\path\\', '$HOME `id`', "it's", '', ' lead and trail ', 'a#b;c']) {
      const doc = parseShDoc('x=1\n');
      set(doc, 'k', value);
      assert.equal(get(parseShDoc(printShDoc(doc)), 'k'), value, value);
    }
  });

  it('keeps lines it cannot interpret as other, with a warning and line number', () => {
    const text = 'a="1"\nif [ -x /bin/sh ]; then\nb=$(hostname)\nc="multi\nline"\nd=2\n';
    const doc = parseShDoc(text, '/etc/rc.conf');
    assert.equal(printShDoc(doc), text);
    assert.deepEqual(
      doc.warnings.map((w) => w.line),
      [2, 3, 4],
    );
    assert.equal(doc.warnings[0]?.file, '/etc/rc.conf');
    assert.equal(get(doc, 'd'), '2');
    assert.equal(get(doc, 'b'), undefined);
    set(doc, 'b', 'plain');
    assert.equal(printShDoc(doc), `${text}b="plain"\n`);
    unset(doc, 'b');
    assert.equal(printShDoc(doc), 'a="1"\nif [ -x /bin/sh ]; then\nc="multi\nline"\nd=2\n');
  });

  it('refuses # and " in vm-bhyve mode and never writes single quotes there', () => {
    const doc = parseShDoc("loader='bhyveload'\n", 'x.conf', { vmBhyve: true });
    assert.throws(
      () => set(doc, 'graphics_port', '59#00'),
      (e: unknown) => e instanceof ToolError && e.code === 'conf-vm-bhyve-value',
    );
    assert.throws(() => set(doc, 'graphics_port', '"5900"'), ToolError);
    set(doc, 'loader', 'uefi');
    assert.equal(printShDoc(doc), 'loader="uefi"\n');
    const plain = parseShDoc('a=1\n');
    set(plain, 'b', 'x#y', { vmBhyve: false });
    assert.equal(get(plain, 'b'), 'x#y');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectivePptdevs, planPptdevs } from '../../src/conf/loader-conf.js';
import { append, get, parseShDoc, printShDoc, set, unset } from '../../src/conf/shedit.js';
import { passthruEntries, planGuestPassthru, usedGuestSlots } from '../../src/conf/vm-conf.js';
import { ToolError } from '../../src/errors.js';
import { corpus, fixture } from '../helpers/corpus.js';

/** mulberry32: a small seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bases = [
  ...[...corpus('loader-conf'), ...corpus('vm-conf')].map((c) => c.body),
  ...['loader.conf', 'rc.conf', 'guest-windows.conf', 'rc-path.conf'].map((n) => fixture('conf', n)),
].flatMap((t) => [t, t.replace(/\n/g, '\r\n'), t.replace(/\n$/, '')]);

const ALPHABET = [
  'a',
  'Z',
  '0',
  '/',
  ' ',
  '\t',
  '"',
  "'",
  '$',
  '\\',
  '`',
  '#',
  ';',
  '=',
  '{',
  '}',
  '*',
  '-',
  '.',
];

describe('shvars: property test (seeded)', () => {
  it('10,000 random edit sequences round-trip and set/unset of a fresh key restores the bytes', () => {
    const random = prng(0x5eed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const word = (max: number): string => {
      let s = '';
      const n = Math.floor(random() * max);
      for (let i = 0; i < n; i++) s += pick(ALPHABET);
      return s;
    };
    for (let iteration = 0; iteration < 10_000; iteration++) {
      const doc = parseShDoc(pick(bases));
      const existing = doc.nodes.flatMap((n) => (n.kind === 'assignment' ? [n.key] : []));
      const keys = [...existing, 'k1', 'k_two', 'pptdevs', 'passthru0', 'vmm_load'];
      const expected = new Map<string, string | undefined>();
      const steps = 1 + Math.floor(random() * 5);
      for (let s = 0; s < steps; s++) {
        const key = pick(keys);
        const op = random();
        if (op < 0.5) {
          const value = word(12);
          set(doc, key, value);
          expected.set(key, value);
        } else if (op < 0.75) {
          unset(doc, key);
          expected.set(key, undefined);
        } else {
          const w = `w${Math.floor(random() * 4)}`;
          append(doc, key, w);
          expected.set(key, get(doc, key));
        }
      }
      const printed = printShDoc(doc);
      const again = parseShDoc(printed);
      assert.equal(printShDoc(again), printed, `iteration ${iteration}: print(parse(x)) differs`);
      for (const [key, value] of expected)
        assert.equal(get(again, key), value, `iteration ${iteration}: ${key}`);
      const fresh = `fresh_${iteration}`;
      set(again, fresh, word(10));
      unset(again, fresh);
      assert.equal(printShDoc(again), printed, `iteration ${iteration}: set+unset of ${fresh}`);
    }
  });
});

describe('conf parsers on garbage (seeded)', () => {
  it('never throw anything but a ToolError and keep every byte', () => {
    const random = prng(0xbad);
    const pieces = [
      'pptdevs=',
      'passthru0=',
      'passthru1="',
      'disk0_name=',
      'disk0_type=x',
      'start_slot=',
      'loader=',
      '"',
      "'",
      '=',
      '#',
      '\\',
      '$(',
      '`',
      '1/0/0',
      '=6:0',
      '\n',
      '\r\n',
      ' ',
      '\t',
      'x',
      '999',
      '\u00e9',
      '\0',
    ];
    for (let i = 0; i < 2000; i++) {
      let text = '';
      const n = Math.floor(random() * 30);
      for (let j = 0; j < n; j++) text += pieces[Math.floor(random() * pieces.length)];
      assert.equal(printShDoc(parseShDoc(text)), text);
      const files = [{ path: '/boot/loader.conf', text }];
      effectivePptdevs(files);
      passthruEntries(text);
      usedGuestSlots(text);
      for (const run of [
        () => planPptdevs(files, { add: ['1/0/0'], remove: ['2/0/0'] }),
        () => planGuestPassthru(text, [{ bhyveId: '1/0/0', function: 0 }], { rom: '/r.rom' }),
      ]) {
        try {
          run();
        } catch (e) {
          assert.ok(e instanceof ToolError, `${JSON.stringify(text)}: ${String(e)}`);
        }
      }
    }
  });
});

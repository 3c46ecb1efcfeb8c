import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as facts from '../../src/facts/index.js';
import { parsePciconfDetailed } from '../../src/facts/pciconf.js';
import { corpus, fixture } from '../helpers/corpus.js';

/** mulberry32: a small deterministic PRNG, so a failure reproduces from its iteration number. */
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

const NOISE = [
  '\t',
  ' ',
  '\n',
  '=',
  '0x',
  '@pci',
  ':',
  '[',
  ']',
  ',',
  "'",
  'ffffffffffffffffffff',
  '\u0000',
  'é',
];

function corrupt(text: string, random: () => number): string {
  const pick = (n: number): number => Math.floor(random() * n);
  let s = text;
  const steps = 1 + pick(4);
  for (let i = 0; i < steps; i++) {
    const at = pick(s.length + 1);
    switch (pick(6)) {
      case 0: // truncation
        s = s.slice(0, at);
        break;
      case 1: {
        // byte flip
        const code = s.charCodeAt(at) ^ (1 << pick(7));
        s = s.slice(0, at) + String.fromCharCode(Number.isNaN(code) ? 0x30 : code) + s.slice(at + 1);
        break;
      }
      case 2: {
        // line shuffle
        const lines = s.split('\n');
        for (let k = lines.length - 1; k > 0; k--) {
          const j = pick(k + 1);
          [lines[k], lines[j]] = [lines[j]!, lines[k]!];
        }
        s = lines.join('\n');
        break;
      }
      case 3: // deleted chars
        s = s.slice(0, at) + s.slice(at + 1 + pick(8));
        break;
      case 4: // duplicated chars
        s = s.slice(0, at) + s.slice(at, at + 1 + pick(40)).repeat(2) + s.slice(at + 1 + pick(40));
        break;
      default: // inserted noise
        s = s.slice(0, at) + NOISE[pick(NOISE.length)]! + s.slice(at);
    }
  }
  return s;
}

it('10,000 corrupted pciconf texts: devices + warnings, never an exception', () => {
  const sources = [
    ...corpus('pciconf').map((f) => f.body),
    fixture('facts', 'pciconf-lbcv-tesla-p4-fbsd15.txt'),
    fixture('facts', 'pciconf-lbcv-rtx2080ti-4func-ppt-fbsd14.txt'),
    fixture('facts', 'pciconf-lbcv-epyc-v100-32g-a100-80g-fbsd15.txt'),
  ];
  const random = prng(0x5eed);
  let devices = 0;
  for (let i = 0; i < 10_000; i++) {
    const input = corrupt(sources[i % sources.length]!, random);
    let result: ReturnType<typeof parsePciconfDetailed>;
    try {
      result = parsePciconfDetailed(input);
    } catch (error) {
      assert.fail(`iteration ${i} threw ${String(error)} on:\n${input.slice(0, 500)}`);
    }
    for (const d of result.value) {
      assert.match(d.selector, /^pci\d+:\d+:\d+:\d+$/, `iteration ${i}`);
      assert.ok(d.bus <= 255 && d.slot <= 31 && d.function <= 7, `iteration ${i}`);
      for (const id of [d.vendorId, d.deviceId, d.subvendorId, d.subdeviceId])
        assert.ok(id >= 0 && id <= 0xffff);
      for (const b of d.bars)
        assert.ok(Number.isSafeInteger(b.size) && Number.isFinite(b.base), `iteration ${i}`);
    }
    for (const w of result.warnings) assert.ok(Number.isInteger(w.line) && w.line >= 1);
    devices += result.value.length;
  }
  assert.ok(devices > 10_000, 'most corrupted inputs still yield devices');
});

it('2,000 corrupted host texts through every other parser: never an exception', () => {
  const sources = ['versions', 'host-dmesg', 'loader-conf'].flatMap((c) => corpus(c).map((f) => f.body));
  for (const name of [
    'dmesg-boot-amd-ryzen-svm-ivhd-ppt-fbsd143.txt',
    'ifconfig-a-bridge-lagg-vlan-fbsd14.txt',
  ]) {
    sources.push(fixture('facts', name));
  }
  const random = prng(0xfac7);
  for (let i = 0; i < 2_000; i++) {
    const input = corrupt(sources[i % sources.length]!, random);
    try {
      facts.parseFreebsdVersion(input);
      facts.parseUname(input);
      facts.parseSysctl(input);
      facts.parseKldstatDetailed(input);
      facts.parseDmesgBoot(input);
      facts.parseAcpidumpTables(input);
      facts.parseShVars(input);
      facts.parseRouteGet(input);
      const ifaces = facts.parseIfconfig(input);
      for (const iface of ifaces) facts.physicalInterfaces(ifaces, iface.name);
    } catch (error) {
      assert.fail(`iteration ${i} threw ${String(error)} on:\n${input.slice(0, 500)}`);
    }
  }
});

it('long pathological lines (200k chars) parse in linear time, not quadratic', () => {
  const n = 200_000;
  const inputs = [
    `CPU: ${' '.repeat(n)}x`,
    `ppt0 ${' '.repeat(n)}x`,
    `  VT-x: ${'<'.repeat(n)}`,
    `bar   [10] = type ${' '.repeat(n)}x`,
    '@'.repeat(n),
    `vgapci0${'@pci0:'.repeat(n / 6)}`,
    `${' '.repeat(n)}x`,
    `gateway: x${' '.repeat(n)}y`,
    `  Features=0x1<${'a,'.repeat(n / 2)}`,
  ];
  const started = performance.now();
  for (const input of inputs) {
    facts.parsePciconfDetailed(input);
    facts.parseDmesgBoot(input);
    facts.parseSysctl(input);
    facts.parseKldstatDetailed(input);
    facts.parseRouteGet(input);
    facts.parseShVars(input);
    facts.parseIfconfig(input);
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 5000, `took ${Math.round(elapsed)} ms`);
});

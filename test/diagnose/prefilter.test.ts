import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { patternAnchors, signatureAnchors } from '../../src/diagnose/anchors.js';
import { diagnoseFiles, diagnoseStreams, diagnoseText } from '../../src/diagnose/engine.js';
import { assembleKernel, kernel } from '../../src/diagnose/kernel.js';
import { loadKnowledgeBase } from '../../src/diagnose/knowledge-base.js';
import { Matcher } from '../../src/diagnose/matcher.js';
import { kernelShape, type LineSink, Prefilter, planPrefilter } from '../../src/diagnose/prefilter.js';
import { stripPrefix } from '../../src/diagnose/prefix.js';

import { CORPUS_DIR, CorpusAbsentError } from '../helpers/corpus.js';

const CORPUS = new URL('../../../shared/corpus/', import.meta.url);

/** Every non-blank line of the corpus logs (header comments included: they are lines too). */
function corpusLines(): string[] {
  // A clone of the repository alone has no corpus: the test is reported as skipped (test/helpers/corpus.ts).
  if (!existsSync(CORPUS_DIR)) throw new CorpusAbsentError();
  const lines: string[] = [];
  for (const category of ['guest-dmesg', 'bhyve-errors', 'guest-lspci', 'host-dmesg', 'vm-passthru']) {
    const dir = new URL(`${category}/`, CORPUS);
    for (const name of readdirSync(dir).sort())
      lines.push(
        ...readFileSync(new URL(name, dir), 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== ''),
      );
  }
  return lines;
}

describe('anchors derived from patterns', () => {
  it('reads literals, escapes, classes, quantifiers and groups conservatively', () => {
    assert.deepEqual(patternAnchors('RmInitAdapter failed! \\(0x[0-9a-fA-F]+:0x[0-9a-fA-F]+:[0-9]+\\)'), [
      'RmInitAdapter failed! (0x',
    ]);
    // x* and x? drop the character; x+ keeps it but ends the run
    assert.deepEqual(patternAnchors('abcdefX*ghij'), ['abcdef']);
    assert.deepEqual(patternAnchors('abcdefX?ghij'), ['abcdef']);
    assert.deepEqual(patternAnchors('abcX+ghijklmn'), ['ghijklmn']);
    assert.deepEqual(patternAnchors('abcdefgX{0,3}hij'), ['abcdefg']);
    assert.deepEqual(patternAnchors('ab.cdefgh[0-9]ij'), ['cdefgh']);
    // a mandatory group of plain alternatives is expanded into the run
    assert.deepEqual(patternAnchors('\\[GPU ID 0x[0-9a-fA-F]+\\] Failed to (load|register) device'), [
      '] Failed to load device',
      '] Failed to register device',
    ]);
    // an optional or repeated group ends the run
    assert.deepEqual(patternAnchors('cfgread (x)?: Invalid offset'), [': Invalid offset']);
    assert.deepEqual(patternAnchors('is not using the ppt(\\(4\\))? driver'), ['is not using the ppt']);
    // top-level alternation: one anchor per branch
    assert.deepEqual(patternAnchors('NVIDIA (devices|graphics adapters) were'), [
      'NVIDIA devices were',
      'NVIDIA graphics adapters were',
    ]);
    assert.deepEqual(patternAnchors('first branch|second one'), ['first branch', 'second one']);
    // escaped letters are not literals
    assert.deepEqual(patternAnchors('abc\\dxyzw'), ['xyzw']);
    assert.equal(patternAnchors('[0-9]+.*'), undefined);
    assert.throws(() => signatureAnchors('x', ['[0-9]+']), /no literal/);
  });

  it('gives every knowledge-base pattern an anchor held by every example line it matches', () => {
    for (const s of loadKnowledgeBase())
      for (const p of s.patterns) {
        const anchors = signatureAnchors(s.id, [p]);
        const re = new RegExp(p);
        for (const ex of s.examples)
          if (re.test(ex))
            assert.ok(
              anchors.some((a) => ex.includes(a)),
              `${s.id}: ${ex} lacks ${anchors}`,
            );
      }
  });

  it('gives every knowledge-base pattern an anchor held by every corpus line it matches', () => {
    const kb = loadKnowledgeBase();
    const patterns = kb.flatMap((s) =>
      s.patterns.map((p) => ({ re: new RegExp(p), anchors: signatureAnchors(s.id, [p]) })),
    );
    let matched = 0;
    for (const line of new Set(corpusLines())) {
      const text = stripPrefix(line);
      for (const { re, anchors } of patterns)
        if (re.test(text)) {
          matched++;
          assert.ok(
            anchors.some((a) => line.includes(a)),
            `${re.source} matches ${line} without ${anchors}`,
          );
        }
    }
    assert.ok(matched > 100, `only ${matched} matches: the corpus was not read`);
  });
});

describe('prefilter plan', () => {
  it('gives each anchor a fingerprint inside it, whose window its bucket lets through', () => {
    const kb = loadKnowledgeBase();
    const anchors = [...new Set(kb.flatMap((s) => signatureAnchors(s.id, s.patterns)))];
    for (const list of [anchors, [...anchors, 'DMI: ', 'ab'], ['ab', 'abcd', 'xyzw', 'a longer one']]) {
      const plan = planPrefilter(list);
      assert.equal(plan.fingerprints.length, list.length);
      for (const { anchor, bytes, bucket } of plan.fingerprints) {
        const whole = Buffer.from(anchor);
        assert.ok(whole.includes(bytes), `${anchor}: ${bytes}`);
        assert.equal(bytes.length, whole.length >= 8 ? 8 : Math.min(4, whole.length), anchor);
        assert.ok(plan.lengths.includes(bytes.length));
        for (let j = 0; j < Math.min(3, bytes.length); j++) {
          const b = bytes[j] as number;
          const buckets =
            (plan.tables[32 * j + (b & 15)] as number) & (plan.tables[32 * j + 16 + (b >> 4)] as number);
          assert.ok((buckets >> bucket) & 1, `${anchor}: window byte ${j} not in bucket ${bucket}`);
        }
      }
      assert.deepEqual(
        plan.lengths,
        [...plan.lengths].sort((a, b) => b - a),
      );
    }
    // the bundled anchors are long: their fingerprints are 8 bytes, but for the short DMI keyword
    for (const { anchor, bytes } of planPrefilter(anchors).fingerprints)
      assert.equal(bytes.length, Buffer.byteLength(anchor) >= 8 ? 8 : 4, anchor);
  });
});

/** A sink that records what the prefilter hands on, and counts repeats per remembered line. */
function recorder(buf: () => Buffer): LineSink<string> & { lines: Map<string, number>; seen: string[] } {
  const lines = new Map<string, number>();
  const seen: string[] = [];
  return {
    lines,
    seen,
    line(start, end, index) {
      const text = buf().toString('latin1', start, end);
      seen.push(`${index}:${text}`);
      lines.set(text, (lines.get(text) ?? 0) + 1);
      return text;
    },
    repeats(text, count) {
      lines.set(text, (lines.get(text) ?? 0) + count);
    },
  };
}

/** A deterministic pseudo-random sequence. */
function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('prefilter kernel', () => {
  const anchors = ['RmInitAdapter failed', 'fallen off the bus', 'DMI: ', 'vmm.ko', 'ab'];
  // short and long anchors sharing start bytes (the start byte's fingerprint length serves both)
  const mixed = ['DMI: ', 'DMI: Dell Inc.', 'Machine check', 'ab', 'bhyve: ', 'bhyve: passthru', 'vm: ERROR'];
  // only long anchors: one fingerprint length, one hash per window
  const long = ['RmInitAdapter failed', 'fallen off the bus', 'Machine check', 'bhyve: passthru'];

  function check(text: Buffer, seed: number, list = anchors, bytes?: Uint8Array): void {
    const pf = new Prefilter<string>(list, bytes);
    const sink = recorder(() => pf.input());
    const newlines = pf.scan(text, 0, text.length, sink);
    pf.flush(sink);
    const lines = text.toString('latin1').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    assert.equal(newlines, text.filter((b) => b === 10).length, `seed ${seed}: newline count`);
    // every line holding an anchor is handed on or counted, as often as it occurs
    const expected = new Map<string, number>();
    for (const line of lines)
      if (list.some((a) => line.includes(a))) expected.set(line, (expected.get(line) ?? 0) + 1);
    for (const [line, n] of expected)
      assert.equal(sink.lines.get(line), n, `seed ${seed}: ${line.slice(0, 80)}`);
    // and what is handed on carries its own line index
    for (const entry of sink.seen) {
      const colon = entry.indexOf(':');
      const index = Number(entry.slice(0, colon));
      assert.equal(lines[index], entry.slice(colon + 1), `seed ${seed}: line ${index}`);
    }
  }

  it('hands on every line holding an anchor, with its index, and counts repeats (random logs)', () => {
    const pieces = [
      ...anchors,
      ...mixed,
      'DMI:',
      'bhyve',
      'Dell',
      'xx',
      'a',
      'b',
      'fallen off',
      'RmInit',
      '\u00e9t\u00e9 ',
      '0000:01:00.0 ',
      'D',
      'vmm',
    ];
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const lines: string[] = [];
      const count = 1 + Math.floor(next() * 300);
      for (let i = 0; i < count; i++) {
        const parts: string[] = [];
        const n = Math.floor(next() * (next() < 0.05 ? 200 : 8));
        for (let k = 0; k < n; k++) parts.push(pieces[Math.floor(next() * pieces.length)] as string);
        const line = parts.join(next() < 0.5 ? ' ' : '');
        lines.push(line);
        if (next() < 0.3) lines.push(line); // repeats
      }
      const text = lines.join('\n') + (next() < 0.5 ? '\n' : '');
      check(Buffer.from(text, 'latin1'), seed, [anchors, mixed, long][seed % 3]);
      // the kernel built without relaxed SIMD (engines that lack it) finds the same lines
      if (seed % 5 === 0)
        check(
          Buffer.from(text, 'latin1'),
          seed,
          mixed,
          assembleKernel(false, kernelShape(planPrefilter(mixed))),
        );
    }
  });

  it('uses the relaxed SIMD lookups on this Node (20 and later have them)', () => {
    const shape = kernelShape(planPrefilter(anchors));
    assert.deepEqual(kernel(shape), assembleKernel(true, shape));
    assert.notDeepEqual(assembleKernel(true, shape), assembleKernel(false, shape));
  });

  it("is assembled for the plan's fingerprint lengths: one hash per length at each window", () => {
    const one = kernelShape(planPrefilter(long));
    const three = kernelShape(planPrefilter(anchors));
    assert.deepEqual(one.lengths, [8]);
    assert.deepEqual(three.lengths, [8, 4, 2]);
    // the short fingerprints ('DMI: ' and 'vmm.ko' of 4 bytes, 'ab') are in a bucket or two of the 8:
    // only at a window of those is their hash taken
    const bits = (m: number) => m.toString(2).replaceAll('0', '').length;
    const [four, two] = three.buckets.slice(1).map(bits);
    assert.ok(four !== undefined && four >= 1 && four <= 2, `length 4 in ${four} buckets`);
    assert.equal(two, 1);
    assert.equal(kernel(one), kernel({ ...one }), 'assembled once per shape');
    assert.ok(kernel(one).length < kernel(three).length);
    assert.equal(new Prefilter(long).module, new Prefilter(long).module, 'compiled once');
  });

  it('counts a message under another dmesg timestamp as a repeat, and nothing else', () => {
    const pf = new Prefilter<string>(anchors);
    const sink = recorder(() => pf.input());
    const lines = [
      '[    1.000001] NVRM: RmInitAdapter failed (a)',
      '[   12.500000] NVRM: RmInitAdapter failed (a)',
      '[12.5] NVRM: RmInitAdapter failed (a)',
      '[ 12.5]NVRM: RmInitAdapter failed (a)', // the blank after "]" is optional
      '[ 12.] NVRM: RmInitAdapter failed (a)', // not a timestamp: the whole line is the key
      '[drm] NVRM: RmInitAdapter failed (a)',
      ' [ 1.5] NVRM: RmInitAdapter failed (a)',
      'NVRM: RmInitAdapter failed (a)', // the same text as the timestamped ones
      '[ 3.25] NVRM: RmInitAdapter failed (b)',
    ];
    const text = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
    assert.equal(pf.scan(text, 0, text.length, sink), lines.length);
    pf.flush(sink);
    // lines 0-3 and 7 share the key (their text without the timestamp); the others are new, each handed
    // on with its own line index
    assert.deepEqual(
      sink.seen.map((e) => Number(e.slice(0, e.indexOf(':')))),
      [0, 4, 5, 6, 8],
    );
    assert.equal(sink.lines.get(lines[0] as string), 5);
    assert.equal(sink.lines.get(lines[4] as string), 1);
  });

  it('counts a message under another syslog, journal or vm-bhyve timestamp as a repeat, and nothing else', () => {
    const pf = new Prefilter<string>(anchors);
    const sink = recorder(() => pf.input());
    const lines = [
      'Nov 30 07:35:01 host kernel: RmInitAdapter failed (a)',
      'Dec  3 17:05:59 host kernel: RmInitAdapter failed (a)',
      'Nov 30 07:35:01 other kernel: RmInitAdapter failed (a)', // another host: another key
      'Nov 30 07:35:01: RmInitAdapter failed (a)', // vm-bhyve
      'Jan 01 00:00:00: RmInitAdapter failed (a)',
      'Nov 300 07:35:01: RmInitAdapter failed (a)', // not a timestamp
      'nov 30 07:35:01: RmInitAdapter failed (a)',
      'Nov 30 07:35:1: RmInitAdapter failed (a)',
    ];
    const text = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
    assert.equal(pf.scan(text, 0, text.length, sink), lines.length);
    pf.flush(sink);
    assert.deepEqual(
      sink.seen.map((e) => Number(e.slice(0, e.indexOf(':')))),
      [0, 2, 3, 5, 6, 7],
    );
    assert.equal(sink.lines.get(lines[0] as string), 2);
    assert.equal(sink.lines.get(lines[3] as string), 2);
  });

  it('empties its table of seen lines when full and keeps counting right', () => {
    const lines: string[] = [];
    for (let i = 0; i < 12000; i++) lines.push(`[${i}] NVRM: RmInitAdapter failed ${i % 9000}`);
    check(Buffer.from(`${lines.join('\n')}\n${lines.join('\n')}\n`, 'latin1'), 0);
  });

  it('hands long lines on every time and scans buffers larger than its input area', () => {
    const long = `${'x'.repeat(3000)} vmm.ko ${'y'.repeat(3000)}`;
    check(Buffer.from(`${long}\n${long}\nplain\n${long}\n`.repeat(400), 'latin1'), 0);
    // a line longer than the input area is read in pieces: the piece with the anchor is handed on
    const huge = Buffer.from(`${long}\n${'z'.repeat(3 << 20)} fallen off the bus\nplain\n`, 'latin1');
    const pf = new Prefilter<string>(anchors);
    const sink = recorder(() => pf.input());
    assert.equal(pf.scan(huge, 0, huge.length, sink), 3);
    assert.deepEqual(
      sink.seen.map((e) => e.slice(0, 2) + e.slice(-19)),
      [`0:${long.slice(-19)}`, '1: fallen off the bus'],
    );
  });
});

describe('engine reading paths', () => {
  it('gives the same report from diagnoseText, a stream in odd chunks and a file, over several MB', async () => {
    const block = `${corpusLines().join('\n')}\n`;
    const text = block.repeat(Math.ceil((5 << 20) / block.length));
    const expected = diagnoseText([{ name: 'log', text }]);
    assert.ok(expected.findings.length > 10);
    const bytes = Buffer.from(text, 'utf8');
    const next = random(7);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const n = 1 + Math.floor(next() * 300000);
      chunks.push(bytes.subarray(at, at + n));
      at += n;
    }
    assert.deepEqual(await diagnoseStreams([{ name: 'log', stream: Readable.from(chunks) }]), expected);
    const dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-prefilter-'));
    try {
      writeFileSync(join(dir, 'log'), bytes);
      assert.deepEqual(await diagnoseFiles([{ name: 'log', path: join(dir, 'log') }]), expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a file whose lines cross its reads, one longer than a read, with the line numbers right', async () => {
    const xid = 'NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus.';
    // a read is 1 MiB: lines around the boundaries, a 3 MiB line whose end holds the message, and the
    // message split across two reads
    const lines = [
      xid,
      'a'.repeat((1 << 20) - 40),
      `${'z'.repeat(3 << 20)} ${xid}`,
      'b'.repeat((1 << 20) - xid.length + 5),
      xid,
      'plain',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-prefilter-'));
    try {
      writeFileSync(join(dir, 'log'), lines.join('\n'));
      const r = await diagnoseFiles([{ name: 'log', path: join(dir, 'log') }]);
      assert.equal(r.inputs[0]?.lines, lines.length);
      const found = r.findings.find((f) => f.id === 'guest.nvidia.xid');
      assert.equal(found?.occurrences, 3);
      // lines 1 and 5 are one text (counted twice); the long line keeps its end, another text
      assert.deepEqual(
        found?.evidence.map((e) => [e.line, e.count ?? 1]),
        [
          [1, 2],
          [3, 1],
        ],
      );
      // (its evidence text: the first 400 characters of the end that was kept)
      assert.match(found?.evidence[1]?.text ?? '', /^z{400}$/);
      assert.ok(r.findings.every((f) => f.evidence.every((e) => [1, 3, 5].includes(e.line))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts repeated lines once per occurrence in the findings', () => {
    const line = 'NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus.';
    const r = diagnoseText([{ name: 'x', text: `${line}\n`.repeat(1000) }]);
    const xid = r.findings.find((f) => f.id === 'guest.nvidia.xid');
    assert.equal(xid?.occurrences, 1000);
    assert.equal(xid?.evidence[0]?.count, 1000);
    assert.equal(xid?.evidence[0]?.line, 1);
    assert.equal(r.inputs[0]?.lines, 1000);
  });

  it('counts a message under changing dmesg timestamps once per occurrence, evidence without the prefix', () => {
    const line = 'NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus.';
    const text = Array.from(
      { length: 1000 },
      (_, i) => `[${String(i + 1).padStart(5)}.000123] ${line}\n`,
    ).join('');
    const xid = diagnoseText([{ name: 'x', text }]).findings.find((f) => f.id === 'guest.nvidia.xid');
    assert.equal(xid?.occurrences, 1000);
    assert.deepEqual(xid?.evidence, [{ file: 'x', line: 1, text: line, count: 1000 }]);
  });

  it('lists the anchors it looks for', () => {
    const m = new Matcher();
    assert.ok(m.anchorWords().includes('RmInitAdapter failed! (0x'));
  });
});

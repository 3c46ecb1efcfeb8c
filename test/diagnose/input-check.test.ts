import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { diagnoseStreams } from '../../src/diagnose/engine.js';
import { looksBinary, probeFile, probeInput } from '../../src/diagnose/input-check.js';
import { corpusFile } from '../helpers/corpus.js';

describe('looksBinary', () => {
  it('a real kernel log, with or without colour codes, is text', () => {
    const text = readFileSync(
      corpusFile('guest-dmesg', 'cloudatlas-bhyve-fbsd15-tesla-p4-rminitadapter-nvkmskapi.txt').path,
    );
    assert.equal(looksBinary(text), false);
    assert.equal(looksBinary(Buffer.from('\x1b[31mNVRM: error\x1b[0m\n\tdetail\r\n')), false);
    assert.equal(looksBinary(Buffer.alloc(0)), false);
  });

  it('an executable (NUL bytes) and mostly control bytes are binary', () => {
    assert.equal(looksBinary(readFileSync(process.execPath).subarray(0, 4096)), true);
    const noise = Buffer.from(Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 0x41 : 1 + (i % 7))));
    assert.equal(looksBinary(noise), true);
    assert.equal(looksBinary(Buffer.from([0xff, 0xfe, 0x80, 0x81, 0x82, 0x41])), true);
  });
});

describe('probeInput', () => {
  it('passes the stream through to diagnose unchanged and records its head and size', async () => {
    const text = 'bhyve: passthru requires guest memory to be wired\n';
    const probe = probeInput(Readable.from([Buffer.from(text)]));
    const report = await diagnoseStreams([{ name: 'x', stream: probe.stream }]);
    assert.equal(report.inputs[0]?.lines, 1);
    assert.equal(report.findings[0]?.id, 'host.bhyve.memory-not-wired');
    assert.equal(probe.result().bytes, text.length);
    assert.equal(probe.result().head.toString(), text);
  });

  it('an empty stream: 0 bytes, 0 lines (the library still reports it)', async () => {
    const probe = probeInput(Readable.from([]));
    const report = await diagnoseStreams([{ name: 'empty', stream: probe.stream }]);
    assert.equal(report.inputs[0]?.lines, 0);
    assert.equal(probe.result().bytes, 0);
  });

  it('probes a regular file like a stream: head, size, blankness past the first read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-probe-'));
    try {
      const log = join(dir, 'log');
      const text = 'bhyve: passthru requires guest memory to be wired\n';
      writeFileSync(log, text);
      assert.deepEqual(await probeFile(log), { head: Buffer.from(text), bytes: text.length, blank: false });
      const blanks = join(dir, 'blanks');
      writeFileSync(blanks, ' \n\t\r\n'.repeat(40000));
      assert.equal((await probeFile(blanks)).blank, true);
      writeFileSync(blanks, `${' \n'.repeat(80000)}x\n`);
      const late = await probeFile(blanks);
      assert.equal(late.blank, false);
      assert.equal(late.head.length, 4096);
      const empty = join(dir, 'empty');
      writeFileSync(empty, '');
      assert.deepEqual(await probeFile(empty), { head: Buffer.alloc(0), bytes: 0, blank: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

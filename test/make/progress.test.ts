import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProgress, formatElapsed, gitPhase, LineSplitter } from '../../src/make/progress.js';

function fakeStream(): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { columns: 40, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('progress display', () => {
  it('splits git progress rewritten with carriage returns into lines', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    splitter.push('remote: Enumerating objects: 5, done.\nReceiving objects:  50% (1/2)\rReceiving obj');
    splitter.push('ects: 100% (2/2), done.\r\n');
    splitter.push('From file:///x');
    splitter.flush();
    assert.deepEqual(lines, [
      'remote: Enumerating objects: 5, done.',
      'Receiving objects:  50% (1/2)',
      'Receiving objects: 100% (2/2), done.',
      'From file:///x',
    ]);
  });

  it('rewrites one line on a TTY, truncated to the width', () => {
    const { stream, written } = fakeStream();
    const progress = createProgress({ stream, tty: true });
    progress.update('Receiving objects: 10%');
    progress.update('x'.repeat(100));
    progress.done();
    assert.equal(written[0], '\r\x1b[KReceiving objects: 10%');
    assert.equal(written[1]?.length, '\r\x1b[K'.length + 39);
    assert.equal(written.at(-1), '\r\x1b[K');
  });

  it('prints plain lines off a TTY: each new phase, else one per interval', () => {
    const { stream, written } = fakeStream();
    let t = 0;
    const progress = createProgress({ stream, tty: false, intervalMs: 1000, now: () => t });
    progress.update('Receiving objects: 1%', 'Receiving objects');
    progress.update('Receiving objects: 2%', 'Receiving objects');
    t = 1500;
    progress.update('Receiving objects: 90%', 'Receiving objects');
    progress.update('Resolving deltas: 1%', 'Resolving deltas');
    progress.done();
    assert.deepEqual(written, [
      'Receiving objects: 1%\n',
      'Receiving objects: 90%\n',
      'Resolving deltas: 1%\n',
    ]);
    assert.equal(formatElapsed(65_000), '1m05s');
    assert.equal(formatElapsed(4_200), '4s');
    assert.equal(gitPhase('remote: Counting objects:  50% (1/2)'), 'remote: Counting objects');
    assert.equal(gitPhase('Receiving objects: 100% (9/9), done.'), 'Receiving objects');
    assert.equal(gitPhase('From file:///x'), 'From file:///x');
  });
});

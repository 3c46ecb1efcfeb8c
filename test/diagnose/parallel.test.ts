import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ChunkStats, diagnoseFiles, scanOffered } from '../../src/diagnose/engine.js';
import { Matcher } from '../../src/diagnose/matcher.js';
import {
  chunkBounds,
  claimBack,
  claimedFront,
  claimFront,
  newClaims,
  PARALLEL_MIN,
  planChunks,
  ScanThread,
} from '../../src/diagnose/parallel.js';
import type { DiagnoseReport } from '../../src/diagnose/types.js';
import { REPO_ROOT } from '../helpers/corpus.js';
import { cli, tempDir } from '../helpers/snap.js';

/** The project's own diagnose fixtures (failing and healthy logs of every kind), as one text. */
function fixtureLogs(): string {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.txt')) texts.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(REPO_ROOT, 'test', 'fixtures', 'diagnose'));
  return texts.join('\n');
}

/**
 * A few MB of log: the fixtures again and again, each round with lines of its own (an Xid under a new
 * pid, a DMI line, so evidence and environment lines fill up across chunks), a line longer than the
 * small chunks and than the kernel keeps (with an anchor in it), and a last line without a newline.
 */
function bigLog(rounds: number): string {
  const base = fixtureLogs();
  const parts: string[] = [];
  for (let r = 0; r < rounds; r++) {
    parts.push(base);
    parts.push(`[ ${r}.000000] NVRM: Xid (PCI:0000:01:00): 13, pid=${r}, Graphics Exception`);
    parts.push(`[ ${r}.000001] DMI: Round ${r} Standard PC (Q35 + ICH9, 2009), BIOS 1.16`);
    if (r === 3) parts.push(`${'x'.repeat(9000)} NVRM: GPU at PCI:0000:01:00: GPU has fallen off the bus.`);
  }
  return `${parts.join('\n')}\nbhyve: passthru requires guest memory to be wired`;
}

/** What the engine reads an input's kind from: the first 64 lines of its first 16 KiB. */
function head(): string[] {
  return readFileSync(log).subarray(0, 16384).toString('utf8').split('\n').slice(0, 64);
}

let dir: string;
let log: string;
let single: DiagnoseReport;
before(async () => {
  dir = tempDir('bhyve-gpu-parallel-');
  log = join(dir, 'big.log');
  writeFileSync(log, bigLog(40));
  single = await diagnoseFiles([{ name: 'big.log', path: log }], {}, { threads: 1 });
});

describe('two-thread scan of a large file (src/diagnose/parallel.ts)', () => {
  it('front and back claims give each chunk to exactly one side, then nothing', () => {
    const claims = newClaims(7);
    const taken: number[] = [];
    for (let k = 0; k < 20; k++) {
      const c = k % 3 === 0 ? claimBack(claims) : claimFront(claims);
      if (c >= 0) taken.push(c);
    }
    assert.deepEqual(
      [...taken].sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.equal(claimFront(claims), -1);
    assert.equal(claimBack(claims), -1);
    // front: 0, 1, 2, 3 went from the front (claims 1, 2, 4, 5), 6, 5, 4 from the back (0, 3, 6)
    assert.equal(claimedFront(claims), 4);
  });

  it('cuts chunks at line starts, covering the file once (a line longer than a chunk empties the next)', () => {
    const fd = openSync(log, 'r');
    try {
      const size = statSync(log).size;
      const bytes = readFileSync(log);
      const plan = planChunks(size, 4096);
      assert.equal(plan.count, Math.ceil(size / 4096));
      const scratch = Buffer.alloc(100); // smaller than a line: the search for a newline goes on
      let at = 0;
      let empty = 0;
      for (let k = 0; k < plan.count; k++) {
        const { from, to } = chunkBounds(fd, plan, k, scratch);
        assert.equal(from, at, `chunk ${k} starts where the one before ended`);
        assert.ok(from === 0 || bytes[from - 1] === 10, `chunk ${k} starts a line`);
        if (to === from) empty++;
        at = to;
      }
      assert.equal(at, size);
      assert.ok(empty >= 1, 'the 9000-byte line leaves a chunk without a line start');
    } finally {
      closeSync(fd);
    }
  });

  it('gives the report one thread gives, whatever the chunk size', async () => {
    for (const chunk of [4096, 65536, 1 << 20]) {
      const two = await diagnoseFiles(
        [{ name: 'big.log', path: log }],
        {},
        { threads: 2, parallelMin: 0, chunk },
      );
      assert.deepEqual(two, single, `chunk ${chunk}`);
    }
    // what is compared holds findings, evidence, repeats and environment lines from all over the file
    assert.ok(single.findings.length >= 10);
    assert.equal(single.environment?.evidence.length, 8);
    const xid = single.findings.find((f) => f.id === 'guest.nvidia.xid');
    assert.ok((xid?.occurrences ?? 0) >= 40);
  });

  describe('with the scan thread running', () => {
    let matcher: Matcher;
    let thread: ScanThread;
    let fd: number;
    before(() => {
      fd = openSync(log, 'r');
    });
    after(() => {
      closeSync(fd);
    });

    /** Offer the file in 4 KiB chunks; returns the claim word once the thread has taken `taken` chunks. */
    function offer(taken: number): { plan: ReturnType<typeof planChunks>; claims: Int32Array } {
      matcher = new Matcher();
      thread = new ScanThread();
      thread.setup(matcher.scanTables());
      const plan = planChunks(statSync(log).size, 4096);
      const claims = thread.offer(fd, plan);
      // wait (up to 60 s) until the thread has taken that many from the back
      for (let n = 0; n < 60_000 && plan.count - (Atomics.load(claims, 0) >>> 16) < taken; n++)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      return { plan, claims };
    }

    it('scans every chunk itself when the main thread takes none, and the replay is the same report', async () => {
      const { plan } = offer(0);
      const results = await thread.collect(0, plan.count);
      thread.close();
      assert.ok(results.every((r) => r !== undefined));
      let lines = 0;
      for (const r of results) if (r) lines = matcher.replay('big.log', lines, r);
      matcher.addInput('big.log', head(), lines);
      assert.deepEqual(matcher.report(), single);
    });

    it('shares the chunks with the main thread when both take them', async () => {
      // 16 times the log, offered once the thread is set up and warm (a first job done): the main thread
      // takes chunk 0 as soon as it is offered, and the thread joins long before the main one is through
      const larger = join(dir, 'larger.log');
      writeFileSync(larger, Buffer.concat(Array.from({ length: 16 }, () => readFileSync(log))));
      const expected = await diagnoseFiles([{ name: 'larger.log', path: larger }], {}, { threads: 1 });
      matcher = new Matcher();
      thread = new ScanThread();
      thread.setup(matcher.scanTables());
      const one = planChunks(statSync(log).size, 1 << 30);
      thread.offer(fd, one);
      await thread.collect(0, one.count);
      const lfd = openSync(larger, 'r');
      try {
        const plan = planChunks(statSync(larger).size, 65536);
        const stats: ChunkStats = { chunks: 0, byThread: 0 };
        const lines = await scanOffered(
          matcher,
          'larger.log',
          lfd,
          plan,
          thread,
          thread.offer(lfd, plan),
          stats,
        );
        matcher.addInput('larger.log', head(), lines);
        assert.deepEqual(matcher.report(), expected);
        assert.equal(stats.chunks, plan.count);
        assert.ok(stats.byThread > 0 && stats.byThread < plan.count, `${stats.byThread} of ${plan.count}`);
      } finally {
        thread.close();
        closeSync(lfd);
      }
    });

    it('scans the chunks a failed thread took but did not report', async () => {
      const { plan, claims } = offer(1);
      thread.close(); // the thread is gone with a chunk (or more) taken
      const stats: ChunkStats = { chunks: 0, byThread: 0 };
      const lines = await scanOffered(matcher, 'big.log', fd, plan, thread, claims, stats);
      matcher.addInput('big.log', head(), lines);
      assert.deepEqual(matcher.report(), single);
      assert.ok(claimedFront(claims) < plan.count, 'the thread had taken chunks');
    });
  });
});

describe('diagnose from the command line on a file of PARALLEL_MIN bytes or more', () => {
  it('prints what one thread prints; --debug says how the chunks were shared', () => {
    const large = join(dir, 'large.log');
    const block = readFileSync(log);
    const fd = openSync(large, 'w');
    try {
      for (let written = 0; written < PARALLEL_MIN; ) written += writeSync(fd, block);
    } finally {
      closeSync(fd);
    }
    // from the sources (as cli() runs them) two threads are used when asked for
    const two = cli(['--debug', 'diagnose', large], { env: { BHYVE_GPU_THREADS: '2' } });
    const one = cli(['diagnose', large], { env: { BHYVE_GPU_THREADS: '1' } });
    assert.equal(two.status, 1, two.stderr);
    assert.equal(two.stdout, one.stdout);
    assert.match(
      two.stderr,
      /^debug: .*large\.log: read in 9 chunks by two threads, \d by the scan thread$/m,
    );
    assert.doesNotMatch(one.stderr, /debug/);
  });
});

describe('startScanThread', () => {
  it('a thread started ahead and not needed (a small file) is closed: the process ends by itself', () => {
    const small = join(dir, 'small.log');
    writeFileSync(small, 'NVRM: GPU 0000:00:06.0: RmInitAdapter failed! (0x31:0xffff:2767)\n');
    const script = `
      import { diagnoseFiles, startScanThread } from ${JSON.stringify(join(REPO_ROOT, 'src', 'diagnose', 'engine.ts'))};
      startScanThread();
      const r = await diagnoseFiles([{ name: 'small.log', path: ${JSON.stringify(small)} }]);
      console.log(r.findings[0].id);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, BHYVE_GPU_THREADS: '2' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'guest.nvidia.rm-init-failed');
  });
});

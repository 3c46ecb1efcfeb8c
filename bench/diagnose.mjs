#!/usr/bin/env node
// Throughput benchmark of `bhyve-gpu diagnose` (not a test).
// Builds a log of BENCH_MB megabytes (default 500) in a temp dir by repeating real corpus lines, then, side
// by side in the same run over the same file: the engine in a child process (a fresh process each time: its
// first scan, peak RSS from process.resourceUsage), `wc -l` (the speed limit: reading the file and counting
// its lines) right after each engine run, and once `grep -c -E` with every knowledge-base pattern
// (hand-written and catalog-derived). The engine and `wc -l` are run BENCH_RUNS times (default 5),
// alternately, so each ratio compares two runs a moment apart; the targets are read on the medians (a shared
// machine's speed changes from one second to the next: one pair of runs says little).
// Targets: engine >= 5x grep -E, engine >= 0.25x wc -l, peak RSS < 150 MB.
//   node bench/diagnose.mjs              (the build in dist/, made first when missing or older than src/)
//   BENCH_SOURCE=1 node bench/diagnose.mjs   (the TypeScript sources through tsx: one thread, see parallel.ts)
//   BENCH_MB=50 node bench/diagnose.mjs
//   BENCH_RUNS=1 node bench/diagnose.mjs     (one engine run and one wc -l)
//   BENCH_PREFIX=dmesg|journal   every line under its own timestamp (no two lines equal)
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-bench-'));
const megabytes = Number(process.env.BENCH_MB ?? 500);
const prefix = process.env.BENCH_PREFIX ?? 'none';
const corpusDir = resolve(root, '..', 'shared', 'corpus');

function corpusLines() {
  const lines = [];
  for (const category of ['guest-dmesg', 'bhyve-errors', 'guest-lspci', 'host-dmesg', 'vm-passthru']) {
    const dir = join(corpusDir, category);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const text = readFileSync(join(dir, name), 'utf8');
      const sep = text.indexOf('\n# ---\n');
      lines.push(...(sep >= 0 ? text.slice(sep + 7) : text).split('\n').filter((l) => l.trim() !== ''));
    }
  }
  if (lines.length === 0) throw new Error(`no corpus at ${corpusDir}`);
  return lines;
}

/** A fresh timestamp for line n, in the form BENCH_PREFIX names (none: the corpus lines as they are). */
const PREFIXES = {
  none: () => '',
  dmesg: (n) => `[${(n / 1000).toFixed(6).padStart(12)}] `,
  journal: (n) => {
    const s = Math.floor(n / 10);
    const two = (x) => String(x).padStart(2, '0');
    return `Nov ${two(1 + (Math.floor(s / 86400) % 28))} ${two(Math.floor(s / 3600) % 24)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)} guest kernel: `;
  },
};

function buildLog(path, bytes, prefix) {
  const lines = corpusLines();
  const fd = openSync(path, 'w');
  let written = 0;
  if (prefix === 'none') {
    const block = `${lines.join('\n')}\n`;
    const chunk = block.repeat(Math.max(1, Math.floor((4 << 20) / block.length)));
    while (written < bytes) written += writeSync(fd, chunk);
  } else {
    // every line under its own timestamp: no two lines of the file are equal
    for (let n = 0; written < bytes; ) {
      const out = [];
      for (const line of lines) out.push(`${PREFIXES[prefix](n++)}${line}\n`);
      written += writeSync(fd, out.join(''));
    }
  }
  closeSync(fd);
  return written;
}

/** Whether dist/ holds a build at least as new as every file under src/. */
function builtIsCurrent() {
  const built = join(root, 'dist', 'diagnose', 'engine.js');
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  const newest = (dir) =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  return newest(join(root, 'src')) <= builtAt;
}

function knowledgeBase(nodeArgs) {
  const r = spawnSync(process.execPath, [...nodeArgs, join(root, 'bench', 'diagnose', 'patterns.mjs')], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`reading the knowledge base failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Wall time of a command run directly (no shell in between). */
function wall(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Wall time of a command, and its CPU time (user + sys, from bash's times builtin after it ran). */
function timed(cmd, args) {
  const script = '"$@" > "$OUT"; s=$?; times > "$OUT.times"; exit $s';
  const outFile = join(dir, `${cmd}.out`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', script, 'bash', cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C', OUT: outFile },
    maxBuffer: 1 << 20,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} failed: ${r.stderr}`);
  // times: the shell's user/sys on the first line, its children's on the second (e.g. 0m0.001s 0m0.012s)
  const children = readFileSync(`${outFile}.times`, 'utf8').trim().split('\n')[1] ?? '';
  const cpuSeconds = [...children.matchAll(/([0-9]+)m([0-9.]+)s/g)].reduce(
    (sum, m) => sum + Number(m[1]) * 60 + Number(m[2]),
    0,
  );
  return { seconds, cpuSeconds, stdout: readFileSync(outFile, 'utf8').trim() };
}

try {
  const log = join(dir, 'bench.log');
  if (!(prefix in PREFIXES)) throw new Error(`BENCH_PREFIX: one of ${Object.keys(PREFIXES).join(', ')}`);
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('BENCH_RUNS: a whole number of runs, 1 or more');
  const size = buildLog(log, megabytes * 1024 * 1024, prefix);
  const mb = size / (1024 * 1024);
  const what =
    prefix === 'none' ? 'repeated corpus lines' : `corpus lines, each under a new ${prefix} timestamp`;
  console.log(`log: ${mb.toFixed(1)} MB of ${what} (${log})`);

  // What users run is the build (or the bundle made from the same modules): build it when it is missing
  // or older than the sources. BENCH_SOURCE=1 runs the TypeScript sources through tsx instead.
  const fromSource = process.env.BENCH_SOURCE === '1';
  if (!fromSource && !builtIsCurrent()) {
    console.log('dist/ is missing or older than src/: npm run build');
    const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('npm run build failed');
  }
  const nodeArgs = fromSource ? ['--import', 'tsx'] : [];
  const engineRun = () => {
    const child = spawnSync(
      process.execPath,
      [...nodeArgs, join(root, 'bench', 'diagnose', 'child.mjs'), log],
      { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) throw new Error(`engine run failed: ${child.stderr}`);
    return JSON.parse(child.stdout);
  };

  // Warm the page cache for every reader, as writing the log left it for the first engine run.
  spawnSync('cat', [log], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pairs = [];
  for (let r = 0; r < runs; r++) {
    const engine = engineRun();
    const wc = { ...timed('wc', ['-l', log]), seconds: wall('wc', ['-l', log]) };
    pairs.push({ engine, wc });
    console.log(
      `run ${r + 1}: engine ${engine.seconds.toFixed(3)} s (cpu ${engine.cpuSeconds.toFixed(3)} s, load ${engine.loadSeconds.toFixed(3)} s), wc -l ${wc.seconds.toFixed(3)} s (cpu ${wc.cpuSeconds.toFixed(3)} s): engine / wc -l ${(wc.seconds / engine.seconds).toFixed(3)}x`,
    );
  }
  const kb = knowledgeBase(nodeArgs);
  const grep = timed('grep', ['-c', '-E', ...kb.patterns.flatMap((p) => ['-e', p]), log]);

  const engine = pairs[0].engine;
  const med = (values) => {
    const v = [...values].sort((a, b) => a - b);
    const m = v.length >> 1;
    return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
  };
  const engineSeconds = med(pairs.map((p) => p.engine.seconds));
  const loadSeconds = med(pairs.map((p) => p.engine.loadSeconds));
  const engineCpu = med(pairs.map((p) => p.engine.cpuSeconds));
  const wcSeconds = med(pairs.map((p) => p.wc.seconds));
  const wcCpu = med(pairs.map((p) => p.wc.cpuSeconds));
  const engineRate = mb / engineSeconds;
  const endToEndRate = mb / (engineSeconds + loadSeconds);
  const grepRate = mb / grep.seconds;
  const wcRate = mb / wcSeconds;
  const rssMB = Math.max(...pairs.map((p) => p.engine.maxRssKiB)) / 1024;
  const of = runs === 1 ? '' : ` (median of ${runs} runs)`;
  console.log(
    `engine (${engine.engine}, ${engine.threads} thread${engine.threads === 1 ? '' : 's'}, ${kb.signatures} signatures, ${kb.anchors.length} anchors)${of}: ${engineSeconds.toFixed(3)} s, ${engineRate.toFixed(0)} MB/s (cpu ${engineCpu.toFixed(3)} s), peak RSS ${rssMB.toFixed(0)} MB (the highest run), ${engine.lines} lines, ${engine.matched} signature matches, ${engine.findings} findings`,
  );
  console.log(
    `engine load (knowledge base, anchors, plan${engine.threads > 1 ? ', the scan thread booting meanwhile' : ''}; once per process)${of}: ${loadSeconds.toFixed(3)} s; end to end ${endToEndRate.toFixed(0)} MB/s`,
  );
  console.log(
    `grep -c -E (${kb.patterns.length} patterns, LC_ALL=C): ${grep.seconds.toFixed(2)} s, ${grepRate.toFixed(0)} MB/s, ${grep.stdout} matching lines`,
  );
  console.log(
    `wc -l${of}: ${wcSeconds.toFixed(3)} s, ${wcRate.toFixed(0)} MB/s (cpu ${wcCpu.toFixed(3)} s), ${pairs[0].wc.stdout.split(' ')[0]} lines`,
  );
  const vsGrep = engineRate / grepRate;
  // the ratio of each pair of runs (a moment apart), and their median
  const vsWc = med(pairs.map((p) => p.wc.seconds / p.engine.seconds));
  const vsWcCpu = med(pairs.map((p) => p.wc.cpuSeconds / p.engine.cpuSeconds));
  console.log(`engine / grep -E: ${vsGrep.toFixed(2)}x (target >= 5) ${vsGrep >= 5 ? 'OK' : 'BELOW TARGET'}`);
  console.log(
    `engine / wc -l${runs === 1 ? '' : `, median of the ${runs} runs' ratios`}: ${vsWc.toFixed(3)}x (target >= 0.25) ${vsWc >= 0.25 ? 'OK' : 'BELOW TARGET'}${runs === 1 ? '' : ` (each: ${pairs.map((p) => (p.wc.seconds / p.engine.seconds).toFixed(3)).join(', ')})`}`,
  );
  console.log(
    `engine / wc -l in CPU time (fairer on a loaded machine): ${vsWcCpu.toFixed(3)}x; end to end (load included) / grep -E: ${(endToEndRate / grepRate).toFixed(2)}x, / wc -l: ${(endToEndRate / wcRate).toFixed(3)}x`,
  );
  console.log(`peak RSS: ${rssMB.toFixed(0)} MB (target < 150 MB) ${rssMB < 150 ? 'OK' : 'ABOVE TARGET'}`);
  console.log(`file size check: ${statSync(log).size} bytes`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test through tsx. Node 20 does not expand globs itself,
// so the file list is built here. Extra arguments filter the list by substring.
// On a clone of the repository alone, the public corpus (../shared/corpus) is absent: the tests that read
// it are then reported as skipped (test/helpers/corpus-skip/), and one line at the end says how many.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'fixtures' || name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const corpusPresent = existsSync(resolve('..', 'shared', 'corpus'));
const preload = corpusPresent
  ? []
  : ['--import', pathToFileURL(resolve('test/helpers/corpus-skip/register.mjs')).href];
const tally = corpusPresent ? undefined : join(mkdtempSync(join(tmpdir(), 'bhyve-gpu-corpus-')), 'skips');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', ...preload, '--test', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: tally ? { ...process.env, BHYVE_GPU_CORPUS_SKIPS: tally } : process.env },
);
if (tally) {
  const skipped = existsSync(tally)
    ? readFileSync(tally, 'utf8')
        .split('\n')
        .filter(Boolean)
        .reduce((n, l) => n + Number(l), 0)
    : 0;
  console.log(
    `\ncorpus: ${skipped} tests skipped: they read the public corpus, which lives at ../shared/corpus beside the clone (absent here; CI has it)`,
  );
  rmSync(join(tally, '..'), { recursive: true, force: true });
}
process.exit(r.status ?? 1);

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ToolError, UsageError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local.js';
import {
  type BuildProgress,
  checkLogPath,
  describeFailure,
  detectJobs,
  runBuild,
} from '../../src/make/runner.js';
import type { BuildStep } from '../../src/make/targets.js';
import { REPO_ROOT } from '../helpers/corpus.js';

const host = new LocalHost();
let dir: string;
let src: string;

const step = (name: string): BuildStep => ({ name, dir: name, argv: ['make'], installs: [], reason: 'test' });

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-build-'));
  src = join(dir, 'src');
  cpSync(join(REPO_ROOT, 'test/fixtures/build/tree'), src, { recursive: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('runBuild with real make', () => {
  it('builds a directory that compiles and logs its output', async () => {
    const logFile = join(dir, 'logs/ok.log');
    const events: BuildProgress[] = [];
    const result = await runBuild(host, [step('hello')], { src, logFile, onProgress: (p) => events.push(p) });
    assert.equal(result.ok, true);
    assert.equal(result.steps[0]?.exitCode, 0);
    assert.ok(existsSync(join(src, 'hello/hello')), 'make produced the program');
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /==> \[1\/1\] hello: make \(in .*\/hello\)/);
    assert.match(log, /-o hello hello\.c/);
    assert.match(log, /exit 0/);
    assert.ok(events.some((e) => e.phase === '[1/1] hello' && /hello\.c/.test(e.lastLine)));
  });

  it('stops at the failing step and reports the first compiler error with file and line', async () => {
    const logFile = join(dir, 'logs/fail.log');
    const result = await runBuild(host, [step('hello'), step('broken'), step('hello')], { src, logFile });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.step.name, 'broken');
    assert.notEqual(result.exitCode, 0);
    assert.equal(result.steps.length, 2, 'the step after the failure did not run');
    assert.equal(result.firstError?.kind, 'compiler');
    assert.equal(result.firstError?.file, 'broken/broken.c');
    assert.equal(result.firstError?.line, 7);
    assert.equal(typeof result.firstError?.column, 'number');
    assert.match(result.firstError?.message ?? '', /undeclared_value/);
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /broken\.c:7:\d+: error:/);
    assert.match(log, /\*\*\* .*Error/, "make's own failure line is in the log");
    const error = describeFailure(result);
    assert.equal(error.code, 'build-failed');
    assert.match(error.message, /broken\/broken\.c:7: /);
    assert.match(error.hint ?? '', /fail\.log/);
  });

  it('appends to an existing log', async () => {
    const logFile = join(dir, 'logs/append.log');
    await runBuild(host, [step('hello')], { src, logFile });
    await runBuild(host, [step('hello')], { src, logFile });
    assert.equal(readFileSync(logFile, 'utf8').match(/# bhyve-gpu build /g)?.length, 2);
  });

  it('reports make failing in a subdirectory from the top', async () => {
    const logFile = join(dir, 'logs/top.log');
    const top: BuildStep = { name: 'all', dir: '.', argv: ['make'], installs: [], reason: 'test' };
    const result = await runBuild(host, [top], { src, logFile });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.firstError?.line, 7);
    assert.equal(result.firstError?.file, 'broken/broken.c', 'GNU make names the directory it entered');
  });

  it('a log that cannot be opened or written is a ToolError, never an unhandled stream error', async () => {
    await assert.rejects(
      runBuild(host, [step('hello')], { src, logFile: dir }),
      (e: unknown) => e instanceof ToolError && e.code === 'build-log' && /EISDIR/.test(e.message),
    );
    if (existsSync('/dev/full'))
      await assert.rejects(
        runBuild(host, [step('hello')], { src, logFile: '/dev/full' }),
        (e: unknown) => e instanceof ToolError && e.code === 'build-log' && /ENOSPC/.test(e.message),
      );
  });

  it('checkLogPath: a directory or a missing parent is a usage error; a new file is fine', async () => {
    await assert.rejects(checkLogPath(host, dir), (e: unknown) => e instanceof UsageError);
    await assert.rejects(
      checkLogPath(host, join(dir, 'no/such.log')),
      (e: unknown) => e instanceof UsageError,
    );
    await checkLogPath(host, join(dir, 'new.log'));
  });

  it('finds the number of CPUs for make -j', async () => {
    const jobs = await detectJobs(host);
    assert.ok(Number.isInteger(jobs) && jobs >= 1);
  });
});

// node:test, with it/test/describe wrapped so that a test stopped by an absent corpus is reported as
// skipped instead of failed (see register.mjs). Everything else is node:test itself.
import { appendFileSync } from 'node:fs';
import * as nodeTest from 'node:test';

export * from 'node:test';

const REASON = 'reads the public corpus, which lives at ../shared/corpus (absent here)';
let skipped = 0;
/** Test bodies running now (corpus() throws inside one, and returns [] while a file is loading). */
let depth = 0;
/** The file (or a suite) called corpus() while loading: every test registered from then on is skipped. */
let loadNeedsCorpus = false;
globalThis.__BHYVE_GPU_CORPUS_SKIP__ = {
  inTest: () => depth > 0,
  neededAtLoad: () => {
    loadNeedsCorpus = true;
  },
};

const absent = (e) => e !== null && typeof e === 'object' && e.code === 'BHYVE_GPU_CORPUS_ABSENT';

function skip(t) {
  skipped++;
  t.skip(REASON);
}

function wrapBody(fn) {
  if (typeof fn !== 'function') return fn;
  if (loadNeedsCorpus) return (t) => skip(t);
  if (fn.length >= 2)
    return function (t, done) {
      depth++;
      try {
        return fn.call(this, t, done);
      } catch (e) {
        if (!absent(e)) throw e;
        skip(t);
        done();
      } finally {
        depth--;
      }
    };
  return async function (t) {
    depth++;
    try {
      return await fn.call(this, t);
    } catch (e) {
      if (!absent(e)) throw e;
      skip(t);
    } finally {
      depth--;
    }
  };
}

/** A suite body that stops on the absent corpus is replaced by one skipped test. */
function wrapSuiteBody(fn) {
  if (typeof fn !== 'function') return fn;
  return function (s) {
    try {
      const r = fn.call(this, s);
      if (r && typeof r.then === 'function')
        return r.catch((e) => {
          if (!absent(e)) throw e;
          skipped++;
          nodeTest.it('(the rest of this suite)', { skip: REASON }, () => {});
        });
      return r;
    } catch (e) {
      if (!absent(e)) throw e;
      skipped++;
      nodeTest.it('(the rest of this suite)', { skip: REASON }, () => {});
    }
  };
}

function wrap(original, wrapFn) {
  const wrapped = function (...args) {
    const i = args.findLastIndex((a) => typeof a === 'function');
    if (i >= 0) args[i] = wrapFn(args[i]);
    return original.apply(this, args);
  };
  for (const k of ['skip', 'todo', 'only'])
    if (typeof original[k] === 'function') wrapped[k] = wrap(original[k], wrapFn);
  return wrapped;
}

export const it = wrap(nodeTest.it, wrapBody);
export const test = wrap(nodeTest.test, wrapBody);
export const describe = wrap(nodeTest.describe, wrapSuiteBody);
export const suite = wrap(nodeTest.suite, wrapSuiteBody);
export default test;

process.on('exit', () => {
  const file = process.env.BHYVE_GPU_CORPUS_SKIPS;
  if (skipped > 0 && file) appendFileSync(file, `${skipped}\n`);
});

// Loaded with --import by scripts/run-tests.mjs when ../shared/corpus is absent (a clone of the repository
// alone). It points every test file's `import ... from 'node:test'` at node-test.mjs, which turns a test
// that stops because the corpus is absent (test/helpers/corpus.ts throws CorpusAbsentError) into a
// skipped test, counted. With the corpus present (CI) this is never loaded and nothing changes.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);

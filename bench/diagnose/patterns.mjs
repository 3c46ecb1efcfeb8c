// Child of bench/diagnose.mjs: prints the knowledge base's patterns (hand-written and catalog-derived) and
// the prefilter's anchors as JSON, from dist/ when built, else from the TypeScript source (under tsx).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..', '..');
const built = resolve(root, 'dist', 'diagnose', 'matcher.js');
const useBuilt = existsSync(built) && process.env.BENCH_SOURCE !== '1';
const dir = resolve(root, useBuilt ? 'dist' : 'src', 'diagnose');
const ext = useBuilt ? 'js' : 'ts';
const { loadKnowledgeBase } = await import(pathToFileURL(resolve(dir, `knowledge-base.${ext}`)).href);
const { Matcher } = await import(pathToFileURL(resolve(dir, `matcher.${ext}`)).href);
const kb = loadKnowledgeBase();
process.stdout.write(
  JSON.stringify({
    signatures: kb.length,
    patterns: kb.flatMap((s) => s.patterns),
    anchors: new Matcher(kb).anchorWords(),
  }),
);

#!/usr/bin/env node
// Copies the non-TypeScript assets (knowledge base JSON, data tables, quirk sources) into dist/
// so that the built CLI finds them beside the compiled modules (src/assets.ts reads them from there),
// and the C grammar's wasm from the tree-sitter-c devDependency, so that an installed dist/ never needs
// that package.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const exts = ['.json', '.c', '.diff', '.txt', '.wasm', '.ps1'];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (exts.some((e) => name.endsWith(e))) cpSync(p, join('dist', p.slice('src/'.length)));
  }
}
if (existsSync('src')) walk('src');
const grammar = createRequire(import.meta.url).resolve('tree-sitter-c/tree-sitter-c.wasm');
cpSync(grammar, join('dist', 'patch', 'tree-sitter-c.wasm'));

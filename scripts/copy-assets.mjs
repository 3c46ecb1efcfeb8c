#!/usr/bin/env node
// Copies the non-TypeScript assets (knowledge base JSON, data tables, quirk sources) into dist/
// so that the built CLI finds them beside the compiled modules.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const exts = ['.json', '.c', '.diff', '.txt', '.ps1'];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (exts.some((e) => name.endsWith(e))) cpSync(p, join('dist', p.slice('src/'.length)));
  }
}
if (existsSync('src')) walk('src');

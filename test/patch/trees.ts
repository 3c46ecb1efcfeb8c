import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../helpers/corpus.js';

/** test/fixtures/trees: project-written minimal FreeBSD source trees. */
export const TREES = join(REPO_ROOT, 'test', 'fixtures', 'trees');

/** Copy a fixture tree to a fresh temp dir; returns its path (remove with dropTree). */
export function copyTree(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bhyve-gpu-${name}-`));
  cpSync(join(TREES, name), dir, { recursive: true });
  return dir;
}

export function dropTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every file of a tree with its content, keyed by tree-relative path. */
export function snapshotTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return files;
}

export function readTree(dir: string, path: string): string {
  return readFileSync(join(dir, path), 'utf8');
}

export function diffFixture(name: string): string {
  return readFileSync(join(TREES, 'diffs', name), 'utf8');
}

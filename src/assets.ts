import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Data files the code reads at run time (the knowledge base, the C grammar's wasm, ...), named by their
 * path under src/ (`diagnose/kb/xid.json`). From a build they sit beside the compiled modules in dist/
 * (scripts/copy-assets.mjs puts them there); in the single-file bundle (scripts/bundle.mjs) they are
 * embedded, base64, in `globalThis.__BHYVE_GPU_ASSETS__`, so the bundle needs nothing but `node`.
 * Every run-time read of a data file goes through here, which is what lets the bundle stay one file.
 */
declare global {
  var __BHYVE_GPU_ASSETS__: Record<string, string> | undefined;
}

/** True when running from the single-file bundle. */
export function bundled(): boolean {
  return globalThis.__BHYVE_GPU_ASSETS__ !== undefined;
}

/** The bytes of an asset; throws (ENOENT) when it is neither embedded nor beside the modules. */
export function assetBytes(name: string): Uint8Array {
  const embedded = globalThis.__BHYVE_GPU_ASSETS__?.[name];
  if (embedded !== undefined) return Buffer.from(embedded, 'base64');
  return readFileSync(new URL(`./${name}`, import.meta.url));
}

/** An asset as UTF-8 text. */
export function assetText(name: string): string {
  return Buffer.from(assetBytes(name)).toString('utf8');
}

/**
 * What a worker thread runs to get module `name` (its path under src/ without extension, e.g.
 * `diagnose/scan-worker`): in the bundle, the module's own bundle, embedded by scripts/bundle.mjs as the
 * asset `name.mjs`, as a data: URL; else the module beside this one, compiled (.js) or, from the sources
 * under tsx, the .ts.
 */
export function workerModule(name: string): URL {
  if (bundled()) return new URL(`data:text/javascript,${encodeURIComponent(assetText(`${name}.mjs`))}`);
  return new URL(`./${name}${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
}

/** True when running from the TypeScript sources (under tsx: tests, development), not a build. */
export function fromSources(): boolean {
  return !bundled() && extname(fileURLToPath(import.meta.url)) === '.ts';
}

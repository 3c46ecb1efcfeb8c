import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/corpus.js';
import { tempDir } from '../helpers/snap.js';

/** Run the real `npm run bundle` script into a fresh directory; returns that directory (the DIST of make). */
export function bundleInto(): string {
  const dist = join(tempDir('bhyve-gpu-bundle-'), 'dist');
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'bundle.mjs'), '--outdir', dist], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`scripts/bundle.mjs failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return dist;
}

import type { TreeRelease } from './types.js';

/**
 * Read TYPE/REVISION/BRANCH from sys/conf/newvers.sh, e.g. `REVISION="15.0"` and `BRANCH="RELEASE-p2"`.
 * Returns undefined when the lines are missing or the revision is not MAJOR.MINOR.
 */
export function parseNewvers(text: string): TreeRelease | undefined {
  const value = (name: string): string | undefined => {
    const m = new RegExp(`^${name}="([^"\\n]*)"`, 'm').exec(text);
    return m?.[1];
  };
  const revision = value('REVISION');
  const branch = value('BRANCH');
  if (revision === undefined || branch === undefined) return undefined;
  const m = /^(\d+)\.(\d+)$/.exec(revision);
  if (!m) return undefined;
  return { revision, branch, major: Number(m[1]), minor: Number(m[2]) };
}

/** "15.0-RELEASE-p2" */
export function releaseName(release: TreeRelease): string {
  return `${release.revision}-${release.branch}`;
}

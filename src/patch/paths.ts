/** Turn the file names of a diff header into tree-relative paths. */

/**
 * Strip a diff file name: the header's timestamp (after a tab), then `strip` leading components
 * (like patch -pN). Without `strip`, git's `a/` and `b/` prefixes and a leading `./` are removed.
 * Returns undefined for /dev/null.
 */
export function stripPath(name: string | undefined, strip?: number): string | undefined {
  if (name === undefined) return undefined;
  let path = name.split('\t')[0]?.trim() ?? '';
  if (path === '/dev/null' || path === '') return undefined;
  if (strip !== undefined) {
    const parts = path.split('/').filter((p, i) => !(i === 0 && p === ''));
    path = parts.slice(strip).join('/');
  } else {
    path = path.replace(/^[ab]\//, '');
  }
  return path.replace(/^(\.\/)+/, '');
}

/** Is this a bmake file that may hold an SRCS list? */
export function isMakefile(path: string): boolean {
  return /(^|\/)(Makefile|Makefile\.inc|[\w.-]+\.mk)$/.test(path);
}

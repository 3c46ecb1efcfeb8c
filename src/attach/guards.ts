import { parseShDoc } from '../conf/shedit.js';
import { NotCapturedError, ParseError, UsageError } from '../errors.js';
import type { FileStat, Host } from '../host/types.js';
import type { Plan } from '../plan/types.js';

/**
 * Re-parse each written config file: the edit must not add a line the parser cannot read (lines that were
 * already unreadable before the edit are kept as they were and do not count).
 */
export function shFileVerifier(plan: Plan): (path: string, text: string) => void {
  return (path, text) => {
    if (!path.endsWith('.conf') && !path.endsWith('.local')) return;
    const step = plan.steps.find((s) => s.kind === 'file-edit' && s.path === path);
    const before = step?.kind === 'file-edit' ? (step.before ?? '') : '';
    const had = parseShDoc(before, path).warnings.length;
    const doc = parseShDoc(text, path);
    const bad = doc.warnings[had] ?? (doc.warnings.length > had ? doc.warnings[0] : undefined);
    if (bad)
      throw new ParseError(`written file does not parse: ${bad.message}`, { file: path, line: bad.line });
  };
}

/**
 * `--rom FILE`: a file on the host that bhyve can open. A comma would split bhyve's option string, and
 * vm-bhyve drops `#` and `"`. Returns a note when the file cannot be checked (a snapshot did not record it).
 */
export async function checkRom(host: Host, rom: string): Promise<string | undefined> {
  if (/[,#"\s]/.test(rom) || !rom.startsWith('/'))
    throw new UsageError(
      `--rom ${rom}: use an absolute path without commas, spaces, '#' or '"'`,
      'bhyve splits its passthru options at commas',
    );
  let st: FileStat | undefined;
  try {
    st = await host.stat(rom);
  } catch (e) {
    if (e instanceof NotCapturedError) return `${rom} not checked: the snapshot does not record it`;
    throw e;
  }
  if (!st)
    throw new UsageError(
      `--rom ${rom}: no such file on ${host.description}`,
      'dump the VBIOS first, or check the path',
    );
  if (!st.isFile) throw new UsageError(`--rom ${rom}: not a regular file`);
  return undefined;
}

/**
 * Read-only view of loader.conf / rc.conf style files: `KEY="value"`, `KEY='value'`, `KEY=value`,
 * `#` comments (whole-line and trailing), blank lines. The lossless editor lives in src/conf/.
 */
import type { ParseWarning, ShAssignment } from './types.js';

const ASSIGNMENT = /^([A-Za-z_][\w.]*)\s*=\s*(.*)$/;

export interface ShVars {
  assignments: ShAssignment[];
  warnings: ParseWarning[];
}

/** `file` only labels the warnings ("/boot/loader.conf: ..."). */
export function parseShVars(text: string, file?: string): ShVars {
  const assignments: ShAssignment[] = [];
  const warnings: ParseWarning[] = [];
  const where = file === undefined ? '' : `${file}: `;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    const m = ASSIGNMENT.exec(t);
    if (!m) {
      warnings.push({ line, message: `${where}not a KEY=value line: ${t.slice(0, 80)}` });
      return;
    }
    const value = readValue(m[2]!);
    if (value === undefined) {
      warnings.push({ line, message: `${where}unterminated quote in the value of ${m[1]}` });
      return;
    }
    assignments.push({ key: m[1]!, value, line });
  });
  return { assignments, warnings };
}

/** The value after `=`: quoted (quotes removed, `\"` unescaped in double quotes) or bare up to a comment. */
function readValue(rest: string): string | undefined {
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    let out = '';
    for (let i = 1; i < rest.length; i++) {
      const c = rest[i]!;
      if (c === quote) return out;
      if (quote === '"' && c === '\\' && i + 1 < rest.length) {
        i++;
        out += rest[i];
      } else out += c;
    }
    return undefined;
  }
  const hash = rest.search(/\s#/);
  return (hash >= 0 ? rest.slice(0, hash) : rest).trim();
}

/** The value the shell ends up with: the last assignment of `key` wins. */
export function effectiveValue(assignments: ShAssignment[], key: string): string | undefined {
  for (let i = assignments.length - 1; i >= 0; i--)
    if (assignments[i]!.key === key) return assignments[i]!.value;
  return undefined;
}

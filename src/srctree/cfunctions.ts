/**
 * Just enough C reading for bhyve quirk files: function bodies by name, passthru_dev initialisers and
 * #define values. Comments and strings are blanked first so that braces inside them do not count.
 */

/** Replace comments and string/char literals with spaces, keeping every offset and newline. */
export function blankComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'/g, (m) =>
    m.replace(/[^\n]/g, ' '),
  );
}

export interface CFunction {
  name: string;
  /** Parameter list text between the parentheses. */
  params: string;
  /** Offset of the opening brace of the body. */
  open: number;
  /** Offset of the closing brace of the body. */
  close: number;
  /** Body text between the braces. */
  body: string;
}

function matchBrace(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i += 1) {
    const ch = code[i];
    if (ch === '{') depth += 1;
    else if (ch === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** The definition of function `name` (at file scope, with a body), if the file has one. */
export function findFunction(text: string, name: string): CFunction | undefined {
  const code = blankComments(text);
  const re = new RegExp(`(^|\\n)[^\\n;{}()]*\\b${name}\\s*\\(([^)]*)\\)\\s*\\{`);
  const m = re.exec(code);
  if (m) {
    const open = m.index + m[0].length - 1;
    const close = matchBrace(code, open);
    if (close >= 0) return { name, params: m[2] ?? '', open, close, body: text.slice(open + 1, close) };
  }
  return undefined;
}

export interface PassthruEntry {
  name: string;
  probe: string | undefined;
  init: string | undefined;
  deinit: string | undefined;
  /** Offset of the entry's `struct passthru_dev` definition. */
  offset: number;
}

/** `static struct passthru_dev NAME = { .probe = ..., .init = ... };` entries, in file order. */
export function findPassthruEntries(text: string): PassthruEntry[] {
  const code = blankComments(text);
  const entries: PassthruEntry[] = [];
  const re = /struct\s+passthru_dev\s+(\w+)\s*=\s*\{([^}]*)\}/g;
  for (let m = re.exec(code); m !== null; m = re.exec(code)) {
    const fields = m[2] ?? '';
    const field = (f: string) => new RegExp(`\\.${f}\\s*=\\s*&?\\s*(\\w+)`).exec(fields)?.[1];
    entries.push({
      name: m[1] ?? '',
      probe: field('probe'),
      init: field('init'),
      deinit: field('deinit'),
      offset: m.index,
    });
  }
  return entries;
}

/** Macro names #defined to `value` (compared case-insensitively), e.g. PCI_VENDOR_NVIDIA -> 0x10DE. */
export function macrosWithValue(text: string, value: string): string[] {
  const names: string[] = [];
  const re = /^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+\(?([^\s)]+)\)?[ \t]*$/gm;
  const code = blankComments(text);
  for (let m = re.exec(code); m !== null; m = re.exec(code)) {
    // Integer suffixes (0x10DEU, 0x10deUL) do not change the value.
    const defined = (m[2] ?? '').replace(/^(0x[0-9a-f]+|\d+)[ul]+$/i, '$1');
    if (defined.toLowerCase() === value.toLowerCase()) names.push(m[1] ?? '');
  }
  return names;
}

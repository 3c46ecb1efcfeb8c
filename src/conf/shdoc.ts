/**
 * Parser and printer of the lossless sh-variable document (see shedit.ts for the editing side).
 *
 * One node per line (a multi-line quoted value is one `other` node spanning its lines); every node keeps
 * its raw text and line terminator, so `printShDoc(parseShDoc(x)) === x` byte for byte.
 */

export type Quote = '"' | "'" | '';
export type LineEnd = '\n' | '\r\n' | '';

interface NodeBase {
  /** The line's text without its terminator (may span several lines for an `other` node). */
  raw: string;
  /** 1-based line number where the node starts in the parsed text (0 for lines added by an edit). */
  line: number;
  eol: LineEnd;
  /**
   * A terminator printed BEFORE the line: set on a line appended to a file that had no final newline, so
   * the file keeps that shape and removing the line again restores the original bytes.
   */
  lead?: LineEnd;
}
export interface AssignmentNode extends NodeBase {
  kind: 'assignment';
  key: string;
  /** The value with quoting removed and backslash escapes of double quotes resolved. */
  value: string;
  quote: Quote;
  /** Everything before the value: leading blanks, the key and `=`. */
  prefix: string;
  /** Everything after the value: blanks, `;`, a trailing `# comment`. */
  suffix: string;
}
export interface CommentNode extends NodeBase {
  kind: 'comment';
}
export interface BlankNode extends NodeBase {
  kind: 'blank';
}
export interface OtherNode extends NodeBase {
  kind: 'other';
  /** The key when the line looks like an assignment of a value this editor does not interpret. */
  key: string | undefined;
  reason: string;
}
export type ShNode = AssignmentNode | CommentNode | BlankNode | OtherNode;

export interface ShWarning {
  file: string | undefined;
  line: number;
  message: string;
}

export interface ShOptions {
  /** Refuse values vm-bhyve would mangle (`#`, `"`) and never write single quotes. */
  vmBhyve?: boolean;
  /**
   * loader.conf(5): the boot loader takes `name="value"` (or bare digits) with no backslash escapes, so
   * values are written in double quotes verbatim and a `"` in a value is refused.
   */
  loader?: boolean;
}

export interface ShDoc {
  file: string | undefined;
  nodes: ShNode[];
  /** The line terminator new lines get: CRLF when the file already uses it. */
  newline: '\n' | '\r\n';
  warnings: ShWarning[];
  options: ShOptions;
}

export const KEY = /^([ \t]*)([A-Za-z_][A-Za-z0-9_.]*)=/;
/** Characters an unquoted word may hold without sh interpreting them. */
export const PLAIN_WORD = /^[^\s;&|<>()$`\\"'#*?[\]~{}]*$/;

interface RawLine {
  text: string;
  eol: LineEnd;
}

function splitLines(text: string): RawLine[] {
  const lines: RawLine[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      lines.push({ text: text.slice(start), eol: '' });
      break;
    }
    const cr = nl > start && text[nl - 1] === '\r';
    lines.push({ text: text.slice(start, cr ? nl - 1 : nl), eol: cr ? '\r\n' : '\n' });
    start = nl + 1;
  }
  return lines;
}

interface ValueScan {
  value: string;
  quote: Quote;
  /** Index just past the value token, or -1 when a quote is not closed on this text. */
  end: number;
  complex: boolean;
}

/** Reads the value token that starts at `rest[0]`. */
function scanValue(rest: string): ValueScan {
  const first = rest[0];
  if (first === '"') {
    let value = '';
    let complex = false;
    for (let i = 1; i < rest.length; i++) {
      const c = rest[i] as string;
      if (c === '\\' && i + 1 < rest.length) {
        const next = rest[i + 1] as string;
        if ('$`"\\'.includes(next)) {
          value += next;
          i++;
          continue;
        }
        value += c;
        continue;
      }
      if (c === '"') return { value, quote: '"', end: i + 1, complex };
      // An unescaped backtick or parameter expansion: the value is not the literal text.
      if (c === '`' || (c === '$' && /[A-Za-z0-9_{(@*#?$!-]/.test(rest[i + 1] ?? ''))) complex = true;
      value += c;
    }
    return { value, quote: '"', end: -1, complex };
  }
  if (first === "'") {
    const close = rest.indexOf("'", 1);
    if (close < 0) return { value: rest.slice(1), quote: "'", end: -1, complex: false };
    return { value: rest.slice(1, close), quote: "'", end: close + 1, complex: false };
  }
  const m = /^[^\s;]*/.exec(rest);
  const word = m ? m[0] : '';
  return { value: word, quote: '', end: word.length, complex: !PLAIN_WORD.test(word) };
}

/** Whether the text after a value token is something sh accepts and this editor can keep as a suffix. */
function plainSuffix(suffix: string): boolean {
  return /^[ \t]*;?[ \t]*(#.*)?$/.test(suffix);
}

/**
 * The parse of each text is kept (a small cache keyed by file name and text), so a command parses each
 * config file once however many readers look at it: `readShDoc` hands out the shared parse for read-only
 * views (src/conf/views.ts), `parseShDoc` a private copy an editor may change.
 */
const parsed = new Map<string, ShDoc>();
const CACHE_ENTRIES = 64;

/** The shared parse of `text`, for reading only (never edit the nodes it returns). */
export function readShDoc(text: string, file?: string): Readonly<ShDoc> {
  const key = `${file ?? ''}\0${text}`;
  let doc = parsed.get(key);
  if (!doc) {
    doc = parseText(text, file);
    if (parsed.size >= CACHE_ENTRIES) parsed.delete(parsed.keys().next().value as string);
    parsed.set(key, doc);
  }
  return doc;
}

/** A parse of `text` to edit: a private copy of the shared parse. */
export function parseShDoc(text: string, file?: string, options: ShOptions = {}): ShDoc {
  const doc = structuredClone(readShDoc(text, file)) as ShDoc;
  doc.options = options;
  return doc;
}

function parseText(text: string, file: string | undefined): ShDoc {
  const options: ShOptions = {};
  const lines = splitLines(text);
  const nodes: ShNode[] = [];
  const warnings: ShWarning[] = [];
  const newline = lines.some((l) => l.eol === '\r\n') ? '\r\n' : '\n';
  const other = (start: number, raw: string, eol: LineEnd, key: string | undefined, reason: string): void => {
    nodes.push({ kind: 'other', raw, line: start, eol, key, reason });
    warnings.push({ file, line: start, message: `${reason}; line kept unchanged` });
  };
  for (let i = 0; i < lines.length; i++) {
    const { text: raw, eol } = lines[i] as RawLine;
    const number = i + 1;
    if (/^[ \t]*$/.test(raw)) {
      nodes.push({ kind: 'blank', raw, line: number, eol });
      continue;
    }
    if (/^[ \t]*#/.test(raw)) {
      nodes.push({ kind: 'comment', raw, line: number, eol });
      continue;
    }
    const m = KEY.exec(raw);
    if (!m) {
      other(number, raw, eol, undefined, 'not a KEY=value assignment');
      continue;
    }
    const key = m[2] as string;
    const prefix = m[0];
    const rest = raw.slice(prefix.length);
    const scan = scanValue(rest);
    if (scan.end < 0) {
      // An unterminated quote: sh reads on to the closing quote on a later line. Keep them together.
      const quote = scan.quote;
      let joined = raw;
      let lastEol = eol;
      let j = i;
      while (j + 1 < lines.length) {
        j++;
        const next = lines[j] as RawLine;
        joined += lastEol + next.text;
        lastEol = next.eol;
        if (next.text.includes(quote)) break;
      }
      other(number, joined, lastEol, key, `${key}: value spans several lines or its quote is not closed`);
      i = j;
      continue;
    }
    const suffix = rest.slice(scan.end);
    if (scan.complex || !plainSuffix(suffix)) {
      other(
        number,
        raw,
        eol,
        key,
        `${key}: value uses shell expansion or syntax this editor does not interpret`,
      );
      continue;
    }
    nodes.push({
      kind: 'assignment',
      key,
      value: scan.value,
      quote: scan.quote,
      raw,
      line: number,
      eol,
      prefix,
      suffix,
    });
  }
  return { file, nodes, newline, warnings, options };
}

export function printShDoc(doc: ShDoc): string {
  let out = '';
  for (const node of doc.nodes) out += (node.lead ?? '') + node.raw + node.eol;
  return out;
}

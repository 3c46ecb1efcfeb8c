/**
 * Lossless editor for sh-style `KEY="value"` files: rc.conf, loader.conf, vm-bhyve guest configs.
 *
 * `parseShDoc` turns text into one node per line (assignment, comment, blank, other) and keeps the raw text
 * and line terminator of every line, so `printShDoc(parseShDoc(x)) === x` byte for byte (CRLF, a missing
 * final newline, trailing spaces, odd quoting). Edits only rewrite the lines they touch:
 *
 * - `get` returns the value of the LAST assignment (sh and sysrc(8) semantics: the last one wins).
 * - `set` rewrites the last assignment in place, keeping its quoting style and any trailing comment; when
 *   the key is absent it appends `key="value"` at the end (adding the missing final newline first, as
 *   vm-bhyve's `config::set` does before calling sysrc).
 * - `unset` removes every assignment of the key (`sysrc -x`), including ones kept as `other`.
 * - `append` adds a space-separated word when absent (`sysrc name+=word`).
 *
 * A line that cannot be understood (command substitution, an unterminated quote, a value with unquoted
 * expansions) is kept verbatim as `other` and reported in `doc.warnings` with its line number; it is never
 * lost. A multi-line quoted value becomes one `other` node spanning its lines.
 *
 * `{ vmBhyve: true }` guards vm-bhyve guest configs: vm-bhyve's `config::load` cuts each line at the first
 * `#` and deletes every `"`, so such values are refused with a ToolError, and single quotes (which vm-bhyve
 * keeps as part of the value) are rewritten as double quotes.
 */
import { ToolError } from '../errors.js';
import {
  type AssignmentNode,
  PLAIN_WORD,
  parseShDoc,
  printShDoc,
  type Quote,
  type ShDoc,
  type ShNode,
  type ShOptions,
} from './shdoc.js';

export * from './shdoc.js';

/** Every assignment node of `key`, in file order. */
export function assignments(doc: ShDoc, key: string): AssignmentNode[] {
  return doc.nodes.filter((n): n is AssignmentNode => n.kind === 'assignment' && n.key === key);
}

/** The value of the last assignment of `key`, or undefined when there is none. */
export function get(doc: ShDoc, key: string): string | undefined {
  const all = assignments(doc, key);
  return all[all.length - 1]?.value;
}

/** Whether `key` has any assignment, interpreted or kept as `other`. */
export function has(doc: ShDoc, key: string): boolean {
  return doc.nodes.some((n) => (n.kind === 'assignment' || n.kind === 'other') && n.key === key);
}

function checkValue(doc: ShDoc, key: string, value: string, options: ShOptions | undefined): void {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key))
    throw new ToolError('conf-bad-key', `${key}: not a variable name`);
  if (value.includes('\n') || value.includes('\r')) {
    throw new ToolError('conf-bad-value', `${key}: a value may not contain a line break`);
  }
  const { vmBhyve, loader } = effective(doc, options);
  if (vmBhyve && (value.includes('#') || value.includes('"'))) {
    throw new ToolError('conf-vm-bhyve-value', `${key}: vm-bhyve cannot read a value containing '#' or '"'`, {
      hint: 'vm-bhyve cuts each config line at the first # and deletes every double quote',
    });
  }
  if (loader && value.includes('"')) {
    throw new ToolError('conf-loader-value', `${key}: the boot loader cannot read a value containing '"'`);
  }
}

function effective(doc: ShDoc, options: ShOptions | undefined): { vmBhyve: boolean; loader: boolean } {
  return {
    vmBhyve: options?.vmBhyve ?? doc.options.vmBhyve ?? false,
    loader: options?.loader ?? doc.options.loader ?? false,
  };
}

/** Encodes `value` in the given quoting style: sh escapes, or verbatim for the boot loader. */
export function quoteValue(value: string, quote: Quote, loader = false): string {
  if (quote === "'") return `'${value}'`;
  if (quote === '') return value;
  if (loader) return `"${value}"`;
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** The quoting an existing assignment can keep for a new value. */
function keepQuote(old: Quote, value: string, mode: { vmBhyve: boolean; loader: boolean }): Quote {
  if (mode.loader) return old === '' && /^\d+$/.test(value) ? '' : '"';
  if (old === "'" && !mode.vmBhyve && !value.includes("'")) return "'";
  if (old === '' && value !== '' && PLAIN_WORD.test(value)) return '';
  return '"';
}

/**
 * Sets `key` to `value`: rewrites the last assignment in place (keeping quoting and trailing comment) or
 * appends `key="value"`. Returns true when the text changed.
 */
export function set(doc: ShDoc, key: string, value: string, options?: ShOptions): boolean {
  checkValue(doc, key, value, options);
  const mode = effective(doc, options);
  const all = assignments(doc, key);
  const last = all[all.length - 1];
  const lastOther = doc.nodes.findLastIndex((n) => n.kind === 'other' && n.key === key);
  if (last && doc.nodes.indexOf(last) > lastOther) {
    const quote = keepQuote(last.quote, value, mode);
    if (last.value === value && quote === last.quote) return false;
    last.value = value;
    last.quote = quote;
    last.raw = last.prefix + quoteValue(value, quote, mode.loader) + last.suffix;
    return true;
  }
  appendLine(doc, { key, value, quote: '"', prefix: `${key}=`, suffix: '' }, mode.loader);
  return true;
}

function appendLine(
  doc: ShDoc,
  a: Pick<AssignmentNode, 'key' | 'value' | 'quote' | 'prefix' | 'suffix'>,
  loader: boolean,
): void {
  const lastNode = doc.nodes[doc.nodes.length - 1];
  const raw = a.prefix + quoteValue(a.value, a.quote, loader) + a.suffix;
  if (lastNode && lastNode.eol === '') {
    doc.nodes.push({ kind: 'assignment', ...a, raw, line: 0, eol: '', lead: doc.newline });
  } else {
    doc.nodes.push({ kind: 'assignment', ...a, raw, line: 0, eol: doc.newline });
  }
}

/** Removes every assignment of `key` (as `sysrc -x`). Returns true when the text changed. */
export function unset(doc: ShDoc, key: string): boolean {
  return removeNodes(doc, (n) => (n.kind === 'assignment' || n.kind === 'other') && n.key === key);
}

/** Removes the nodes `drop` selects, keeping line terminators consistent. Returns true when any went. */
export function removeNodes(doc: ShDoc, drop: (node: ShNode) => boolean): boolean {
  const before = doc.nodes.length;
  const noFinalNewline = doc.nodes[before - 1]?.eol === '';
  doc.nodes = doc.nodes.filter((n) => !drop(n));
  // A file without a final newline keeps that shape when its last line goes.
  const last = doc.nodes[doc.nodes.length - 1];
  if (noFinalNewline && last && last.eol !== '') last.eol = '';
  doc.nodes.forEach((n, i) => {
    // A leading terminator only makes sense right after a line that has none.
    if (n.lead && (i === 0 || doc.nodes[i - 1]?.eol !== '')) n.lead = undefined;
  });
  return doc.nodes.length !== before;
}

/** Adds `word` to the space-separated value of `key` when absent (`sysrc key+=word`). */
export function append(doc: ShDoc, key: string, word: string, options?: ShOptions): boolean {
  if (word === '' || /\s/.test(word))
    throw new ToolError('conf-bad-value', `${key}: cannot append '${word}'`);
  const current = get(doc, key);
  const words = current === undefined ? [] : current.split(/\s+/).filter((w) => w !== '');
  if (words.includes(word)) return false;
  const next =
    current === undefined || current.trim() === '' ? word : `${current.replace(/\s+$/, '')} ${word}`;
  return set(doc, key, next, options);
}

/** Parses, applies `edit`, prints: the convenience form for one-shot edits of a text. */
export function editShText(
  text: string,
  edit: (doc: ShDoc) => void,
  file?: string,
  options?: ShOptions,
): string {
  const doc = parseShDoc(text, file, options);
  edit(doc);
  return printShDoc(doc);
}

/** Renames the key of one assignment node in place, keeping its value text, quoting and suffix. */
export function renameNode(node: AssignmentNode, key: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key))
    throw new ToolError('conf-bad-key', `${key}: not a variable name`);
  const valueText = node.raw.slice(node.prefix.length, node.raw.length - node.suffix.length);
  node.prefix = `${node.prefix.slice(0, node.prefix.length - node.key.length - 1)}${key}=`;
  node.key = key;
  node.raw = node.prefix + valueText + node.suffix;
}

import { blankComments, findFunction } from '../../srctree/cfunctions.js';

/**
 * Small, content-addressed edits of C text shared by the quirk modules: add includes, put statements at the
 * top of a function body (after its declarations), insert text before a function definition.
 */

/** Add the `#include` lines the text lacks, after its last include (or at the top). */
export function addIncludes(text: string, includes: readonly string[]): string {
  let next = text;
  for (const inc of includes) {
    if (next.includes(inc)) continue;
    // System headers go after the last <...> include, local ones after the last include of any kind.
    const at = inc.includes('<')
      ? afterLastInclude(next, true) || afterLastInclude(next)
      : afterLastInclude(next);
    next = `${next.slice(0, at)}${inc}\n${next.slice(at)}`;
  }
  return next;
}

/** Offset just after the last `#include` outside any `#if` block (0 when there is none). */
export function afterLastInclude(text: string, systemOnly = false): number {
  let depth = 0;
  let at = 0;
  let offset = 0;
  for (const line of text.split('\n')) {
    const end = offset + line.length + 1;
    if (/^\s*#\s*if/.test(line)) depth += 1;
    else if (/^\s*#\s*endif/.test(line)) depth = Math.max(0, depth - 1);
    else if (depth === 0 && (systemOnly ? /^\s*#\s*include\s*</ : /^\s*#\s*include\b/).test(line))
      at = Math.min(end, text.length);
    offset = end;
  }
  return at;
}

/** Insert raw lines after the last top-level include. */
export function insertAfterIncludes(text: string, block: string): string {
  const at = afterLastInclude(text);
  return `${text.slice(0, at)}${block.replace(/\n*$/, '\n')}${text.slice(at)}`;
}

const DECLARATION =
  /^\s+(?:const\s+|static\s+|unsigned\s+|struct\s+\w+|enum\s+\w+|[a-z_][\w]*_t\b|int\b|char\b|bool\b|long\b|short\b|void\b)[^;(]*(?:=[^;]*)?;\s*$/;

/** Insert lines (without indentation) at the top of function `name`'s body, after its declarations. */
export function insertAtTop(text: string, name: string, lines: readonly string[]): string | undefined {
  const fn = findFunction(text, name);
  if (!fn) return undefined;
  const body = fn.body.split('\n');
  let at = 1;
  while (at < body.length && DECLARATION.test(body[at] ?? '')) at += 1;
  if (at > 1 && (body[at] ?? '').trim() === '') at += 1;
  body.splice(at, 0, ...lines.map((l) => (l === '' ? '' : `\t${l}`)), '');
  return text.slice(0, fn.open + 1) + body.join('\n') + text.slice(fn.close);
}

/** The parameter name of the `struct pci_devinst *` parameter of function `name`. */
export function devinstParam(text: string, name: string): string | undefined {
  const fn = findFunction(text, name);
  if (!fn) return undefined;
  return /struct\s+pci_devinst\s*\*\s*(?:const\s+)?(\w+)/.exec(fn.params)?.[1];
}

/**
 * Offset where the definition of function `name` starts: the line with its name, moved up over a
 * preceding return-type line (FreeBSD style puts `static int` on its own line).
 */
export function definitionStart(text: string, name: string): number | undefined {
  const fn = findFunction(text, name);
  if (!fn) return undefined;
  const code = blankComments(text);
  let start = code.lastIndexOf('\n', code.lastIndexOf(`${name}`, fn.open)) + 1;
  for (;;) {
    if (start === 0) break;
    const prevStart = code.lastIndexOf('\n', start - 2) + 1;
    const prev = code.slice(prevStart, start - 1);
    if (/^[A-Za-z_][\w\s*]*$/.test(prev) && !/^\s*$/.test(prev)) start = prevStart;
    else break;
  }
  return start;
}

/** Insert a block before the definition of function `name` (separated by a blank line). */
export function insertBefore(text: string, name: string, block: string): string | undefined {
  const at = definitionStart(text, name);
  if (at === undefined) return undefined;
  return `${text.slice(0, at)}${block.replace(/\n*$/, '\n')}\n${text.slice(at)}`;
}

/**
 * bmake SRCS lists: find the assignment that lists a source file and add a file to it in the list's own
 * style (one word per line with a tab and an aligned backslash, or several words per line).
 */

export interface SrcsList {
  /** 0-based index of the first physical line of the assignment. */
  startLine: number;
  /** 0-based index of the last physical line (the one without a trailing backslash). */
  endLine: number;
  /** The words listed, in order. */
  words: string[];
  /** Physical line index of each word. */
  wordLines: number[];
}

const ASSIGN = /^\s*SRCS\s*(\+|\?|:)?=/;

/** Every `SRCS=` / `SRCS+=` assignment in a Makefile, continuation lines joined. */
export function findSrcsLists(text: string): SrcsList[] {
  const lines = text.split('\n');
  const lists: SrcsList[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i] ?? '';
    const start = i;
    let end = i;
    while (/\\\s*$/.test(lines[end] ?? '') && end + 1 < lines.length) end += 1;
    if (ASSIGN.test(first)) {
      const words: string[] = [];
      const wordLines: number[] = [];
      for (let n = start; n <= end; n += 1) {
        let body = (lines[n] ?? '').replace(/\\\s*$/, '');
        if (n === start) body = body.replace(ASSIGN, '');
        body = body.replace(/#.*$/, '');
        for (const w of body.split(/\s+/)) {
          if (w === '') continue;
          words.push(w);
          wordLines.push(n);
        }
      }
      lists.push({ startLine: start, endLine: end, words, wordLines });
    }
    i = end + 1;
  }
  return lists;
}

/** The SRCS assignment that lists `word`, if any. */
export function findListWith(text: string, word: string): SrcsList | undefined {
  return findSrcsLists(text).find((l) => l.words.includes(word));
}

/** Any SRCS assignment in the file lists `word`. */
export function srcsListed(text: string, word: string): boolean {
  return findListWith(text, word) !== undefined;
}

function columnOf(s: string): number {
  let col = 0;
  for (const ch of s) col = ch === '\t' ? (Math.floor(col / 8) + 1) * 8 : col + 1;
  return col;
}

/** Tabs that pad `prefix + word` out to `column` (at least one). */
function padTo(prefix: string, column: number): string {
  let col = columnOf(prefix);
  let pad = '';
  do {
    pad += '\t';
    col = (Math.floor(col / 8) + 1) * 8;
  } while (col < column);
  return pad;
}

function isSorted(words: string[]): boolean {
  return words.every((w, i) => i === 0 || (words[i - 1] ?? '') <= w);
}

/**
 * Add `word` to the SRCS list that holds `anchor`, right after the anchor, or at its sorted place when
 * the list is sorted. Returns the new text, or undefined when no list holds the anchor. A list that
 * already holds `word` is returned unchanged.
 */
export function addToSrcsList(text: string, anchor: string, word: string): string | undefined {
  const list = findListWith(text, anchor);
  if (!list) return undefined;
  if (list.words.includes(word)) return text;
  const lines = text.split('\n');
  let after = list.words.indexOf(anchor);
  if (isSorted(list.words)) {
    after = -1;
    list.words.forEach((w, idx) => {
      if (w < word) after = idx;
    });
    if (after < 0) after = list.words.indexOf(anchor);
  }
  const afterLine = list.wordLines[after] ?? list.startLine;
  const anchorLine = list.wordLines[list.words.indexOf(anchor)] ?? list.startLine;
  const onePerLine = list.wordLines.every((n, idx) => idx === 0 || n !== list.wordLines[idx - 1]);
  const model = lines[anchorLine] ?? '';
  if (!onePerLine || afterLine === list.startLine) {
    // Several words per line (or the word shares the assignment line): insert into that line.
    const prev = list.words[after] ?? anchor;
    const line = lines[afterLine] ?? '';
    const at = new RegExp(`(^|\\s|=)(${escapeRegExp(prev)})(?=\\s|\\\\|$)`);
    lines[afterLine] = line.replace(at, `$1$2 ${word}`);
    return lines.join('\n');
  }
  const indent = /^\s*/.exec(model)?.[0] ?? '\t';
  const continued = /\\\s*$/.test(lines[afterLine] ?? '');
  const backslashAt = /(\s*)\\\s*$/.exec(model);
  const column = backslashAt
    ? columnOf(model.slice(0, backslashAt.index + (backslashAt[1]?.length ?? 0)))
    : 24;
  const entry = (w: string) => `${indent}${w}${padTo(indent + w, column)}\\`;
  if (continued) {
    lines.splice(afterLine + 1, 0, entry(word));
  } else {
    // The last word of the list: give it a backslash, the new word ends the list.
    const last = lines[afterLine] ?? '';
    lines[afterLine] = entry(last.trim());
    lines.splice(afterLine + 1, 0, `${indent}${word}`);
  }
  return lines.join('\n');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

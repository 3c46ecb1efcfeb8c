/**
 * Aho-Corasick automaton over bytes: finds every keyword of the knowledge base in one pass, one table
 * lookup per byte. This is the prefilter: only lines that contain a keyword are decoded and run through
 * the signature regexes. Keywords are ASCII and never contain a newline.
 */
export interface Automaton {
  /** Byte -> input class (0 for every byte that occurs in no keyword). */
  classes: Uint8Array;
  classCount: number;
  /**
   * Transition table over row offsets: next = table[row + class], where row = state * classCount. A
   * negative entry -(row + 1) marks a state where keywords end.
   */
  table: Int32Array;
  /** Signature indices whose keywords end in this state (undefined for most states). */
  outputs: (number[] | undefined)[];
}

/** Build the automaton; `keywords` maps each keyword to the signature indices it belongs to. */
export function buildAutomaton(keywords: Map<string, number[]>): Automaton {
  const edges: Map<number, number>[] = [new Map()];
  const outputs: (number[] | undefined)[] = [undefined];
  const classes = new Uint8Array(256);
  let classCount = 1;
  for (const [keyword, sigs] of keywords) {
    let state = 0;
    for (const byte of Buffer.from(keyword, 'utf8')) {
      if (classes[byte] === 0) classes[byte] = classCount++;
      let next = edges[state]?.get(byte);
      if (next === undefined) {
        next = edges.length;
        edges.push(new Map());
        outputs.push(undefined);
        edges[state]?.set(byte, next);
      }
      state = next;
    }
    outputs[state] = [...new Set([...(outputs[state] ?? []), ...sigs])];
  }
  const states = edges.length;
  const table = new Int32Array(states * classCount);
  const fail = new Int32Array(states);
  // Breadth-first: a state's failure target is always finished before the state itself.
  const queue: number[] = [];
  for (const [byte, next] of edges[0] as Map<number, number>) {
    table[classes[byte] as number] = next;
    queue.push(next);
  }
  for (let head = 0; head < queue.length; head++) {
    const state = queue[head] as number;
    const f = fail[state] as number;
    const inherited = outputs[f];
    if (inherited) outputs[state] = [...new Set([...(outputs[state] ?? []), ...inherited])];
    const row = state * classCount;
    const failRow = f * classCount;
    for (let c = 0; c < classCount; c++) table[row + c] = table[failRow + c] as number;
    for (const [byte, next] of edges[state] as Map<number, number>) {
      const c = classes[byte] as number;
      fail[next] = table[failRow + c] as number;
      table[row + c] = next;
      queue.push(next);
    }
  }
  // Switch entries from state numbers to (signed) row offsets for the hot loop.
  for (let i = 0; i < table.length; i++) {
    const next = table[i] as number;
    table[i] = outputs[next] === undefined ? next * classCount : -(next * classCount) - 1;
  }
  return { classes, classCount, table, outputs };
}

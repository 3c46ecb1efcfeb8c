import { createInterface, type Interface } from 'node:readline';
import { ToolError, UsageError } from '../errors.js';

/** Prompts only for a person at a terminal: never under CI, never without a TTY on both ends. */
export function interactive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true && !process.env.CI;
}

export function requireInteractive(what: string, flags: string): void {
  if (!interactive())
    throw new UsageError(`${what}: no terminal to ask on`, `give every answer by flags (${flags}) and --yes`);
}

// One line reader for the whole session, with a queue: lines typed (or pasted) ahead of a question are
// kept for the next questions instead of being lost.
let reader: Interface | undefined;
const lines: string[] = [];
const waiting: ((line: string | undefined) => void)[] = [];
let ended = false;

function open(): void {
  if (reader) return;
  reader = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  reader.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  reader.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
}

async function ask(question: string): Promise<string> {
  open();
  process.stderr.write(question);
  const queued = lines.shift();
  const line = queued ?? (ended ? undefined : await new Promise<string | undefined>((r) => waiting.push(r)));
  if (line === undefined) throw new ToolError('no-answer', 'no answer: the input ended', { exitCode: 2 });
  return line.trim();
}

/** Release the terminal once the questions are over. */
export function closePrompts(): void {
  reader?.close();
  reader = undefined;
}

/** Pick one of `choices` by number (1-based); the first is the default. */
export async function choose<T>(question: string, choices: { label: string; value: T }[]): Promise<T> {
  process.stderr.write(`${question}\n`);
  choices.forEach((c, i) => {
    process.stderr.write(`  ${i + 1}) ${c.label}\n`);
  });
  for (;;) {
    const a = await ask(`choice [1-${choices.length}, default 1]: `);
    const n = a === '' ? 1 : Number(a);
    const c = Number.isInteger(n) ? choices[n - 1] : undefined;
    if (c) return c.value;
    process.stderr.write(`answer a number from 1 to ${choices.length}\n`);
  }
}

export async function confirm(question: string): Promise<boolean> {
  return /^y(es)?$/i.test(await ask(`${question} [y/N] `));
}

/** A yes/no question whose default (an empty answer) is yes: `[Y/n]`. */
export async function confirmDefaultYes(question: string): Promise<boolean> {
  return !/^n(o)?$/i.test(await ask(`${question} [Y/n] `));
}

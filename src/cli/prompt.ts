import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.js';

/** Prompts only for a person at a terminal: never under CI, never without a TTY on both ends. */
export function interactive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true && !process.env.CI;
}

export function requireInteractive(what: string, flags: string): void {
  if (!interactive())
    throw new UsageError(`${what}: no terminal to ask on`, `give every answer by flags (${flags}) and --yes`);
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
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

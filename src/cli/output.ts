import type { Command } from 'commander';

/** The global options every command sees (see main.ts). */
export interface GlobalOptions {
  host?: string;
  root?: string;
  json?: boolean;
  color?: 'auto' | 'always' | 'never';
  debug?: boolean;
  yes?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

let colorMode: 'auto' | 'always' | 'never' = 'auto';
export function setColorMode(mode: 'auto' | 'always' | 'never'): void {
  colorMode = mode;
}

/** Colour on stdout/stderr: --color wins, then NO_COLOR, FORCE_COLOR, TERM=dumb, then TTY. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (colorMode === 'always') return true;
  if (colorMode === 'never') return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  if (process.env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const wrap = (open: number, close: number) => (s: string) =>
  useColor() ? `\x1b[${open}m${s}\x1b[${close}m` : s;
export const style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  blue: wrap(34, 39),
  cyan: wrap(36, 39),
};

/** --json output: exactly one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Human report text: stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Progress, warnings and notes: stderr, so --json stdout stays clean. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Fixed-width text table (no dependency); widths from the content. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => style.bold(h))), ...rows.map(line)].join('\n');
}

function visibleLength(s: string): number {
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** Exit codes (docs/bhyve-gpu.8 lists them). */
export const EXIT = { ok: 0, failure: 1, usage: 2, pending: 3, partial: 4, interrupted: 130 } as const;

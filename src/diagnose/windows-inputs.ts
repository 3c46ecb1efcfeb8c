/**
 * Windows captures among diagnose's inputs: they are whole documents (JSON, possibly UTF-16), not logs,
 * so they are read apart from the line engine and their findings merged into its report.
 */
import { open, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { decodeCapture, readWindowsCapture, windowsCaptureKind } from '../guest/windows/capture.js';
import type { DiagnoseReport, Finding, InputSummary } from './types.js';
import { diagnoseWindows, type WindowsContext } from './windows.js';

const SNIFF_BYTES = 16384;

/** Whether a file starts like a Windows capture (check.ps1 JSON, Get-PnpDevice JSON, pnputil text). */
export async function isWindowsCapture(file: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
    return windowsCaptureKind(decodeCapture(buf.subarray(0, bytesRead & ~1 || bytesRead))) !== undefined;
  } catch {
    return false; // unreadable: the line engine's checks report it
  } finally {
    await handle?.close();
  }
}

/** Findings and input summaries of the Windows captures. */
export async function diagnoseWindowsFiles(
  files: string[],
  ctx: WindowsContext = {},
): Promise<{ findings: Finding[]; inputs: InputSummary[] }> {
  const findings: Finding[] = [];
  const inputs: InputSummary[] = [];
  for (const file of files) {
    const cap = readWindowsCapture(await readFile(file), file);
    inputs.push({ name: file, kind: cap.kind, lines: cap.lines });
    findings.push(...diagnoseWindows(cap, ctx));
  }
  return { findings, inputs };
}

const RANK = { error: 0, warning: 1, info: 2 } as const;

/** One report: root causes first, then by severity; the order within each report is kept. */
export function mergeReports(
  report: DiagnoseReport,
  windows: { findings: Finding[]; inputs: InputSummary[] },
): DiagnoseReport {
  const all = [...windows.findings, ...report.findings].map((f, i) => ({ f, i }));
  all.sort(
    (a, b) =>
      Number(!a.f.rootCause) - Number(!b.f.rootCause) || RANK[a.f.severity] - RANK[b.f.severity] || a.i - b.i,
  );
  return { ...report, findings: all.map((x) => x.f), inputs: [...windows.inputs, ...report.inputs] };
}

/**
 * stdin may carry a capture too (`type check.json | ...`, `pnputil ... | ...`): read its start; a capture
 * is read whole and diagnosed here (its input leaves the list), anything else is handed on unchanged.
 */
export async function takeWindowsStdin(
  inputs: ({ name: string; stream: NodeJS.ReadableStream } | { name: string; path: string })[],
  windows: { findings: Finding[]; inputs: InputSummary[] },
  ctx: WindowsContext = {},
): Promise<void> {
  const at = inputs.findIndex((i) => i.name === '<stdin>' && 'stream' in i);
  const input = inputs[at];
  if (!input || !('stream' in input)) return;
  const iterator = (input.stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    size += chunk.length;
  }
  const start = Buffer.concat(head);
  if (windowsCaptureKind(decodeCapture(start.subarray(0, start.length & ~1 || start.length))) !== undefined) {
    const rest: Buffer[] = [start];
    while (!done) {
      const next = await iterator.next();
      if (next.done) break;
      rest.push(typeof next.value === 'string' ? Buffer.from(next.value) : next.value);
    }
    const cap = readWindowsCapture(Buffer.concat(rest), 'stdin');
    windows.inputs.push({ name: 'stdin', kind: cap.kind, lines: cap.lines });
    windows.findings.push(...diagnoseWindows(cap, ctx));
    inputs.splice(at, 1);
    return;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    if (start.length) yield start;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  input.stream = Readable.from(replay());
}

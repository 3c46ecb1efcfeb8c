import { style, table } from '../cli/output.js';
import { commandsLine } from '../host/shell-quote.js';
import type { Answer, GuestReport } from './check.js';
import { formatSize } from './resource.js';

const MARK: Record<Answer, (s: string) => string> = {
  yes: style.green,
  no: style.red,
  unknown: style.yellow,
};

/** Human report of `guest check`: the GPUs, one line per question, then evidence and fixes. */
export function formatGuestReport(report: GuestReport): string {
  const lines: string[] = [];
  lines.push(style.bold(`Guest check (${report.host})`));
  for (const gpu of report.gpus) {
    const name = gpu.smi?.productName ?? `10de:${gpu.deviceId.toString(16).padStart(4, '0')}`;
    const bars = gpu.bars
      .map(
        (b) =>
          `BAR${b.index} ${b.size !== undefined ? formatSize(b.size) : '?'}${b.is64 ? ' 64-bit' : ''}${b.prefetchable ? ' pref' : ''}`,
      )
      .join(', ');
    lines.push(
      `  ${gpu.address}  ${name}${gpu.architecture ? ` (${gpu.architecture})` : ''}${bars ? `  ${bars}` : ''}`,
    );
  }
  if (report.driverVersion)
    lines.push(`  driver ${report.driverVersion}${report.cudaVersion ? `, CUDA ${report.cudaVersion}` : ''}`);
  lines.push('');
  const rows = report.checks.map((c) => [MARK[c.answer](c.answer.toUpperCase()), c.question, c.detail]);
  lines.push(table(['ANSWER', 'QUESTION', 'DETAIL'], rows));
  const fixes = report.checks.filter(
    (c) => c.answer !== 'yes' && (c.fix !== undefined || c.commands?.length),
  );
  const seen = new Set<string>();
  for (const c of report.checks) {
    if (c.answer === 'yes' || c.evidence.length === 0) continue;
    lines.push('', `${style.bold(c.question)}${c.device ? ` (${c.device})` : ''}`);
    for (const e of c.evidence.slice(0, 6)) lines.push(`  ${style.dim(e)}`);
  }
  if (fixes.length > 0) {
    lines.push('', style.bold('What to do'));
    for (const c of fixes) {
      // One fix once: the same prose or the same commands from two answers are printed once.
      const run = c.commands?.length ? commandsLine(c.commands) : undefined;
      const key = run ?? c.fix ?? '';
      if (seen.has(key) || (c.fix !== undefined && seen.has(c.fix))) continue;
      seen.add(key);
      if (c.fix !== undefined) seen.add(c.fix);
      lines.push(`  - ${c.fix ?? c.question}`);
      if (run) lines.push(`    run: ${run}`);
    }
  }
  const roots = report.findings.filter((f) => f.rootCause && f.severity !== 'info');
  if (roots.length > 0) {
    lines.push('', style.bold('Kernel log findings'));
    for (const f of roots) lines.push(`  ${f.severity.toUpperCase()} ${f.title} (${f.id})`);
  }
  lines.push(
    '',
    report.ok ? style.green('GPU visible and driver initialised.') : style.red('GPU not usable yet.'),
  );
  return lines.join('\n');
}

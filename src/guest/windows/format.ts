/** Human output of `guest check --from` (CLI side: uses the CLI's colours and table). */

import { style, table } from '../../cli/output.js';
import { commandsLine } from '../../host/shell-quote.js';
import type { Answer } from '../types.js';
import type { WindowsGuestReport } from './check.js';

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

export function formatWindowsReport(report: WindowsGuestReport): string {
  const MARK: Record<Answer, (s: string) => string> = {
    yes: style.green,
    no: style.red,
    unknown: style.yellow,
  };
  const lines: string[] = [];
  const who = [report.computerName, report.windows].filter(Boolean).join(', ');
  lines.push(style.bold(`Windows guest check (${who || 'Windows guest'}; from ${report.source})`));
  for (const g of report.gpus)
    lines.push(
      `  ${g.name ?? 'GPU'} [10de:${hex4(g.deviceId)}]${g.architecture ? ` (${g.architecture})` : ''}${g.driverVersion ? `  driver ${g.driverVersion}` : ''}`,
    );
  lines.push('');
  lines.push(
    table(
      ['ANSWER', 'QUESTION', 'DETAIL'],
      report.checks.map((c) => [MARK[c.answer](c.answer.toUpperCase()), c.question, c.detail]),
    ),
  );
  const seen = new Set<string>();
  const todo = report.checks.filter((c) => c.answer !== 'yes' && (c.fix || c.commands || c.noCommand));
  if (todo.length) {
    lines.push('', style.bold('What to do (on the host)'));
    for (const c of todo) {
      const key = `${c.fix}|${c.commands ? commandsLine(c.commands) : ''}|${c.noCommand ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      lines.push(`  - ${c.question}`);
      if (c.fix) lines.push(`    fix: ${c.fix}`);
      if (c.commands) lines.push(`    run: ${commandsLine(c.commands)}`);
      if (c.noCommand) lines.push(`    ${style.dim(c.noCommand)}`);
    }
  }
  const roots = report.findings.filter((f) => f.rootCause && f.severity !== 'info');
  if (roots.length) {
    lines.push('', style.bold('Findings'));
    for (const f of roots) lines.push(`  ${f.severity.toUpperCase()} ${f.title} (${f.id})`);
  }
  lines.push(
    '',
    report.ok ? style.green('GPU visible and driver running.') : style.red('GPU not usable yet.'),
  );
  return lines.join('\n');
}

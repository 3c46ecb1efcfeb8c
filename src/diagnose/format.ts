import { commandsLine } from '../host/shell-quote.js';
import { platformName } from './environment.js';
import type { DiagnoseReport, Finding, Severity } from './types.js';

/** Colour hooks, so the library stays free of CLI imports (the CLI passes its own style). */
export interface Styler {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const plain: Styler = { bold: id, dim: id, red: id, yellow: id, cyan: id };
function id(s: string): string {
  return s;
}

function severityLabel(sev: Severity, style: Styler): string {
  if (sev === 'error') return style.red('ERROR');
  if (sev === 'warning') return style.yellow('WARN ');
  return style.cyan('INFO ');
}

function formatFinding(f: Finding, n: number, style: Styler): string[] {
  const tag = f.causedBy ? style.dim(` (consequence of ${f.causedBy.join(', ')})`) : '';
  const lines = [
    `${n}. ${severityLabel(f.severity, style)} ${style.bold(f.title)}${tag}  ${style.dim(f.id)}`,
  ];
  for (const e of f.evidence) {
    const count = e.count !== undefined && e.count > 1 ? style.dim(` (x${e.count})`) : '';
    lines.push(`   ${style.dim(`${e.file}:${e.line}:`)} ${e.text}${count}`);
  }
  const shown = f.evidence.reduce((sum, e) => sum + (e.count ?? 1), 0);
  if (f.occurrences > shown) lines.push(style.dim(`   ... ${f.occurrences - shown} more matching lines`));
  if (f.decoded) {
    const summary = f.decoded.summary;
    if (typeof summary === 'string') lines.push(`   ${style.bold('decoded:')} ${summary}`);
    if (typeof f.decoded.stageMeaning === 'string') lines.push(`     stage: ${f.decoded.stageMeaning}`);
    if (typeof f.decoded.meaning === 'string') lines.push(`     meaning: ${f.decoded.meaning}`);
    const causes = f.decoded.likelyCauses;
    if (Array.isArray(causes) && causes.length > 0) {
      lines.push('     likely causes:');
      for (const c of causes) lines.push(`       - ${c}`);
    }
  }
  lines.push(`   ${f.explanation}`);
  if (f.fix.length > 0) {
    lines.push(`   ${style.bold('fix:')}`);
    for (const step of f.fix) lines.push(`     - ${step}`);
  }
  if (f.commands && f.commands.length > 0) {
    lines.push(`   ${style.bold('run:')} ${commandsLine(f.commands)}`);
    for (const [name, help] of Object.entries(f.placeholders ?? {}))
      lines.push(style.dim(`     {${name}}: ${help}`));
  } else if (f.noCommand) lines.push(`   ${style.bold('no command:')} ${f.noCommand}`);
  return lines;
}

/** The human report: one block per finding, most important first, and a one-line verdict. */
export function formatReport(report: DiagnoseReport, style: Styler = plain): string {
  const out: string[] = [];
  const kinds = report.inputs.map((i) => `${i.name} (${i.kind}, ${i.lines} lines)`).join(', ');
  if (kinds) out.push(style.dim(`read ${kinds}`));
  if (report.environment) {
    const first = report.environment.evidence[0] ?? '';
    out.push(style.dim(`environment: ${platformName(report.environment.platform)} (${first})`));
  } else if (kinds) out.push(style.dim('environment: the log does not say (no hypervisor or DMI line)'));
  if (kinds) out.push('');
  report.findings.forEach((f, i) => {
    out.push(...formatFinding(f, i + 1, style), '');
  });
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.filter((f) => f.severity === 'warning').length;
  if (report.findings.length === 0) out.push('no known failure signature found');
  else out.push(`${errors} error(s), ${warnings} warning(s), ${report.findings.length} finding(s)`);
  return out.join('\n');
}

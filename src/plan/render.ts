import { style } from '../cli/output.js';
import { SCHEMA_VERSION } from '../version.js';
import { describeStep, type Plan, type Step } from './types.js';

/** Colour a unified diff line by line (style is a no-op when colour is off). */
export function colorDiff(diff: string): string {
  return diff
    .split('\n')
    .map((line) => {
      if (line.startsWith('+++') || line.startsWith('---')) return style.bold(line);
      if (line.startsWith('@@')) return style.cyan(line);
      if (line.startsWith('+')) return style.green(line);
      if (line.startsWith('-')) return style.red(line);
      return line;
    })
    .join('\n');
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');
}

/** Human form of a plan: numbered steps with their reasons, diffs, undo commands, then notes. */
export function renderPlan(plan: Plan): string {
  const lines: string[] = [style.bold(plan.title)];
  if (plan.steps.length === 0) lines.push('  (no steps)');
  plan.steps.forEach((step, i) => {
    lines.push(`  ${i + 1}. ${describeStep(step)}${step.reason ? style.dim(` (${step.reason})`) : ''}`);
    if (step.kind === 'file-edit') {
      if (step.diff === '') lines.push(style.dim('     no change'));
      else lines.push(indent(colorDiff(step.diff.replace(/\n$/, '')), '     '));
    } else if (step.kind === 'command' && step.undo) {
      lines.push(style.dim(`     undo: ${step.undo.join(' ')}`));
    } else if (step.kind === 'file-install' && step.mode !== undefined) {
      lines.push(style.dim(`     mode ${step.mode.toString(8).padStart(4, '0')} if new`));
    }
  });
  if (plan.notes.length > 0) {
    lines.push('', style.bold('Notes:'));
    for (const n of plan.notes) lines.push(`  - ${n}`);
  }
  return lines.join('\n');
}

export type StepJson =
  | {
      kind: 'file-edit';
      path: string;
      before: string | undefined;
      after: string | undefined;
      diff: string;
      reason: string;
    }
  | { kind: 'command'; argv: string[]; reason: string; undo?: string[] }
  | { kind: 'file-install'; path: string; from: string; mode?: number; reason: string };

export interface PlanJson {
  schemaVersion: number;
  plan: {
    title: string;
    steps: StepJson[];
    notes: string[];
    pptdevs?: { before: string[]; after: string[]; changed: boolean };
    rebootRequired?: boolean;
  };
}

export function stepToJson(step: Step): StepJson {
  switch (step.kind) {
    case 'file-edit':
      return {
        kind: 'file-edit',
        path: step.path,
        before: step.before,
        after: step.after,
        diff: step.diff,
        reason: step.reason,
      };
    case 'command':
      return {
        kind: 'command',
        argv: [...step.argv],
        reason: step.reason,
        ...(step.undo ? { undo: [...step.undo] } : {}),
      };
    case 'file-install':
      return {
        kind: 'file-install',
        path: step.path,
        from: step.from,
        ...(step.mode !== undefined ? { mode: step.mode } : {}),
        reason: step.reason,
      };
  }
}

/**
 * The --json form of a plan. JSON has no `undefined`: the `before` of a new file and the `after` of a
 * deleted one are left out of the document.
 */
export function planToJson(plan: Plan): PlanJson {
  return {
    schemaVersion: SCHEMA_VERSION,
    plan: {
      title: plan.title,
      steps: plan.steps.map(stepToJson),
      notes: [...plan.notes],
      ...(plan.boot
        ? {
            pptdevs: {
              before: [...plan.boot.pptdevsBefore],
              after: [...plan.boot.pptdevsAfter],
              changed: plan.boot.pptdevsBefore.join(' ') !== plan.boot.pptdevsAfter.join(' '),
            },
            rebootRequired: plan.boot.rebootRequired,
          }
        : {}),
    },
  };
}

import { createTwoFilesPatch } from 'diff';

/**
 * A plan is data: what would change, and why. `--dry-run` prints it, `applyPlan` (apply.ts) performs it
 * with a journal entry and backups, `rollback` (rollback.ts) undoes that entry.
 */
export interface Plan {
  title: string;
  steps: Step[];
  notes: string[];
  /** attach / detach: what pptdevs reserves at boot before and after the plan, and whether a reboot is needed. */
  boot?: BootEffect;
}

/** The boot-time effect of a plan that edits the loader files (for --json readers such as Ansible). */
export interface BootEffect {
  /** bhyve IDs pptdevs, pptdevs2 and pptdevs3 reserve now, in the order the kernel reads them. */
  pptdevsBefore: string[];
  /** The same after the plan is applied. */
  pptdevsAfter: string[];
  /** The reserved set changes and some function of the GPU only gets (or leaves) ppt(4) at the next boot. */
  rebootRequired: boolean;
}

export type Step = FileEdit | CommandStep | FileInstall;

/** Replace a text file's content. */
export interface FileEdit {
  kind: 'file-edit';
  path: string;
  /** Content the plan was made from; undefined = the file does not exist yet. */
  before: string | undefined;
  /** Content to write; undefined = delete the file. */
  after: string | undefined;
  /** Unified diff from `before` to `after` (labels a/path, b/path); '' when they are equal. */
  diff: string;
  reason: string;
}

/** Run a command on the host (argv, never a shell string). */
export interface CommandStep {
  kind: 'command';
  argv: string[];
  reason: string;
  /** argv that reverses it (run by rollback), e.g. `devctl set driver <dev> <old driver>`. */
  undo?: string[];
  /** Keep the command's standard output in the journal entry. */
  recordOutput?: boolean;
}

/** Copy a file that is on the host (a built binary) over `path`, keeping a backup of the old one. */
export interface FileInstall {
  kind: 'file-install';
  path: string;
  /** Path on the host of the file to copy. */
  from: string;
  /** Mode for a new file (an existing file keeps its mode); default 0644. */
  mode?: number;
  reason: string;
}

/** Unified diff between two versions of a file; undefined stands for "no file" (shown as empty). */
export function unifiedDiff(path: string, before: string | undefined, after: string | undefined): string {
  if (before === after) return '';
  const name = path.startsWith('/') ? path : `/${path}`;
  const patch = createTwoFilesPatch(`a${name}`, `b${name}`, before ?? '', after ?? '');
  // jsdiff starts with a line of '=' (an svn-style separator): not part of a unified diff.
  return patch.replace(/^=+\n/, '');
}

export function makeFileEdit(
  path: string,
  before: string | undefined,
  after: string | undefined,
  reason: string,
): FileEdit {
  return { kind: 'file-edit', path, before, after, diff: unifiedDiff(path, before, after), reason };
}

/** True when applying the plan would change nothing: every edit's before equals its after, no other steps. */
export function isNoop(plan: Plan): boolean {
  return plan.steps.every((s) => s.kind === 'file-edit' && s.before === s.after);
}

/** Short one-line description of a step, for lists and progress. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'file-edit':
      if (step.before === undefined) return `create ${step.path}`;
      if (step.after === undefined) return `delete ${step.path}`;
      return `edit ${step.path}`;
    case 'command':
      return `run ${step.argv.join(' ')}`;
    case 'file-install':
      return `install ${step.path} from ${step.from}`;
  }
}

import { dirname } from 'node:path';
import { ToolError } from '../errors.js';
import type { Host } from '../host/types.js';
import { ABSENT, type StepRecord, sha256 } from './journal.js';
import { type Plan, unifiedDiff } from './types.js';

export async function readMaybe(host: Host, path: string): Promise<Uint8Array | undefined> {
  return (await host.exists(path)) ? host.readBytes(path) : undefined;
}

/** The plan checked against the host: step records, original contents, what each path will get. */
export interface Prepared {
  steps: StepRecord[];
  originals: Map<string, Uint8Array | undefined>;
  written: Map<string, string[]>;
  sources: Map<number, Uint8Array>;
}

/** Check every step against the host as it is now; mark the ones already done 'skipped'. */
export async function prepare(host: Host, plan: Plan): Promise<Prepared> {
  const originals = new Map<string, Uint8Array | undefined>();
  const expected = new Map<string, string>();
  const written = new Map<string, string[]>();
  const sources = new Map<number, Uint8Array>();
  const steps: StepRecord[] = [];
  for (const [i, step] of plan.steps.entries()) {
    if (step.kind === 'command') {
      steps.push({ ...step, status: 'pending' });
      continue;
    }
    if (!originals.has(step.path)) originals.set(step.path, await readMaybe(host, step.path));
    const now = expected.get(step.path) ?? sha256(originals.get(step.path));
    let target: string;
    if (step.kind === 'file-edit') {
      target = sha256(step.after);
      if (sha256(step.before) !== now && target !== now) {
        const original = originals.get(step.path);
        const text = original === undefined ? undefined : Buffer.from(original).toString('utf8');
        const diff = expected.has(step.path) ? '' : unifiedDiff(step.path, step.before, text);
        throw new ToolError(
          'plan-stale',
          `${step.path} changed since the plan was made${diff ? `:\n${diff}` : ''}`,
          {
            hint: 'run the command again to make a plan from the file as it is now',
          },
        );
      }
    } else {
      const bytes = await host.readBytes(step.from);
      sources.set(i, bytes);
      target = sha256(bytes);
    }
    // Already as the step would leave it (re-applying an applied plan): nothing to do.
    if (target === now) {
      steps.push({ ...step, status: 'skipped' });
      continue;
    }
    const parent = dirname(step.path);
    if (now === ABSENT && !(await host.stat(parent))?.isDirectory)
      throw new ToolError('no-directory', `cannot create ${step.path}: directory ${parent} does not exist`, {
        hint: `create ${parent} first (bhyve-gpu does not create directories)`,
      });
    steps.push({ ...step, status: 'pending' });
    expected.set(step.path, target);
    written.set(step.path, [...(written.get(step.path) ?? []), target]);
  }
  return { steps, originals, written, sources };
}

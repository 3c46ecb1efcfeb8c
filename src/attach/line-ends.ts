/**
 * `bhyve-gpu vm-fix --vm NAME`: rewrite a vm-bhyve guest config's CRLF line ends as LF. vm-bhyve sources
 * the config with sh, which keeps the CR in every value (`loader="uefi"` reads as "uefi\r"); doctor fails
 * such a config and attach refuses to add lines to it. Only the line ends change: every other byte stays.
 */
import type { Inventory } from '../inventory/types.js';
import { makeFileEdit, type Plan } from '../plan/types.js';
import { findVmConfig } from './plan.js';

/** The text with every CRLF (and a stray CR before the end of the file) as LF. */
export function unixLineEnds(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/\r$/, '');
}

export function buildLineEndsPlan(inv: Inventory, vmName: string): Plan {
  const vm = findVmConfig(inv, vmName);
  const plan: Plan = { title: `rewrite the line ends of ${vm.path} as LF`, steps: [], notes: [] };
  const after = unixLineEnds(vm.text);
  if (after !== vm.text) {
    plan.steps.push(
      makeFileEdit(vm.path, vm.text, after, `vm-bhyve keeps a CR in every value of ${vm.name}`),
    );
    if (after.includes('\r'))
      plan.notes.push('a CR inside a line (not before its LF) is left as it is: look at it by hand');
  }
  return plan;
}

/**
 * `bhyve-gpu detach --stale`: the way out of a stale pptdevs entry when no GPU is being attached. Removes
 * every entry the inventory calls stale (device gone, now a device the host uses, text that is no B/S/F,
 * an id out of range) from pptdevs, pptdevs2 and pptdevs3, and nothing else. It only ever removes entries,
 * so it never reserves anything (the console GPU included); a GPU's own functions are never stale.
 */
import { planPptdevs } from '../conf/pptdevs.js';
import type { Inventory } from '../inventory/types.js';
import { makeFileEdit, type Plan } from '../plan/types.js';
import { loaderFiles } from './plan.js';

export function buildStalePlan(inv: Inventory): Plan {
  const plan: Plan = { title: 'remove stale pptdevs entries', steps: [], notes: [] };
  if (inv.host.pptdevs === undefined || inv.devices === undefined) {
    plan.notes.push('loader.conf or pciconf was not read: cannot tell which entries are stale');
    return plan;
  }
  const files = loaderFiles(inv);
  const stale = inv.stale.map((s) => s.entry.bhyveId);
  if (stale.length === 0) return plan;
  const pptdevs = planPptdevs(files, { add: [], remove: stale });
  for (const s of inv.stale)
    plan.notes.push(`removed ${s.entry.bhyveId} (${s.entry.file}:${s.entry.line}): ${s.reason}`);
  for (const c of pptdevs.changes)
    plan.steps.push(
      makeFileEdit(c.path, c.before, c.after, 'drop pptdevs entries that point at no guest device'),
    );
  if (plan.steps.length) plan.notes.push('takes effect at the next boot');
  return plan;
}

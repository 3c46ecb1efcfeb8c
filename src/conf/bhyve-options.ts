import { parseShDoc, printShDoc } from './shdoc.js';
import { set } from './shedit.js';
import { readVmBhyveConfig } from './vm-layout.js';

/**
 * vm-bhyve's `bhyve_options` (extra bhyve arguments, split on spaces) with `-o pci.mmio64_size=SIZE` set:
 * any earlier `-o pci.mmio64_size=...` is replaced, other options are kept in order.
 */
export function withMmio64Option(text: string, size: string): { text: string; changed: boolean } {
  const current = readVmBhyveConfig(text).get('bhyve_options') ?? '';
  const words = current.split(/\s+/).filter((w) => w !== '');
  const kept: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i] ?? '';
    if (w === '-o' && /^pci\.mmio64_size=/.test(words[i + 1] ?? '')) {
      i += 1;
      continue;
    }
    if (/^-opci\.mmio64_size=/.test(w)) continue;
    kept.push(w);
  }
  const value = [...kept, '-o', `pci.mmio64_size=${size}`].join(' ');
  if (value === current.trim()) return { text, changed: false };
  const doc = parseShDoc(text, undefined, { vmBhyve: true });
  set(doc, 'bhyve_options', value, { vmBhyve: true });
  return { text: printShDoc(doc), changed: true };
}

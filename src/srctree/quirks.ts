import { blankComments, findFunction, findPassthruEntries, macrosWithValue } from './cfunctions.js';

export const NVIDIA_VENDOR = '0x10de';

export interface QuirksContent {
  entries: string[];
  nvidiaEntries: string[];
  /** The first NVIDIA entry's init sets a non-zero PCIR_INTPIN. */
  setsIntpin: boolean;
  configMirror: boolean;
}

const SET_INTPIN = /pci_set_cfgdata8\s*\(\s*\w+\s*,\s*PCIR_INTPIN\s*,\s*([^)]+?)\s*\)/g;

/** Does this C text set the virtual INTPIN to something other than 0? The last setting wins. */
export function setsIntpinIn(code: string): boolean {
  const last = [...blankComments(code).matchAll(SET_INTPIN)].pop();
  if (!last) return false;
  return !/^\(?\s*0+[uUlL]*\s*\)?$/.test(last[1] ?? '');
}

/** Does this probe body compare against NVIDIA's vendor id (literally, 0x10DEU too, or through a macro)? */
function probeMatchesNvidia(body: string, vendorNames: string[]): boolean {
  const code = blankComments(body);
  if (new RegExp(`\\b${NVIDIA_VENDOR}[uUlL]*\\b`, 'i').test(code)) return true;
  return vendorNames.some((n) => new RegExp(`\\b${n}\\b`).test(code));
}

/**
 * Read a pci_passthru_quirks.c: which passthru_dev entries exist, which match NVIDIA, whether the first
 * NVIDIA entry (the only one bhyve runs: passthru_init stops at the first matching probe) sets INTPIN,
 * and whether the nvidia-wip config-space mirror is there.
 */
export function analyzeQuirks(text: string): QuirksContent {
  const vendorNames = macrosWithValue(text, NVIDIA_VENDOR);
  const entries = findPassthruEntries(text);
  const nvidia = entries.filter((e) => {
    if (e.probe === undefined) return false;
    const fn = findFunction(text, e.probe);
    return fn !== undefined && probeMatchesNvidia(fn.body, vendorNames);
  });
  const first = nvidia[0];
  const init = first?.init === undefined ? undefined : findFunction(text, first.init);
  const code = blankComments(text);
  return {
    entries: entries.map((e) => e.name),
    nvidiaEntries: nvidia.map((e) => e.name),
    setsIntpin: init !== undefined && setsIntpinIn(init.body),
    configMirror: /passthru_set_bar_handler\s*\([^;]*(?:0x88000|BHYVE_GPU_MIRROR_OFF)/i.test(code),
  };
}

import { blankComments } from '../../srctree/cfunctions.js';
import { type QuirkContext, type QuirkPlan, refusal } from './types.js';

/**
 * The hide-hypervisor quirk for vmm.ko (sys/amd64/vmm/x86.c), written by bhyve-gpu from these facts: leaf 1
 * of bhyve's CPUID emulation always sets CPUID2_HV (ECX bit 31, "hypervisor present") and leaf 0x40000000
 * answers with the signature "bhyve bhyve ". NVIDIA's consumer drivers stop on a hypervisor they do not
 * know (Windows Code 43). The quirk adds a sysctl and loader tunable, hw.vmm.hide_hypervisor (default 0:
 * nothing changes), and puts both markers behind it, so one vmm.ko serves every guest.
 */
export const X86_C = 'sys/amd64/vmm/x86.c';
export const HIDE_SYSCTL = 'hw.vmm.hide_hypervisor';
const MARKER = 'bhyve-gpu: hide-hypervisor quirk';

const DECLARATION = `/*
 * ${MARKER}: ${HIDE_SYSCTL} = 1 hides the hypervisor from
 * guests: CPUID.1:ECX bit 31 reads 0 and the 0x4000000x leaves carry no
 * signature. Default 0 (bhyve as stock). A loader tunable and a sysctl;
 * a vCPU sees a change at its next CPUID.
 */
static int hide_hypervisor = 0;
SYSCTL_INT(_hw_vmm, OID_AUTO, hide_hypervisor, CTLFLAG_RWTUN, &hide_hypervisor,
    0, "Hide the hypervisor (CPUID hypervisor bit and 0x40000000 leaves)");
`;

const SET_HV = /^([ \t]*)regs\[2\]\s*\|=\s*CPUID2_HV\s*;[ \t]*$/m;
const LEAF_LABEL =
  /^[ \t]*case\s+(?:0x40000000|0x40000001|CPUID_VM_SIGNATURE|CPUID_VM_HIGH|CPUID_BHYVE_FEATURES)\s*:[ \t]*$/gm;

/** Is the statement at `index` already guarded by `if (!hide_hypervisor)` (the line before)? */
function guardedHv(text: string, index: number): boolean {
  const before = text.slice(0, index).trimEnd().split('\n').pop() ?? '';
  return /hide_hypervisor/.test(before);
}

/** Label groups (consecutive `case` lines) for the hypervisor leaves, with the offset after the last one. */
function leafGroups(text: string): { end: number; guarded: boolean }[] {
  const code = blankComments(text);
  const groups: { end: number; guarded: boolean }[] = [];
  for (const m of code.matchAll(LEAF_LABEL)) {
    const end = (m.index ?? 0) + m[0].length;
    const last = groups[groups.length - 1];
    // A label right after the previous group's labels belongs to the same group.
    if (last !== undefined && /^\s*$/.test(code.slice(last.end, m.index))) {
      last.end = end;
      continue;
    }
    groups.push({ end, guarded: false });
  }
  for (const g of groups) {
    const next = code.slice(g.end, g.end + 200);
    g.guarded = /^\s*if\s*\(\s*hide_hypervisor\s*\)/.test(next);
  }
  return groups;
}

export async function planHideHypervisor({ read }: QuirkContext): Promise<QuirkPlan> {
  const text = await read(X86_C);
  if (text === undefined)
    return refusal('absent', `${X86_C} not found: this tree has no amd64 vmm (the quirk goes into vmm.ko)`);
  const code = blankComments(text);
  const hasSysctl = /SYSCTL_INT\s*\(\s*_hw_vmm\s*,\s*OID_AUTO\s*,\s*hide_hypervisor\b/.test(code);
  const hv = SET_HV.exec(code);
  const groups = leafGroups(text);
  const signature = /"bhyve bhyve "/.test(text);
  if (!hv && !/CPUID2_HV/.test(code))
    return refusal(
      'conflicting',
      `${X86_C} never sets CPUID2_HV: the hypervisor bit is already hidden unconditionally (a Beckhoff-style change), so a runtime switch could not show it again; keep that vmm.ko or restore the stock x86.c first`,
    );
  if (!signature && !hasSysctl)
    return refusal(
      'conflicting',
      `${X86_C} does not answer leaf 0x40000000 with "bhyve bhyve " (a spoofed signature such as KVMKVMKVM is in place): restore the stock x86.c before adding the switch`,
    );
  if (groups.length === 0)
    return refusal(
      'conflicting',
      `${X86_C}: no case for leaf 0x40000000 (CPUID_VM_SIGNATURE) found to guard`,
    );
  const hvGuarded = hv === null || guardedHv(code, hv.index);
  const allGuarded = groups.every((g) => g.guarded);
  if (hasSysctl && hvGuarded && allGuarded)
    return {
      state: 'present',
      edits: [],
      detail: `${HIDE_SYSCTL} switch already in ${X86_C}`,
      warnings: [],
    };
  const state: QuirkPlan['state'] =
    hasSysctl || groups.some((g) => g.guarded) || (hv !== null && hvGuarded) ? 'partial' : 'absent';
  let next = text;
  // Work from the end so earlier offsets stay valid.
  for (const g of [...groups].reverse()) {
    if (g.guarded) continue;
    const indent = /\n([ \t]*)case/.exec(text.slice(0, g.end).slice(-200))?.[1] ?? '\t\t';
    const body = `${indent}\t`;
    const gate = `\n${body}if (hide_hypervisor) {\t/* ${MARKER} */\n${body}\tregs[0] = regs[1] = regs[2] = regs[3] = 0;\n${body}\tbreak;\n${body}}`;
    next = `${next.slice(0, g.end)}${gate}${next.slice(g.end)}`;
  }
  if (hv !== null && !hvGuarded) {
    const ind = hv[1] ?? '\t\t\t';
    const replaced = `${ind}if (!hide_hypervisor)\t/* ${MARKER} */\n${ind}\tregs[2] |= CPUID2_HV;\n${ind}else\n${ind}\tregs[2] &= ~CPUID2_HV;`;
    const at = next.search(SET_HV);
    const line = SET_HV.exec(next);
    if (line === null || at < 0)
      return refusal('conflicting', `${X86_C}: lost the CPUID2_HV line while editing`);
    next = `${next.slice(0, at)}${replaced}${next.slice(at + line[0].length)}`;
  }
  if (!hasSysctl) {
    const anchor =
      /^static\s+const\s+char\s+bhyve_id\s*\[[^\n]*\n/m.exec(next) ??
      /^SYSCTL_DECL\(_hw_vmm\);[^\n]*\n/m.exec(next);
    if (anchor === null)
      return refusal(
        'conflicting',
        `${X86_C}: neither bhyve_id nor SYSCTL_DECL(_hw_vmm) found to put the switch after`,
      );
    const at = (anchor.index ?? 0) + anchor[0].length;
    const decl = /^SYSCTL_DECL\(_hw_vmm\);/m.test(next) ? '' : 'SYSCTL_DECL(_hw_vmm);\n';
    next = `${next.slice(0, at)}\n${decl}${DECLARATION}${next.slice(at)}`;
  }
  return {
    state,
    edits: [{ path: X86_C, after: next }],
    detail: `${HIDE_SYSCTL} (loader tunable and sysctl, default 0) gates CPUID.1:ECX[31] and leaf 0x40000000`,
    warnings: [
      'vmm.ko changes: rebuild and install it (bhyve-gpu build / install); the new vmm.ko loads at the next boot, or with every guest stopped',
    ],
  };
}

import { findPassthruEntries } from '../../srctree/cfunctions.js';
import { addToSrcsList, srcsListed } from '../../srctree/makefile.js';
import { analyzeQuirks } from '../../srctree/quirks.js';
import { TREE_PATHS } from '../../srctree/types.js';
import { SRCS_ANCHOR } from '../remap.js';
import { addIncludes, devinstParam, insertAtTop, insertBefore } from './cedit.js';
import { nvidiaEntrySource } from './intpin.js';
import { type QuirkContext, type QuirkPlan, refusal } from './types.js';

/**
 * The NVIDIA config-space mirror quirk, written by bhyve-gpu from these facts (docs/patching.md):
 * NVIDIA GPUs answer reads of their PCI configuration space a second time in BAR0 at offset 0x88000, and the
 * driver reads it there. bhyve maps BAR0 straight to the device, so the guest driver sees the host's header
 * (host BAR addresses, INTPIN 0) instead of bhyve's virtual one. QEMU's VFIO traps the same window. The quirk
 * registers a BAR0 handler over [0x88000, 0x89000) with the tree's own BAR-handler API and serves bhyve's
 * virtual configuration space there.
 */
export const MIRROR_MARKER = 'bhyve-gpu: NVIDIA config-space mirror quirk';
export const MIRROR_OFFSET = 0x88000;

const PASSTHRU_C = 'usr.sbin/bhyve/pci_passthru.c';
const EMUL_H = 'usr.sbin/bhyve/pci_emul.h';
const INCLUDES = [
  '#include <dev/pci/pcireg.h>',
  '#include <err.h>',
  '#include <errno.h>',
  '#include "pci_passthru.h"',
];

type BarApi = 'upstream' | 'beckhoff';

const COMMENT = `/*
 * ${MIRROR_MARKER}.
 *
 * NVIDIA GPUs answer reads of their PCI configuration space again in
 * BAR0 at offset 0x88000, and the NVIDIA driver reads it there. BAR0 is
 * mapped straight to the device, so without this trap the guest driver
 * sees the host's header (host BAR addresses, INTPIN 0) instead of the
 * virtual one bhyve shows through configuration cycles. The handler
 * serves bhyve's view: the passthru emulation first, then the virtual
 * registers. Header writes through the mirror are dropped (the guest
 * programs BARs and the command register through real cycles); writes
 * past the header go where a configuration write would.
 */`;

/** Functions shared by both API generations: read and write the virtual config space at an offset. */
const CORE = `#define	BHYVE_GPU_MIRROR_OFF	0x88000
#define	BHYVE_GPU_MIRROR_LEN	0x1000

static uint32_t
bhyve_gpu_mirror_cfgread(struct pci_devinst *pi, int coff, int bytes)
{
	uint32_t val;

	if ((bytes != 1 && bytes != 2 && bytes != 4) || coff < 0 ||
	    coff + bytes > BHYVE_GPU_MIRROR_LEN)
		return (0xffffffff);
	if (coff > PCI_REGMAX)
		return (pci_host_read_config(passthru_get_sel(pi->pi_arg), coff,
		    bytes));
	if (pi->pi_d->pe_cfgread(pi, coff, bytes, &val) == 0)
		return (val);
	if (bytes == 1)
		return (pci_get_cfgdata8(pi, coff));
	if (bytes == 2)
		return (pci_get_cfgdata16(pi, coff));
	return (pci_get_cfgdata32(pi, coff));
}

static void
bhyve_gpu_mirror_cfgwrite(struct pci_devinst *pi, int coff, int bytes,
    uint32_t val)
{
	if ((bytes != 1 && bytes != 2 && bytes != 4) || coff <= PCIR_MAXLAT ||
	    coff + bytes > PCI_REGMAX + 1)
		return;
	(void)pi->pi_d->pe_cfgwrite(pi, coff, bytes, val);
}
`;

/** Handlers for the newer API: uint64_t read(pi, baridx, offset, size), void write(...). */
const UPSTREAM = `static uint64_t
bhyve_gpu_mirror_read(struct pci_devinst *pi, int baridx, uint64_t off,
    int size)
{
	(void)baridx;
	return (bhyve_gpu_mirror_cfgread(pi, (int)off, size));
}

static void
bhyve_gpu_mirror_write(struct pci_devinst *pi, int baridx, uint64_t off,
    int size, uint64_t val)
{
	(void)baridx;
	bhyve_gpu_mirror_cfgwrite(pi, (int)off, size, (uint32_t)val);
}
`;

/** Handlers for the older API: int read(pi, off, size, uint64_t *rv), int write(pi, off, size, val). */
const BECKHOFF = `static int
bhyve_gpu_mirror_read(struct pci_devinst *pi, uint64_t off, uint64_t size,
    uint64_t *rv)
{
	*rv = bhyve_gpu_mirror_cfgread(pi, (int)off, (int)size);
	return (0);
}

static int
bhyve_gpu_mirror_write(struct pci_devinst *pi, uint64_t off, uint64_t size,
    uint64_t val)
{
	bhyve_gpu_mirror_cfgwrite(pi, (int)off, (int)size, (uint32_t)val);
	return (0);
}
`;

export function mirrorFunctions(api: BarApi): string {
  return `${COMMENT}\n${CORE}\n${api === 'upstream' ? UPSTREAM : BECKHOFF}`;
}

/** Statements (unindented) that register the trap in an init whose devinst parameter is `pi`. */
export function mirrorRegistration(pi: string): string[] {
  return [
    `/* ${MIRROR_MARKER}: trap BAR0 + 0x88000. */`,
    `if (passthru_set_bar_handler(${pi}->pi_arg, 0, BHYVE_GPU_MIRROR_OFF,`,
    '    BHYVE_GPU_MIRROR_LEN, bhyve_gpu_mirror_read,',
    '    bhyve_gpu_mirror_write) != 0)',
    '\twarnx("bhyve-gpu: cannot trap the NVIDIA config-space mirror");',
  ];
}

/** A complete NVIDIA passthru_dev entry whose init registers the mirror (used when the tree has none). */
function nvidiaEntry(read: string): string {
  return nvidiaEntrySource(
    read,
    mirrorRegistration('pi')
      .map((l) => `\t${l}`)
      .join('\n'),
  );
}

const FILE_HEAD = `/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Passthru device quirks, written by bhyve-gpu.
 */

#include <dev/pci/pcireg.h>

#include <err.h>
#include <errno.h>

#include "pci_passthru.h"
`;

/** Plan the mirror quirk: detect by content, then create / merge into the first NVIDIA entry. */
export async function planMirror({ tree, read }: QuirkContext): Promise<QuirkPlan> {
  if (!tree.api.passthruDevSet || tree.srcsFile === undefined)
    return refusal('absent', tree.reason ?? 'this tree has no passthru quirk framework (PASSTHRU_DEV_SET)');
  const api = tree.api.barHandler;
  const before = await read(TREE_PATHS.quirks);
  const passthru = (await read(PASSTHRU_C)) ?? '';
  // The forum patch (v1) traps the mirror inside pci_passthru.c by splitting the BAR0 mapping.
  if (/0x88000\b|0x880000\b/i.test(passthru.replace(/\/\*[\s\S]*?\*\//g, '')))
    return refusal(
      'conflicting',
      `${PASSTHRU_C} already traps the NVIDIA mirror itself (the forum patch splits the BAR0 mapping at 0x880000); a second trap would overlap it: revert that change or keep it instead`,
    );
  if (before !== undefined && analyzeQuirks(before).configMirror)
    return {
      state: 'present',
      edits: [],
      detail: 'a BAR0 + 0x88000 handler is registered already',
      warnings: [],
    };
  if (api === undefined)
    return refusal(
      'absent',
      `${TREE_PATHS.passthruHeader} has no BAR handler API (passthru_set_bar_handler): this bhyve cannot trap part of a passthru BAR. Use a tree that has it (FreeBSD main, Beckhoff nvidia-wip)`,
    );
  const emulH = await read(EMUL_H);
  if (emulH !== undefined && /pe_cfgread\)\s*\(\s*struct\s+vmctx/.test(emulH))
    return refusal(
      'absent',
      `${EMUL_H}: device-model callbacks still take a vmctx (pre-14 bhyve); not supported`,
    );
  const hostRead = tree.api.hostReadConfig ?? 'pci_host_read_config';
  const edits: { path: string; after: string }[] = [];
  let detail: string;
  let state: QuirkPlan['state'] = 'absent';
  if (before === undefined) {
    edits.push({
      path: TREE_PATHS.quirks,
      after: `${FILE_HEAD}\n${mirrorFunctions(api)}\n${nvidiaEntry(hostRead)}`,
    });
    detail = `created ${TREE_PATHS.quirks} with an NVIDIA entry (${api} BAR-handler API)`;
  } else {
    const content = analyzeQuirks(before);
    const first = findPassthruEntries(before).find((e) => e.name === content.nvidiaEntries[0]);
    let text = addIncludes(before, INCLUDES);
    const hasFunctions = text.includes('bhyve_gpu_mirror_cfgread');
    if (hasFunctions) state = 'partial';
    if (first === undefined) {
      if (!hasFunctions) text = `${text.replace(/\n*$/, '\n')}\n${mirrorFunctions(api)}`;
      text = `${text.replace(/\n*$/, '\n')}\n${nvidiaEntry(hostRead)}`;
      detail = 'appended an NVIDIA entry that registers the mirror';
    } else {
      if (first.init === undefined)
        return refusal(
          'absent',
          `${TREE_PATHS.quirks}: NVIDIA quirk ${first.name} has no init to register the mirror in`,
        );
      const pi = devinstParam(text, first.init);
      if (pi === undefined) return refusal('absent', `${TREE_PATHS.quirks}: cannot find ${first.init}()`);
      if (!hasFunctions) {
        const withFns = insertBefore(text, first.init, mirrorFunctions(api));
        if (withFns === undefined)
          return refusal('absent', `${TREE_PATHS.quirks}: cannot find ${first.init}()`);
        text = withFns;
      }
      const merged = insertAtTop(text, first.init, mirrorRegistration(pi));
      if (merged === undefined) return refusal('absent', `${TREE_PATHS.quirks}: cannot find ${first.init}()`);
      text = merged;
      detail = `registered in ${first.init}() (the first NVIDIA entry: bhyve runs only the first matching quirk)`;
    }
    edits.push({ path: TREE_PATHS.quirks, after: text });
  }
  const makefile = (await read(tree.srcsFile)) ?? '';
  if (!tree.quirks.listed && !srcsListed(makefile, 'pci_passthru_quirks.c')) {
    const updated = addToSrcsList(makefile, SRCS_ANCHOR, 'pci_passthru_quirks.c');
    if (updated === undefined)
      return refusal('absent', `${tree.srcsFile}: no SRCS list holds ${SRCS_ANCHOR}`);
    edits.push({ path: tree.srcsFile, after: updated });
  }
  return { state, edits, detail, warnings: [] };
}

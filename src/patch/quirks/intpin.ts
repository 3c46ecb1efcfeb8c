/**
 * The project's own NVIDIA INTPIN quirk for bhyve, as C text. Written for bhyve-gpu from the documented
 * facts (docs/patching.md): probe matches vendor 0x10DE with base class PCIC_DISPLAY read from the host,
 * init sets the virtual PCIR_INTPIN to 1. It requests no routed legacy interrupt (see INTPIN_RATIONALE).
 */

export type HostReadConfig = 'pci_host_read_config' | 'read_config';

/** Marker comment the tool writes next to the INTPIN setting. */
export const INTPIN_MARKER = 'bhyve-gpu: NVIDIA INTPIN quirk';

export const INTPIN_RATIONALE = [
  'bhyve emulates the passthru PCI header and leaves the virtual INTPIN',
  'at 0. The NVIDIA Linux driver refuses a GPU whose irq is 0 unless it',
  'has MSI-X, so Pascal and older boards fail to probe. With INTPIN = 1',
  'the guest assigns an IRQ number (from INTLINE, set by the firmware)',
  'and the driver goes on to use MSI. No legacy interrupt is routed',
  '(pci_lintr_request is not called): passthru never forwards the host',
  'INTx, so a routed pin would promise an interrupt that never fires.',
  'The guest logs "can\'t derive routing for PCI INT A": expected.',
];

/** The statement that sets the virtual pin, for a pci_devinst pointer named `pi`. */
export function intpinStatement(pi: string): string {
  return `pci_set_cfgdata8(${pi}, PCIR_INTPIN, 1);`;
}

/** The quirk's functions and its passthru_dev entry (no includes), for a new or an existing file. */
export function intpinEntrySource(read: HostReadConfig): string {
  const comment = INTPIN_RATIONALE.map((l) => ` * ${l}`.trimEnd()).join('\n');
  return `/*
 * ${INTPIN_MARKER}.
 *
${comment}
 */
${nvidiaEntrySource(read, `\t${intpinStatement('pi')}`)}`;
}

/**
 * bhyve-gpu's NVIDIA passthru_dev entry: probe (vendor NVIDIA, display class), init running `init` (C
 * statements, already indented), deinit. Every quirk that needs an entry of its own writes this one.
 */
export function nvidiaEntrySource(read: string, init: string): string {
  return `#define	BHYVE_GPU_NVIDIA_VENDOR	0x10de

static int
bhyve_gpu_nvidia_probe(struct pci_devinst *const pi)
{
	struct pcisel *sel;

	sel = passthru_get_sel(pi->pi_arg);
	if (${read}(sel, PCIR_VENDOR, 2) != BHYVE_GPU_NVIDIA_VENDOR)
		return (ENXIO);
	if (${read}(sel, PCIR_CLASS, 1) != PCIC_DISPLAY)
		return (ENXIO);

	return (0);
}

static int
bhyve_gpu_nvidia_init(struct pci_devinst *const pi, nvlist_t *const nvl)
{
	(void)nvl;
${init}

	return (0);
}

static void
bhyve_gpu_nvidia_deinit(struct pci_devinst *const pi)
{
	(void)pi;
}

static struct passthru_dev bhyve_gpu_nvidia = {
	.probe = bhyve_gpu_nvidia_probe,
	.init = bhyve_gpu_nvidia_init,
	.deinit = bhyve_gpu_nvidia_deinit,
};
PASSTHRU_DEV_SET(bhyve_gpu_nvidia);
`;
}

/** Includes the quirk needs, in FreeBSD order. */
export const INTPIN_INCLUDES = [
  '#include <dev/pci/pcireg.h>',
  '#include <errno.h>',
  '#include "pci_passthru.h"',
];

/** A complete usr.sbin/bhyve/pci_passthru_quirks.c holding only the INTPIN quirk. */
export function intpinQuirkFile(read: HostReadConfig): string {
  return `/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Passthru device quirks, written by bhyve-gpu.
 */

#include <dev/pci/pcireg.h>

#include <errno.h>

#include "pci_passthru.h"

${intpinEntrySource(read)}`;
}

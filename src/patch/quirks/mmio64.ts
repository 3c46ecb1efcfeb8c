import { blankComments, findFunction } from '../../srctree/cfunctions.js';
import { addIncludes, insertAfterIncludes, insertBefore } from './cedit.js';
import { type QuirkContext, type QuirkPlan, refusal } from './types.js';
import { STOCK_MMIO64, sizeText } from './words.js';

/**
 * The mmio64 quirk for bhyve (usr.sbin/bhyve/pci_emul.c), written by bhyve-gpu from these facts:
 * init_pci() puts 64-bit BARs over 128 MiB into one window of PCI_EMUL_MEMSIZE64 (32 GiB) whose base is the
 * end of guest high memory rounded up to the window size; BARs are assigned largest first and, in current
 * trees, a BAR that does not fit is left unassigned without a message. The quirk makes the size a bhyve
 * config key, pci.mmio64_size (SIZE is its default), keeps the window naturally aligned, stops bhyve with a
 * message when memory plus window pass the guest's physical-address limit, and turns a BAR that does not fit
 * into a startup error.
 */
export const EMUL_C = 'usr.sbin/bhyve/pci_emul.c';
export const MMIO64_KEY = 'pci.mmio64_size';
const MARKER = 'bhyve-gpu: mmio64 quirk';

const DEFAULT_LINE = /^#define[ \t]+BHYVE_GPU_MMIO64_DEFAULT[ \t]+"([0-9]+[GT])"[ \t]*$/m;
const MEMSIZE_DEFINE = /^#define[ \t]+PCI_EMUL_MEMSIZE64\b[^\n]*\n/m;
const ROUNDUP = /roundup2\s*\(\s*pci_emul_membase64\s*,\s*PCI_EMUL_MEMSIZE64\s*\)/;
const ROUNDUP_STMT =
  /^([ \t]*)(pci_emul_membase64\s*=\s*roundup2\s*\(\s*pci_emul_membase64\s*,\s*)PCI_EMUL_MEMSIZE64(\s*\)\s*;)/m;
const LIMIT = /pci_emul_memlim64\s*=\s*pci_emul_membase64\s*\+\s*PCI_EMUL_MEMSIZE64\s*;/;
const LIMIT_STMT = /^([ \t]*)pci_emul_memlim64\s*=\s*pci_emul_membase64\s*\+\s*PCI_EMUL_MEMSIZE64\s*;/m;
const ASSIGN_STMT =
  /^([ \t]*)pci_emul_assign_bar\s*\(\s*bar->pdi\s*,\s*bar->idx\s*,\s*bar->type\s*,\s*bar->size\s*\)\s*;[ \t]*$/m;

function declarations(size: string): string {
  return `/*
 * ${MARKER}: the 64-bit MMIO window size is the config key
 * ${MMIO64_KEY} (e.g. -o ${MMIO64_KEY}=256G), a power of two of at least
 * 1G; BHYVE_GPU_MMIO64_DEFAULT when unset. PCI_EMUL_MEMSIZE64 is no longer used.
 */
#define	BHYVE_GPU_MMIO64_DEFAULT	"${size}"
static uint64_t pci_emul_memsize64;
`;
}

const FUNCTIONS = `/* ${MARKER}: read ${MMIO64_KEY}. */
static uint64_t
bhyve_gpu_mmio64_size(void)
{
	const char *value;
	char *end;
	uint64_t size;
	int shift;

	value = get_config_value("${MMIO64_KEY}");
	if (value == NULL)
		value = BHYVE_GPU_MMIO64_DEFAULT;
	size = strtoull(value, &end, 10);
	shift = 0;
	if (*end == 'T' || *end == 't')
		shift = 40;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	if (shift != 0)
		end++;
	if (*end != '\\0' || size == 0 || size > (UINT64_C(1) << (48 - shift)))
		errx(EX_USAGE, "${MMIO64_KEY}=%s: expected a size such as 64G or 1T",
		    value);
	size <<= shift;
	if ((size & (size - 1)) != 0 || size < (UINT64_C(1) << 30))
		errx(EX_USAGE, "${MMIO64_KEY}=%s: must be a power of two of at least 1G",
		    value);
	return (size);
}

/* ${MARKER}: the window must end inside the guest's physical address space. */
static void
bhyve_gpu_mmio64_check(uint64_t limit)
{
#ifdef __amd64__
	u_int regs[4];
	int bits;

	bits = 36;
	do_cpuid(0x80000000, regs);
	if (regs[0] >= 0x80000008) {
		do_cpuid(0x80000008, regs);
		bits = regs[0] & 0xff;
	}
	if (bits > 48)
		bits = 48;
	if (limit > (UINT64_C(1) << bits))
		errx(EX_USAGE, "guest memory plus the 64-bit PCI window (${MMIO64_KEY}) "
		    "end at %#jx, past the guest's %d-bit physical address space: "
		    "lower ${MMIO64_KEY} or the guest memory", (uintmax_t)limit, bits);
#else
	(void)limit;
#endif
}
`;

function assignCheck(indent: string): string {
  const i = indent;
  return `${i}if (pci_emul_assign_bar(bar->pdi, bar->idx, bar->type,
${i}    bar->size) != 0) {
${i}\t/* ${MARKER}: a BAR left unassigned is an error. */
${i}\twarnx("%s: BAR %d (%#jx bytes) does not fit the PCI MMIO "
${i}\t    "windows; raise ${MMIO64_KEY} (now %#jx)", bar->pdi->pi_name,
${i}\t    bar->idx, (uintmax_t)bar->size, (uintmax_t)pci_emul_memsize64);
${i}\treturn (ENOSPC);
${i}}`;
}

export async function planMmio64({ read }: QuirkContext, size: number): Promise<QuirkPlan> {
  const text = await read(EMUL_C);
  const want = sizeText(size);
  if (text === undefined) return refusal('absent', `${EMUL_C} not found: not a bhyve source tree`);
  const code = blankComments(text);
  const current = DEFAULT_LINE.exec(text);
  const usesKey = code.includes('bhyve_gpu_mmio64_size') && text.includes(`"${MMIO64_KEY}"`);
  const warnings: string[] = [];
  if (size > STOCK_MMIO64)
    warnings.push(
      `guests on bhyve's UEFI firmware: it assigns 64-bit BARs inside its own fixed 32 GiB aperture; a Linux guest assigns BARs the firmware left out from bhyve's larger ACPI window, a Windows guest does not (Code 12). See docs/patching.md "mmio64".`,
    );
  if (current && usesKey) {
    if (current[1] === want)
      return { state: 'present', edits: [], detail: `${MMIO64_KEY} is read, default ${want}`, warnings };
    const next = text.replace(DEFAULT_LINE, (line) => line.replace(/"[0-9]+[GT]"/, `"${want}"`));
    return {
      state: 'present',
      edits: [{ path: EMUL_C, after: next }],
      detail: `default ${MMIO64_KEY} changed from ${current[1]} to ${want}`,
      warnings,
    };
  }
  if (current || code.includes('bhyve_gpu_mmio64_size'))
    return refusal(
      'partial',
      `${EMUL_C} holds part of the mmio64 quirk (an edited copy?): restore the file and run again`,
    );
  if (!MEMSIZE_DEFINE.test(code) || !ROUNDUP.test(code) || !LIMIT.test(code))
    return refusal(
      'conflicting',
      `${EMUL_C} does not size the 64-bit window with PCI_EMUL_MEMSIZE64 (a fork with its own base/limit?): the quirk does not know where the window is set`,
    );
  if (!/\bget_config_value\s*\(/.test(code) && !/#include\s+"config.h"/.test(text))
    return refusal(
      'absent',
      `${EMUL_C} predates bhyve_config(5) (no get_config_value): ${MMIO64_KEY} cannot be read`,
    );
  const init = findFunction(text, 'init_pci');
  if (!init) return refusal('conflicting', `${EMUL_C}: init_pci() not found`);
  let next = text.replace(MEMSIZE_DEFINE, (line) => `${line}\n${declarations(want)}`);
  if (!ROUNDUP_STMT.test(next))
    return refusal(
      'conflicting',
      `${EMUL_C}: the window base is not set by one roundup2(pci_emul_membase64, PCI_EMUL_MEMSIZE64) statement`,
    );
  next = next.replace(
    ROUNDUP_STMT,
    (_m, indent: string, head: string, tail: string) =>
      `${indent}pci_emul_memsize64 = bhyve_gpu_mmio64_size();\n${indent}${head}pci_emul_memsize64${tail}`,
  );
  next = next.replace(
    LIMIT_STMT,
    (_m, indent: string) =>
      `${indent}pci_emul_memlim64 = pci_emul_membase64 + pci_emul_memsize64;\n${indent}bhyve_gpu_mmio64_check(pci_emul_memlim64);`,
  );
  const assign = ASSIGN_STMT.exec(next);
  let detail = `${MMIO64_KEY} read at start, default ${want}`;
  if (assign) {
    next = next.replace(ASSIGN_STMT, assignCheck(assign[1] ?? '\t\t\t'));
    detail += '; a BAR that does not fit stops bhyve';
  } else {
    detail +=
      '; this tree assigns BARs as devices initialise (a BAR that does not fit already fails the device)';
  }
  const withFns = insertBefore(next, 'init_pci', FUNCTIONS);
  if (withFns === undefined) return refusal('conflicting', `${EMUL_C}: init_pci() not found`);
  next = addIncludes(withFns, [
    '#include <err.h>',
    '#include <errno.h>',
    '#include <stdint.h>',
    '#include <stdlib.h>',
    '#include <sysexits.h>',
  ]);
  if (!next.includes('<machine/cpufunc.h>'))
    next = insertAfterIncludes(next, '#ifdef __amd64__\n#include <machine/cpufunc.h>\n#endif\n');
  return { state: 'absent', edits: [{ path: EMUL_C, after: next }], detail, warnings };
}

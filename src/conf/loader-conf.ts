/**
 * loader.conf(5) facts and edits for PCI passthrough reservations (pure functions over file texts).
 *
 * - Read order (`loaderConfFiles`): /boot/defaults/loader.conf sets `loader_conf_files="/boot/device.hints
 *   /boot/loader.conf"`, `loader_conf_dirs="/boot/loader.conf.d"` and `local_loader_conf_files=
 *   "/boot/loader.conf.local"`; loader.conf(5): files of loader_conf_dirs (`*.conf`, lua loader only) are read
 *   after loader_conf_files and before local_loader_conf_files. A later assignment overrides an earlier one.
 *   Directory entries are taken in name order here (the loader takes readdir order; keep names distinct).
 * - vmm(4) / sys/amd64/vmm/vmm.c `vmm_is_pptdev`: the kernel reads the environment variables `pptdevs`,
 *   `pptdevs2` and `pptdevs3`, splits each at spaces and matches `%d/%d/%d` (bus/slot/function). A loader
 *   variable holds at most 128 characters, hence the continuation variables (`PPTDEVS_VALUE_LIMIT`).
 * - vmm must be loaded by the loader (`vmm_load="YES"`): loaded later from rc.conf `kld_list` it no longer
 *   gets first refusal on the devices, so ppt(4) cannot claim them (`vmmLoadState`).
 *
 * `planPptdevs` keeps existing entries where they are, appends new ones to the first variable with room,
 * writes to the file that holds the effective `pptdevs` (default /boot/loader.conf), never duplicates, and
 * returns only the files whose text changes; an empty result means "already in the desired state".
 */
import { type ConfFile, LOADER_CONF, lastAssignment, parseAll } from './loader-files.js';
import { get, parseShDoc, printShDoc, set } from './shedit.js';

export * from './loader-files.js';
export * from './pptdevs.js';

/** Sets `vmm_load="YES"` unless the text already loads vmm; returns the (possibly unchanged) text. */
export function ensureVmmLoad(text: string, file = LOADER_CONF): string {
  const doc = parseShDoc(text, file, { loader: true });
  if (get(doc, 'vmm_load')?.toUpperCase() === 'YES') return text;
  set(doc, 'vmm_load', 'YES');
  return printShDoc(doc);
}

export type VmmLoadState = 'loader' | 'kld_list-only' | 'absent';

export const VMM_KLD_LIST_WARNING =
  'vmm is loaded from rc.conf kld_list, which is too late for ppt(4) to claim the devices in pptdevs; set vmm_load="YES" in /boot/loader.conf';

/** How vmm.ko gets loaded: by the loader, only late from rc.conf `kld_list`, or not at all. */
export function vmmLoadState(loaderFiles: readonly ConfFile[], rcConfText: string): VmmLoadState {
  const value = lastAssignment(parseAll(loaderFiles), 'vmm_load')?.value;
  if (value?.toUpperCase() === 'YES') return 'loader';
  const rc = parseShDoc(rcConfText, '/etc/rc.conf');
  const vmmWord = /(^|[\s"'/])vmm(\.ko)?(?=$|[\s"'])/;
  for (const n of rc.nodes) {
    if ((n.kind === 'assignment' || n.kind === 'other') && n.key === 'kld_list') {
      const text = n.kind === 'assignment' ? n.value : n.raw.slice(n.raw.indexOf('=') + 1);
      if (vmmWord.test(text)) return 'kld_list-only';
    }
  }
  return 'absent';
}

/** The warning to show for a state, if any. */
export function vmmLoadWarning(state: VmmLoadState): string | undefined {
  if (state === 'kld_list-only') return VMM_KLD_LIST_WARNING;
  if (state === 'absent') return 'vmm is not loaded at boot; set vmm_load="YES" in /boot/loader.conf';
  return undefined;
}

/**
 * Device Manager problem codes: the CM_PROB_* constants of the Windows DDK's cfg.h, as Device Manager shows
 * them ("Code 43") and pnputil prints them ("43 (0x2B) [CM_PROB_FAILED_POST_START]"). Microsoft documents
 * each under learn.microsoft.com/windows-hardware/drivers/install/cm-prob-*.
 */
export const PROBLEM_CODES: Readonly<Record<number, string>> = {
  1: 'CM_PROB_NOT_CONFIGURED',
  3: 'CM_PROB_OUT_OF_MEMORY',
  9: 'CM_PROB_INVALID_DATA',
  10: 'CM_PROB_FAILED_START',
  12: 'CM_PROB_NORMAL_CONFLICT',
  14: 'CM_PROB_NEED_RESTART',
  16: 'CM_PROB_PARTIAL_LOG_CONF',
  18: 'CM_PROB_REINSTALL',
  19: 'CM_PROB_REGISTRY',
  21: 'CM_PROB_WILL_BE_REMOVED',
  22: 'CM_PROB_DISABLED',
  24: 'CM_PROB_DEVICE_NOT_THERE',
  28: 'CM_PROB_FAILED_INSTALL',
  29: 'CM_PROB_HARDWARE_DISABLED',
  31: 'CM_PROB_FAILED_ADD',
  32: 'CM_PROB_DISABLED_SERVICE',
  33: 'CM_PROB_TRANSLATION_FAILED',
  34: 'CM_PROB_NO_SOFTCONFIG',
  35: 'CM_PROB_BIOS_TABLE',
  36: 'CM_PROB_IRQ_TRANSLATION_FAILED',
  37: 'CM_PROB_FAILED_DRIVER_ENTRY',
  38: 'CM_PROB_DRIVER_FAILED_PRIOR_UNLOAD',
  39: 'CM_PROB_DRIVER_FAILED_LOAD',
  40: 'CM_PROB_DRIVER_SERVICE_KEY_INVALID',
  41: 'CM_PROB_LEGACY_SERVICE_NO_DEVICES',
  42: 'CM_PROB_DUPLICATE_DEVICE',
  43: 'CM_PROB_FAILED_POST_START',
  44: 'CM_PROB_HALTED',
  45: 'CM_PROB_PHANTOM',
  46: 'CM_PROB_SYSTEM_SHUTDOWN',
  47: 'CM_PROB_HELD_FOR_EJECT',
  48: 'CM_PROB_DRIVER_BLOCKED',
  49: 'CM_PROB_REGISTRY_TOO_LARGE',
  50: 'CM_PROB_SETPROPERTIES_FAILED',
  51: 'CM_PROB_WAITING_ON_DEPENDENCY',
  52: 'CM_PROB_UNSIGNED_DRIVER',
};

/** Device Manager's short text for the codes a passthrough user meets. */
export const PROBLEM_TEXT: Readonly<Record<number, string>> = {
  10: 'This device cannot start',
  12: 'This device cannot find enough free resources that it can use',
  22: 'This device is disabled',
  24: 'This device is not present, is not working properly, or does not have all its drivers installed',
  28: 'The drivers for this device are not installed',
  31: 'This device is not working properly because Windows cannot load the drivers required for this device',
  43: 'Windows has stopped this device because it has reported problems',
  45: 'Currently, this hardware device is not connected to the computer',
};

/** 43 from "CM_PROB_FAILED_POST_START" (PowerShell 7 -EnumsAsStrings, pnputil's bracket). */
export function problemCodeByName(name: string): number | undefined {
  for (const [n, v] of Object.entries(PROBLEM_CODES)) if (v === name) return Number(n);
  return undefined;
}

/** "Code 43 (CM_PROB_FAILED_POST_START)". */
export function describeCode(code: number): string {
  const name = PROBLEM_CODES[code];
  return `Code ${code}${name ? ` (${name})` : ''}`;
}

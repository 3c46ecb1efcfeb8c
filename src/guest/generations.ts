/**
 * NVIDIA GPU generation from the PCI device id (vendor 0x10de, display-class functions only: the HD audio
 * and USB functions of a card have ids of their own).
 *
 * Sources for the ranges (docs/guest.md repeats them):
 *  - [PCIIDS] the pci.ids database (https://pci-ids.ucw.cz, Debian package `pci.ids`, 2023-04 snapshot):
 *    every entry's chip name (GK104, GM204, GP104GL, TU104GL, GA100, AD102, GH100 ...) gives the
 *    architecture; a range spans the ids that database lists for one chip family. A test checks every
 *    GPU entry of an installed pci.ids against this table.
 *  - [BOARDS] Blackwell ids, newer than that pci.ids snapshot: board ids seen in public lspci-based
 *    tables (10de:2b85 RTX 5090 and 2ba0 RTX PRO 6000 = GB202, 2c02/2c05 RTX 5080/5070 Ti = GB203,
 *    2901 B200 = GB100); the range ends are the chip's 0x80-id block, as for every older chip.
 *  - [NVREADME] NVIDIA's Linux driver README, appendix "Supported NVIDIA GPU Products", for the legacy
 *    branches: 470 is the last for Kepler, 580 the last for Maxwell, Pascal and Volta.
 *  - [NVKMOD] NVIDIA driver installation guide, "Kernel Modules": the open kernel modules support Turing
 *    and newer only; Maxwell, Pascal and Volta need the proprietary modules.
 *  - [CORPUS] real captures: 10de:2f04 RTX 5070 (GB205) in a Xen guest log, 10de:26b9 (AD102) vGPU.
 */
export type Architecture =
  | 'Fermi'
  | 'Kepler'
  | 'Maxwell'
  | 'Pascal'
  | 'Volta'
  | 'Turing'
  | 'Ampere'
  | 'Ada'
  | 'Hopper'
  | 'Blackwell';

export interface ChipRange {
  first: number;
  last: number;
  chip: string;
  architecture: Architecture;
  source: 'PCIIDS' | 'BOARDS' | 'CORPUS';
}

const r = (
  first: number,
  last: number,
  chip: string,
  architecture: Architecture,
  source: ChipRange['source'] = 'PCIIDS',
): ChipRange => ({ first, last, chip, architecture, source });

export const CHIP_RANGES: readonly ChipRange[] = [
  r(0x06c0, 0x06ff, 'GF100', 'Fermi'),
  r(0x0dc0, 0x0dff, 'GF106/GF108', 'Fermi'),
  r(0x0e20, 0x0e3f, 'GF104', 'Fermi'),
  r(0x0f00, 0x0f3f, 'GF108', 'Fermi'),
  r(0x0fc0, 0x0fff, 'GK107', 'Kepler'),
  r(0x1000, 0x103f, 'GK110/GK180/GK210', 'Kepler'),
  r(0x1040, 0x107f, 'GF119', 'Fermi'),
  r(0x1080, 0x10bf, 'GF110', 'Fermi'),
  r(0x1140, 0x117f, 'GF117', 'Fermi'),
  r(0x1180, 0x11bf, 'GK104', 'Kepler'),
  r(0x11c0, 0x11ff, 'GK106', 'Kepler'),
  r(0x1200, 0x127f, 'GF114/GF116', 'Fermi'),
  r(0x1280, 0x12bf, 'GK208', 'Kepler'),
  r(0x1340, 0x137f, 'GM108', 'Maxwell'),
  r(0x1380, 0x13bf, 'GM107', 'Maxwell'),
  r(0x13c0, 0x13ff, 'GM204', 'Maxwell'),
  r(0x1400, 0x143f, 'GM206', 'Maxwell'),
  r(0x15f0, 0x15ff, 'GP100', 'Pascal'),
  r(0x1600, 0x167f, 'GM204 (mobile)', 'Maxwell'),
  r(0x1700, 0x173f, 'GP100', 'Pascal'),
  r(0x1740, 0x177f, 'GM108', 'Maxwell'),
  r(0x1780, 0x17bf, 'GM107', 'Maxwell'),
  r(0x17c0, 0x17ff, 'GM200', 'Maxwell'),
  r(0x1b00, 0x1b7f, 'GP102', 'Pascal'),
  r(0x1b80, 0x1bff, 'GP104', 'Pascal'),
  r(0x1c00, 0x1c7f, 'GP106', 'Pascal'),
  r(0x1c80, 0x1cff, 'GP107', 'Pascal'),
  r(0x1d00, 0x1d7f, 'GP108', 'Pascal'),
  r(0x1d80, 0x1dff, 'GV100', 'Volta'),
  r(0x1e00, 0x1e7f, 'TU102', 'Turing'),
  r(0x1e80, 0x1eff, 'TU104', 'Turing'),
  r(0x1f00, 0x1f7f, 'TU106', 'Turing'),
  r(0x1f80, 0x1fff, 'TU117', 'Turing'),
  r(0x2080, 0x20ff, 'GA100', 'Ampere'),
  r(0x2180, 0x21ff, 'TU116', 'Turing'),
  r(0x2200, 0x227f, 'GA102', 'Ampere'),
  r(0x2300, 0x237f, 'GH100', 'Hopper'),
  r(0x2400, 0x247f, 'GA103', 'Ampere'),
  r(0x2480, 0x24ff, 'GA104', 'Ampere'),
  r(0x2500, 0x257f, 'GA106', 'Ampere'),
  r(0x2580, 0x25ff, 'GA107', 'Ampere'),
  r(0x2680, 0x26ff, 'AD102', 'Ada'),
  r(0x2700, 0x277f, 'AD103', 'Ada'),
  r(0x2780, 0x27ff, 'AD104', 'Ada'),
  r(0x2800, 0x287f, 'AD106', 'Ada'),
  r(0x2880, 0x28ff, 'AD107', 'Ada'),
  r(0x2900, 0x29ff, 'GB100/GB102', 'Blackwell', 'BOARDS'),
  r(0x2b80, 0x2bff, 'GB202', 'Blackwell', 'BOARDS'),
  r(0x2c00, 0x2c7f, 'GB203', 'Blackwell', 'BOARDS'),
  r(0x2d00, 0x2d7f, 'GB206', 'Blackwell', 'BOARDS'),
  r(0x2d80, 0x2dff, 'GB207', 'Blackwell', 'BOARDS'),
  r(0x2f00, 0x2f7f, 'GB205', 'Blackwell', 'CORPUS'),
];

const ORDER: Architecture[] = [
  'Fermi',
  'Kepler',
  'Maxwell',
  'Pascal',
  'Volta',
  'Turing',
  'Ampere',
  'Ada',
  'Hopper',
  'Blackwell',
];

export function chipOf(deviceId: number): ChipRange | undefined {
  return CHIP_RANGES.find((c) => deviceId >= c.first && deviceId <= c.last);
}

export function architectureOf(deviceId: number): Architecture | undefined {
  return chipOf(deviceId)?.architecture;
}

/** Which kernel modules and driver branch a generation needs ([NVKMOD], [NVREADME]). */
export interface DriverChoice {
  architecture: Architecture;
  /** 'open' for Turing and newer; 'proprietary' for Maxwell, Pascal, Volta. */
  modules: 'open' | 'proprietary';
  /** The newest driver branch that still supports the generation, when it is a legacy one. */
  lastBranch?: number;
  /** Set when no driver from the CUDA repository supports the generation any more. */
  unsupported?: string;
}

export function driverChoice(architecture: Architecture): DriverChoice {
  const rank = ORDER.indexOf(architecture);
  if (rank <= ORDER.indexOf('Fermi'))
    return {
      architecture,
      modules: 'proprietary',
      lastBranch: 390,
      unsupported:
        'Fermi GPUs were last supported by the 390 legacy branch, which no current distribution ships',
    };
  if (rank === ORDER.indexOf('Kepler'))
    return {
      architecture,
      modules: 'proprietary',
      lastBranch: 470,
      unsupported:
        'Kepler GPUs were last supported by the 470 legacy branch, which the CUDA repository no longer carries; use the distribution package (e.g. Ubuntu nvidia-driver-470)',
    };
  if (rank < ORDER.indexOf('Turing')) return { architecture, modules: 'proprietary', lastBranch: 580 };
  return { architecture, modules: 'open' };
}

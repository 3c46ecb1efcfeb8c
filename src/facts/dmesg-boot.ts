/**
 * `/var/run/dmesg.boot` / `dmesg` -> what the host kernel says about virtualization: CPU, VT-x / SVM
 * features (sys/x86/x86/identcpu.c), hypervisor, IOMMU units (dmar, AMD-Vi), boot video device, ppt attaches.
 * When the text holds several boots (a new "FreeBSD x.y-..." banner), the last one wins.
 */

import type { DmesgBootFacts, SvmFeatures, VtxFeatures } from './types.js';
import { parseRelease } from './version.js';

const BANNER = /^FreeBSD (\d+\.\d+-[A-Z]+\d*(?:-p\d+)?)\s/;
const CPU = /^CPU: (.*)$/;
/** The clock suffix of the CPU line: ` (3393.72-MHz K8-class CPU)`. */
const CPU_CLOCK = / \([\d.]+-MHz [^()]*\)$/;
const ORIGIN = /^\s+Origin\s*=\s*"([^"]*)"/;
const FEATURES = /^\s+(?:[A-Za-z][A-Za-z0-9 ]*)?Features\d*=0x[0-9a-fA-F]+<([^>]*)>/;
const VTX = /^\s*VT-x:\s*(\(disabled in BIOS\)\s*)?(.*)$/;
const SVM = /^\s*SVM:\s*(\(disabled in BIOS\)\s*)?(.*)$/;
const HYPERVISOR = /^Hypervisor:\s*Origin\s*=\s*"([^"]*)"/;
const DMAR = /^(dmar\d+): <DMA remap>/;
const AMDVI = /^((?:ivhd|amdiommu)\d+): <[^>]*(?:AMD-Vi|IOMMU)[^>]*>/;
const BOOT_VIDEO = /^([A-Za-z][\w]{0,31}?)(\d{1,6}): Boot video device$/;
/** ppt(4) sets no description, so its attach line has no colon: `ppt0 mem 0x...-0x... irq 16 at device 0.0 on pci1`. */
const PPT_ATTACH = /^ppt(\d+):?\s+(\S.*?\bat device (\d+)\.(\d+) on pci(\d+))$/;

type Apply = (facts: DmesgBootFacts, m: RegExpExecArray, line: number) => void;

function addOnce(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}

/** Line patterns, tried in order; the first that matches a line handles it. */
const LINES: [RegExp, Apply][] = [
  [
    CPU,
    (f, m) => {
      f.cpuModel = m[1]!.replace(CPU_CLOCK, '').trim();
    },
  ],
  [
    ORIGIN,
    (f, m) => {
      const origin = m[1]!;
      f.cpuOrigin = origin;
      f.cpuVendor =
        origin === 'GenuineIntel' ? 'intel' : /^(AuthenticAMD|HygonGenuine)$/.test(origin) ? 'amd' : 'other';
    },
  ],
  [
    FEATURES,
    (f, m) => {
      for (const name of m[1]!.split(',')) if (name !== '') addOnce(f.cpuFeatures, name);
    },
  ],
  [
    VTX,
    (f, m, line) => {
      f.vtx = vtxFeatures(m[2]!, m[1] !== undefined, line);
    },
  ],
  [
    SVM,
    (f, m, line) => {
      f.svm = svmFeatures(m[2]!, m[1] !== undefined, line);
    },
  ],
  [
    HYPERVISOR,
    (f, m) => {
      f.hypervisor = m[1]!;
    },
  ],
  [DMAR, (f, m) => addOnce(f.dmarUnits, m[1]!)],
  [AMDVI, (f, m) => addOnce(f.amdViUnits, m[1]!)],
  [
    BOOT_VIDEO,
    (f, m, line) => {
      f.bootVideo = { driver: m[1]!, unit: Number(m[2]), line };
    },
  ],
  [
    PPT_ATTACH,
    (f, m, line) => {
      f.ppt.push({
        unit: Number(m[1]),
        text: m[2]!,
        slot: Number(m[3]),
        function: Number(m[4]),
        parentBus: Number(m[5]),
        line,
      });
    },
  ],
];

function empty(): DmesgBootFacts {
  return { cpuFeatures: [], dmarUnits: [], amdViUnits: [], ppt: [] };
}

export function parseDmesgBoot(text: string): DmesgBootFacts {
  // Mail archives quote-print dmesg ("Origin =3D \"KVMKVMKVM\""); "=3D" is "=".
  const source = text.includes('=3D') ? text.replace(/=3D/g, '=') : text;
  let facts = empty();
  source.split(/\r?\n/).forEach((raw, index) => {
    const t = raw.trimEnd();
    const banner = BANNER.exec(t);
    if (banner) {
      facts = empty();
      facts.banner = t.trim();
      const release = parseRelease(banner[1]!);
      if (release) facts.release = release;
      return;
    }
    for (const [pattern, apply] of LINES) {
      const m = pattern.exec(t);
      if (m) {
        apply(facts, m, index + 1);
        return;
      }
    }
  });
  return facts;
}

/** Flags from "PAT,HLT,MTF,PAUSE,EPT,UG,VPID,VID,PostIntr" or a bootverbose "Features=0x..<...>" form. */
function flagList(text: string): string[] {
  const open = text.indexOf('<');
  const close = open < 0 ? -1 : text.indexOf('>', open);
  return (close > open ? text.slice(open + 1, close) : text)
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
}

function vtxFeatures(text: string, disabledInBios: boolean, line: number): VtxFeatures {
  const flags = flagList(text);
  const has = (name: string): boolean => flags.includes(name);
  return {
    disabledInBios,
    flags,
    ept: has('EPT'),
    unrestrictedGuest: has('UG'),
    vpid: has('VPID'),
    virtualInterruptDelivery: has('VID'),
    postedInterrupts: has('PostIntr'),
    line,
  };
}

function svmFeatures(text: string, disabledInBios: boolean, line: number): SvmFeatures {
  const all = flagList(text);
  const flags = all.filter((f) => !f.startsWith('NAsids='));
  const svm: SvmFeatures = {
    disabledInBios,
    flags,
    nestedPaging: flags.includes('NP'),
    nripSave: flags.includes('NRIP') || flags.includes('NRIPS'),
    line,
  };
  const asids = /NAsids=(\d+)/.exec(text) ?? /ASIDs=(\d+)/.exec(text);
  if (asids) svm.asids = Number(asids[1]);
  return svm;
}

import { decodeXid, parseRmInitAdapter } from './nvidia-codes.js';
import type { Decoded } from './types.js';

/** bhyve(8) EXIT STATUS. */
const BHYVE_EXIT: Record<number, string> = {
  0: 'the guest rebooted',
  1: 'the guest powered off',
  2: 'the guest halted',
  3: 'the guest triple-faulted',
  4: 'bhyve exited on an error',
};

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Run a signature's decoder over one matched line; undefined when the line lacks the numbers. */
export function decodeLine(decoder: string, text: string): Decoded | undefined {
  switch (decoder) {
    case 'rm-init-adapter': {
      const d = parseRmInitAdapter(text);
      if (!d) return undefined;
      return {
        summary: d.summary,
        stage: d.stage.name,
        stageCode: hex(d.stage.code),
        stageMeaning: d.stage.meaning,
        status: d.status.name,
        statusCode: hex(d.status.code),
        driverLine: d.line,
        likelyCauses: d.stage.causes,
      };
    }
    case 'xid': {
      const m = /Xid \(PCI:([0-9a-fA-F:.]+)\): ([0-9]+)/.exec(text);
      if (!m) return undefined;
      const x = decodeXid(Number.parseInt(m[2] as string, 10));
      return { summary: `Xid ${x.xid}: ${x.name}`, xid: x.xid, name: x.name, meaning: x.meaning, pci: m[1] };
    }
    case 'driver-version': {
      const m =
        /NVRM: loading NVIDIA UNIX (Open Kernel Module for )?[^ ]* *(Kernel Module)? +([0-9]+\.[0-9]+(\.[0-9]+)?)/.exec(
          text,
        );
      if (!m) return undefined;
      const flavour = m[1] ? 'open' : 'proprietary';
      return { summary: `NVIDIA ${m[3]} (${flavour} kernel module)`, version: m[3], flavour };
    }
    case 'driver-release': {
      const m = /NVIDIA ([0-9]+)(\.[0-9.]+|\.xx) (driver release|Legacy drivers)/.exec(text);
      if (!m) return undefined;
      const branch = Number.parseInt(m[1] as string, 10);
      const legacy = m[3] === 'Legacy drivers';
      const meaning = legacy
        ? `this GPU needs the ${branch}.xx legacy branch`
        : branch > 580
          ? `driver branch ${branch}: Pascal (Tesla P4/P40/P100, GTX 10xx) and older are supported up to the 580 branch only`
          : `driver branch ${branch} does not list this GPU`;
      return {
        summary: legacy ? `needs the ${branch}.xx legacy driver` : `driver ${m[1]}${m[2]}`,
        branch,
        meaning,
      };
    }
    case 'bhyve-exit': {
      const m = /bhyve exited with status ([0-9]+)/.exec(text);
      if (!m) return undefined;
      const status = Number.parseInt(m[1] as string, 10);
      const meaning = BHYVE_EXIT[status] ?? 'not a documented bhyve exit status';
      return { summary: `status ${status}: ${meaning}`, status, meaning };
    }
    default:
      return undefined;
  }
}

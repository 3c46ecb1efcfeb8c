/**
 * Where the quirks apply, as runnable commands (issue 10): used by `guest check` for a GPU whose driver
 * stopped in RmInitAdapter at VBIOS POST (0x31) or pre-init (0x23). The cause under bhyve is not
 * established; the candidates in order are the config-space mirror, then the hidden hypervisor, then the
 * option ROM. One build carries the mirror and the hide-hypervisor switch (off until set).
 */
export const QUIRK_SRC = '/usr/local/bhyve-gpu/src';

const RM_INIT = /RmInitAdapter failed! \(0x(31|23):/;

export interface QuirkAdvice {
  fix: string;
  commands: string[][];
}

/** Advice for evidence lines of a guest log; undefined when no RmInitAdapter 0x31/0x23 is among them. */
export function rmInitQuirkAdvice(
  evidence: readonly string[],
  installed: readonly string[] = [],
): QuirkAdvice | undefined {
  const hit = evidence.map((e) => RM_INIT.exec(e)).find((m) => m !== null);
  if (!hit) return undefined;
  const stage = hit[1] === '31' ? 'VBIOS POST (0x31)' : 'pre-init (0x23)';
  const ruledOut = installed.includes('nvidia-mirror')
    ? ' (the installed bhyve already has the mirror: try the switch, then rom=)'
    : '';
  return {
    fix: `RmInitAdapter failed at ${stage}; cause not established under bhyve. On the host: build bhyve with the NVIDIA config-space mirror and vmm.ko with the hide-hypervisor switch, reboot, retry; if it persists run sysctl hw.vmm.hide_hypervisor=1 and start the guest again; last, pass a dumped VBIOS with the passthru rom= option${ruledOut}`,
    commands: [
      ['bhyve-gpu', 'patch', '--src', QUIRK_SRC, '--quirk', 'intpin,nvidia-mirror,hide-hypervisor'],
      ['bhyve-gpu', 'build', '--src', QUIRK_SRC],
      ['bhyve-gpu', 'install', '--src', QUIRK_SRC, '--yes'],
      ['shutdown', '-r', 'now'],
    ],
  };
}

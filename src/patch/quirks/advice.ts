/**
 * Where the quirks apply, as runnable commands (issue 10): used by `guest check` for a GPU whose driver
 * stopped in RmInitAdapter at VBIOS POST (0x31) or pre-init (0x23). The cause under bhyve is not
 * established; the candidates in order are the config-space mirror, then the hidden hypervisor, then the
 * option ROM. One build carries the mirror and the hide-hypervisor switch (off until set).
 */
export const QUIRK_SRC = '/usr/local/bhyve-gpu/src';

/**
 * The commands that give the installed bhyve more quirks: source (a no-op when the tree already holds the
 * branch), patch with the quirks it has plus the new ones (a new mmio64=SIZE replaces an older one), build,
 * install. `have` empty means the INTPIN quirk alone, as `patch` does by default.
 */
export function quirkChain(have: readonly string[], add: readonly string[], src = QUIRK_SRC): string[][] {
  const words = [...new Set([...(have.length ? have : ['intpin']), ...add])];
  const kept = words.filter((w) => !w.startsWith('mmio64=') || add.includes(w));
  return [
    ['bhyve-gpu', 'source', '--src', src],
    ['bhyve-gpu', 'patch', '--src', src, '--quirk', kept.join(',')],
    ['bhyve-gpu', 'build', '--src', src],
    ['bhyve-gpu', 'install', '--src', src, '--yes'],
  ];
}

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
    commands: [...quirkChain(installed, ['nvidia-mirror', 'hide-hypervisor']), ['shutdown', '-r', 'now']],
  };
}

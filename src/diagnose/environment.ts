import type { Signature } from './types.js';

/**
 * What a log says about the machine it comes from: Linux's "Hypervisor detected: ..." and DMI lines
 * ("DMI: ...", "Hardware name: ..." in oops reports), FreeBSD's "Hypervisor: Origin = ...", and Hyper-V's
 * VMBus driver ("hv_vmbus: ...", which only a Hyper-V or Azure guest loads: an excerpt without the boot
 * head still says where it runs). Cloud DMI names are read as their hypervisor: "Amazon EC2" (Nitro, KVM
 * based; a ".metal" instance is bare metal) and "Google Compute Engine" (KVM). The engine never
 * assumes bhyve: explanations and commands that only hold on a bhyve host are worded by this.
 */

/** Literal words of the lines read for the environment (second-level keywords; the first level uses them too). */
export const ENVIRONMENT_KEYWORDS = [
  'Hypervisor detected: ',
  'Hypervisor: Origin',
  'DMI: ',
  'Hardware name: ',
  'Booting paravirtualized kernel on ',
  'hv_vmbus: ',
] as const;

export interface EnvironmentHit {
  platform: string;
  file: string;
  line: number;
  text: string;
}

const VENDORS: [RegExp, string][] = [
  [/bhyve|BHYVE/i, 'bhyve'],
  [/Amazon EC2 [a-z0-9-]+\.metal/, 'bare-metal'],
  [/Amazon EC2|Google Compute Engine/, 'kvm'],
  [/VMware/i, 'vmware'],
  [/Microsoft Hyper-V|Hyper-V|Microsoft Corporation Virtual Machine|Microsoft HV/i, 'hyperv'],
  [/Xen/i, 'xen'],
  [/KVM|KVMKVMKVM/, 'kvm'],
  [/Cloud Hypervisor/i, 'cloud-hypervisor'],
  [/QEMU/, 'qemu'],
  [/VirtualBox|innotek/i, 'virtualbox'],
  [/ACRN|Parallels|Jailhouse/i, 'other-hypervisor'],
];

/** The platform a line names, or undefined when the line is not an environment line. */
export function detectEnvironment(text: string): string | undefined {
  const m =
    /(Hypervisor detected: |Hypervisor: Origin = |DMI: |Hardware name: |Booting paravirtualized kernel on |hv_vmbus: )(.*)$/.exec(
      text,
    );
  if (!m) return undefined;
  if (m[1] === 'hv_vmbus: ') return 'hyperv';
  const what = m[2] as string;
  for (const [re, platform] of VENDORS) if (re.test(what)) return platform;
  if (/^(DMI|Hardware name)/.test(m[1] as string)) return 'bare-metal';
  if (/bare hardware/.test(what)) return 'bare-metal';
  return 'other-hypervisor';
}

const NAMES: Record<string, string> = {
  bhyve: 'bhyve',
  vmware: 'VMware',
  hyperv: 'Hyper-V',
  xen: 'Xen',
  kvm: 'KVM',
  'cloud-hypervisor': 'Cloud Hypervisor',
  qemu: 'QEMU',
  virtualbox: 'VirtualBox',
  'other-hypervisor': 'another hypervisor',
  'bare-metal': 'bare metal',
};

export function platformName(platform: string): string {
  return NAMES[platform] ?? platform;
}

/** Whether a signature's commands change a bhyve host (quirk builds, attach, vm-bhyve). */
function bhyveHostAdvice(s: Signature): boolean {
  return (s.commands ?? []).some(
    (argv) =>
      (argv[0] === 'bhyve-gpu' &&
        ['patch', 'build', 'install', 'attach', 'doctor', 'vm-args', 'source'].includes(argv[1] ?? '')) ||
      argv[0] === 'vm' ||
      argv[0] === 'bhyvectl',
  );
}

/**
 * A sentence to add to a guest finding's explanation when the log comes from a known environment other than
 * bhyve, and a noCommand replacing bhyve host commands that do not apply there. Undefined for bhyve logs and
 * logs that do not say where they come from.
 */
export function environmentNote(
  platform: string | undefined,
  s: Signature,
): { explanation: string; noCommand?: string } | undefined {
  if (platform === undefined || platform === 'bhyve') return undefined;
  if (!s.id.startsWith('guest.') && !s.id.startsWith('xorg.')) return undefined;
  const name = platformName(platform);
  const where =
    platform === 'bare-metal'
      ? 'This log comes from a machine on bare metal (its DMI line names no hypervisor), not from a bhyve guest.'
      : `This log comes from a ${name} guest (see the environment line), not from a bhyve guest.`;
  if (!bhyveHostAdvice(s)) return { explanation: where };
  return {
    explanation: `${where} The bhyve host steps do not apply there.`,
    noCommand: `the log is from ${platform === 'bare-metal' ? 'bare metal' : `a ${name} guest`}: bhyve-gpu's host fixes (quirk builds, attach, vm-bhyve) apply to bhyve hosts only; see the explanation and the decoded causes`,
  };
}

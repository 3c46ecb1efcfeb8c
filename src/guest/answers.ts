import type { Finding } from '../diagnose/types.js';
import { intpinChain } from '../doctor/advice.js';
import { rmInitQuirkAdvice } from '../patch/quirks/advice.js';
import { interruptPinName } from './cfgspace.js';
import type { GuestPciDevice } from './sysfs.js';
import type { GuestCheckItem, GuestGpu, SmiAnswer } from './types.js';

export const FIX_INTPIN =
  'on the FreeBSD host, give bhyve the NVIDIA INTPIN quirk (D51892): run these commands there (source, patch, build, install), then restart the VM (vm restart NAME)';
export const FIX_INSTALL =
  'install the NVIDIA driver in this guest (`bhyve-gpu guest setup` prints the script; --run --yes runs it as root); reboot after it';

const FIX_NOT_BOUND =
  'the NVIDIA driver is installed but did not bind: the "Did the NVIDIA driver initialise" answer and `bhyve-gpu diagnose` on the kernel log say why';

/** Runnable advice for the answers (issue 9): host-side chains run on the FreeBSD host. */
const INTPIN = { fix: FIX_INTPIN, commands: intpinChain() };
const INSTALL = { fix: FIX_INSTALL, commands: [['bhyve-gpu', 'guest', 'setup', '--run', '--yes']] };
const NOT_BOUND = {
  fix: FIX_NOT_BOUND,
  noCommand: 'the "Did the NVIDIA driver initialise" answer carries the fix for the cause',
};
const AS_ROOT = {
  noCommand: 'run bhyve-gpu guest check as root (sudo): only root reads the whole config space',
};

/** The per-GPU answers: interrupt pin, IRQ, MSI, bound driver, initialisation, memory. */
export function perGpuChecks(
  gpu: GuestGpu,
  d: GuestPciDevice,
  smi: SmiAnswer,
  findings: Finding[],
  installed: boolean,
): GuestCheckItem[] {
  const at = gpu.address;
  const checks: GuestCheckItem[] = [];
  const configEvidence = d.config
    ? `${at}/config (${d.config.length} bytes)`
    : `${at}/config: ${d.configError ?? 'not read'}`;
  if (gpu.interruptPin === undefined)
    checks.push({
      id: 'interrupt-pin',
      device: at,
      question: 'Does the GPU report an interrupt pin?',
      answer: 'unknown',
      detail: 'config space not readable',
      evidence: [configEvidence],
      ...AS_ROOT,
    });
  else if (gpu.interruptPin === 0)
    checks.push({
      id: 'interrupt-pin',
      device: at,
      question: 'Does the GPU report an interrupt pin?',
      answer: 'no',
      detail: 'interrupt pin 0 (none): the host bhyve lacks the NVIDIA INTPIN quirk',
      evidence: [`${configEvidence}: 0x3d = 0x00`],
      ...INTPIN,
    });
  else
    checks.push({
      id: 'interrupt-pin',
      device: at,
      question: 'Does the GPU report an interrupt pin?',
      answer: 'yes',
      detail: `interrupt pin ${interruptPinName(gpu.interruptPin)}`,
      evidence: [`${configEvidence}: 0x3d = 0x${gpu.interruptPin.toString(16).padStart(2, '0')}`],
    });

  const hasMsix = gpu.msix?.present === true;
  if (gpu.irq === undefined)
    checks.push({
      id: 'irq',
      device: at,
      question: 'Does the GPU have an IRQ?',
      answer: 'unknown',
      detail: 'irq file not read',
      evidence: [],
      noCommand: 'the sysfs irq file was not read: run bhyve-gpu guest check inside the guest itself',
    });
  else if (gpu.irq === 0)
    checks.push({
      id: 'irq',
      device: at,
      question: 'Does the GPU have an IRQ?',
      answer: 'no',
      detail: hasMsix
        ? 'irq 0; the GPU has MSI-X, so the NVIDIA probe can still pass'
        : 'irq 0 and no MSI-X: the NVIDIA driver\'s probe fails ("Can\'t find an IRQ for your NVIDIA card!")',
      evidence: [`${at}/irq = 0`],
      ...(hasMsix
        ? { noCommand: 'nothing to do while the GPU uses MSI-X' }
        : gpu.interruptPin === 0
          ? { noCommand: 'the interrupt pin answer above carries the fix (the INTPIN quirk)' }
          : INTPIN),
    });
  else
    checks.push({
      id: 'irq',
      device: at,
      question: 'Does the GPU have an IRQ?',
      answer: 'yes',
      detail: `irq ${gpu.irq}`,
      evidence: [`${at}/irq = ${gpu.irq}`],
    });

  if (!d.config)
    checks.push({
      id: 'msi',
      device: at,
      question: 'Is MSI or MSI-X enabled?',
      answer: 'unknown',
      detail: 'config space not readable',
      evidence: [configEvidence],
      ...AS_ROOT,
    });
  else {
    const caps = [
      gpu.msi?.present ? `MSI ${gpu.msi.enabled ? 'enabled' : 'disabled'}` : undefined,
      gpu.msix
        ? `MSI-X (${gpu.msix.tableSize} vectors) ${gpu.msix.enabled ? 'enabled' : 'disabled'}`
        : undefined,
    ].filter((c): c is string => c !== undefined);
    const enabled = gpu.msi?.enabled === true || gpu.msix?.enabled === true;
    const partial = d.config.length < 256;
    checks.push({
      id: 'msi',
      device: at,
      question: 'Is MSI or MSI-X enabled?',
      answer: enabled ? 'yes' : partial && caps.length === 0 ? 'unknown' : 'no',
      detail:
        caps.length === 0
          ? partial
            ? `only ${d.config.length} bytes of config space: capabilities not visible`
            : 'no MSI or MSI-X capability'
          : `${caps.join(', ')}${enabled ? '' : ' (a driver enables it when it binds)'}`,
      evidence: [
        configEvidence,
        ...d.config.capabilities.map((c) => `capability [${c.offset.toString(16)}] ${c.name}`),
      ],
      ...(enabled
        ? {}
        : caps.length === 0 && !partial
          ? { noCommand: 'the device has no MSI or MSI-X capability: no command adds one' }
          : partial && caps.length === 0
            ? AS_ROOT
            : { noCommand: 'the driver enables MSI/MSI-X when it binds: see the driver answers' }),
    });
  }

  const driver = gpu.driver;
  checks.push({
    id: 'driver-bound',
    device: at,
    question: 'Is the nvidia driver bound to the GPU?',
    answer: driver === undefined ? 'unknown' : driver === 'nvidia' ? 'yes' : 'no',
    detail:
      driver === undefined
        ? 'driver link not read'
        : driver === 'none'
          ? 'no driver bound'
          : `bound to ${driver}`,
    evidence: driver === undefined ? [] : [`${at}/driver -> ${driver}`],
    ...(driver === undefined
      ? { noCommand: 'the driver link was not read: run bhyve-gpu guest check inside the guest itself' }
      : driver !== 'nvidia'
        ? driver === 'vfio-pci'
          ? {
              fix: 'unbind vfio-pci (it is meant for passing the GPU on to a nested VM), then load nvidia',
              noCommand: `unbinding is a sysfs write (echo ${at} > /sys/bus/pci/drivers/vfio-pci/unbind), then modprobe nvidia`,
            }
          : driver === 'none' && installed
            ? NOT_BOUND
            : INSTALL
        : {}),
  });

  checks.push(initialisedCheck(gpu, smi, findings));
  const s = gpu.smi;
  checks.push(
    s?.memoryTotalMiB !== undefined
      ? {
          id: 'memory',
          device: at,
          question: 'How much memory and BAR1 does the driver report?',
          answer: 'yes',
          detail: `${s.memoryTotalMiB} MiB framebuffer${s.bar1TotalMiB !== undefined ? `, BAR1 ${s.bar1TotalMiB} MiB` : ''}`,
          evidence: [`${smi.evidence}: ${s.productName ?? 'GPU'} ${s.busId ?? ''}`.trim()],
        }
      : {
          id: 'memory',
          device: at,
          question: 'How much memory and BAR1 does the driver report?',
          answer: 'unknown',
          detail: 'nvidia-smi did not report this GPU',
          evidence: [],
          noCommand: 'nvidia-smi reports memory once the driver initialised the GPU: see the answers above',
        },
  );
  return checks;
}

/** The INTPIN problem has one fix, given once: a no-IRQ finding points at the interrupt pin answer's. */
function findingAdvice(gpu: GuestGpu, root: Finding) {
  const intpin = /no-irq|intpin/i.test(root.id);
  if (intpin && gpu.interruptPin === 0)
    return { noCommand: 'the interrupt pin answer above carries the fix (the INTPIN quirk)' };
  if (intpin) return INTPIN;
  return {
    fix: root.fix.join('; '),
    ...(root.commands?.length
      ? { commands: root.commands }
      : {
          noCommand: root.noCommand ?? 'no single command: follow the fix (bhyve-gpu diagnose explains it)',
        }),
  };
}

function initialisedCheck(gpu: GuestGpu, smi: SmiAnswer, findings: Finding[]): GuestCheckItem {
  const base = {
    id: 'driver-initialised' as const,
    device: gpu.address,
    question: 'Did the NVIDIA driver initialise the GPU?',
  };
  if (gpu.smi)
    return {
      ...base,
      answer: 'yes',
      detail: `nvidia-smi lists ${gpu.smi.productName ?? 'the GPU'}`,
      evidence: [`${smi.evidence}: ${gpu.smi.productName ?? ''} ${gpu.smi.busId ?? ''}`.trim()],
    };
  const errors = findings.filter((f) => f.severity === 'error');
  const evidence = errors.flatMap((f) => f.evidence.slice(0, 2).map((e) => `${e.file}:${e.line}: ${e.text}`));
  const root = errors.find((f) => f.rootCause) ?? errors[0];
  // issue 10: RmInitAdapter 0x31/0x23 points at the mirror and hide-hypervisor quirks, as commands.
  const quirk = rmInitQuirkAdvice(evidence);
  if (smi.result?.kind === 'no-devices' || smi.result?.kind === 'driver-unreachable' || root)
    return {
      ...base,
      answer: 'no',
      detail: root ? root.title : (smi.result as { message: string }).message,
      evidence: [
        ...(smi.result && smi.result.kind !== 'gpus' ? [`${smi.evidence}: ${smi.result.message}`] : []),
        ...evidence,
      ],
      ...(quirk
        ? { fix: quirk.fix, commands: quirk.commands }
        : root
          ? findingAdvice(gpu, root)
          : gpu.driver === 'nvidia'
            ? {
                fix: 'read the kernel log: `bhyve-gpu diagnose` on `dmesg` output',
                noCommand: 'a pipe, not one command: dmesg | bhyve-gpu diagnose',
              }
            : INSTALL),
    };
  if (smi.result?.kind === 'gpus')
    return {
      ...base,
      answer: 'no',
      detail: 'nvidia-smi runs but does not list this GPU',
      evidence: [smi.evidence],
      ...INSTALL,
    };
  if (gpu.driver !== undefined && gpu.driver !== 'nvidia')
    return {
      ...base,
      answer: 'no',
      detail: gpu.driver === 'none' ? 'no driver bound' : `bound to ${gpu.driver}`,
      evidence: [smi.error ?? ''].filter(Boolean),
      ...INSTALL,
    };
  return {
    ...base,
    answer: 'unknown',
    detail: smi.error ?? 'no nvidia-smi answer',
    evidence: [],
    noCommand: 'nvidia-smi gave no answer: run bhyve-gpu guest check inside the guest, where the driver runs',
  };
}

import type { Finding } from '../diagnose/types.js';
import { rmInitQuirkAdvice } from '../patch/quirks/advice.js';
import { interruptPinName } from './cfgspace.js';
import type { GuestPciDevice } from './sysfs.js';
import type { GuestCheckItem, GuestGpu, SmiAnswer } from './types.js';

export const FIX_INTPIN =
  'on the FreeBSD host, give bhyve the NVIDIA INTPIN quirk (D51892): `bhyve-gpu patch`, `bhyve-gpu build`, `bhyve-gpu install`, then restart the VM';
export const FIX_INSTALL =
  'install the NVIDIA driver in this guest: `bhyve-gpu guest setup` prints the script; reboot after it';

const FIX_NOT_BOUND =
  'the NVIDIA driver is installed but did not bind: the "Did the NVIDIA driver initialise" answer and `bhyve-gpu diagnose` on the kernel log say why';

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
    });
  else if (gpu.interruptPin === 0)
    checks.push({
      id: 'interrupt-pin',
      device: at,
      question: 'Does the GPU report an interrupt pin?',
      answer: 'no',
      detail: 'interrupt pin 0 (none): the host bhyve lacks the NVIDIA INTPIN quirk',
      evidence: [`${configEvidence}: 0x3d = 0x00`],
      fix: FIX_INTPIN,
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
      fix: FIX_INTPIN,
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
    ...(driver !== undefined && driver !== 'nvidia'
      ? {
          fix:
            driver === 'vfio-pci'
              ? 'unbind vfio-pci (it is meant for passing the GPU on to a nested VM), then load nvidia'
              : driver === 'none' && installed
                ? FIX_NOT_BOUND
                : FIX_INSTALL,
        }
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
        },
  );
  return checks;
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
      ...(quirk ? { commands: quirk.commands } : {}),
      ...base,
      answer: 'no',
      detail: root ? root.title : (smi.result as { message: string }).message,
      evidence: [
        ...(smi.result && smi.result.kind !== 'gpus' ? [`${smi.evidence}: ${smi.result.message}`] : []),
        ...evidence,
      ],
      fix: quirk
        ? quirk.fix
        : root
          ? root.fix.join('; ')
          : gpu.driver === 'nvidia'
            ? 'read the kernel log: `bhyve-gpu diagnose` on `dmesg` output'
            : FIX_INSTALL,
    };
  if (smi.result?.kind === 'gpus')
    return {
      ...base,
      answer: 'no',
      detail: 'nvidia-smi runs but does not list this GPU',
      evidence: [smi.evidence],
      fix: FIX_INSTALL,
    };
  if (gpu.driver !== undefined && gpu.driver !== 'nvidia')
    return {
      ...base,
      answer: 'no',
      detail: gpu.driver === 'none' ? 'no driver bound' : `bound to ${gpu.driver}`,
      evidence: [smi.error ?? ''].filter(Boolean),
      fix: FIX_INSTALL,
    };
  return { ...base, answer: 'unknown', detail: smi.error ?? 'no nvidia-smi answer', evidence: [] };
}

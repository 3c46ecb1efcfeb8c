import { ToolError, UsageError } from '../errors.js';
import type { Host } from '../host/types.js';
import { VERSION } from '../version.js';
import { type Architecture, chipOf, type DriverChoice, driverChoice } from './generations.js';
import { scanPciDevices } from './sysfs.js';

export const DISTROS = ['ubuntu-22.04', 'ubuntu-24.04', 'debian-12', 'debian-13'] as const;
export type Distro = (typeof DISTROS)[number];
export type SetupFormat = 'script' | 'cloud-init';

/** The CUDA network repository directory of each distribution (developer.download.nvidia.com layout). */
const REPO: Record<Distro, string> = {
  'ubuntu-22.04': 'ubuntu2204',
  'ubuntu-24.04': 'ubuntu2404',
  'debian-12': 'debian12',
  'debian-13': 'debian13',
};

export function keyringUrl(distro: Distro): string {
  return `https://developer.download.nvidia.com/compute/cuda/repos/${REPO[distro]}/x86_64/cuda-keyring_1.1-1_all.deb`;
}

export interface SetupOptions {
  distro: Distro;
  /** PCI device id of the GPU (vendor 0x10de). */
  deviceId?: number;
  /** Override the kernel-module flavour (needed when the device id is not in the generation table). */
  modules?: 'open' | 'proprietary';
  format: SetupFormat;
}

export interface SetupPlan {
  distro: Distro;
  deviceId?: number;
  architecture?: Architecture;
  chip?: string;
  modules: 'open' | 'proprietary';
  /** Driver packages, in install order. */
  packages: string[];
  keyringUrl: string;
}

export function parseDistro(value: string): Distro {
  if ((DISTROS as readonly string[]).includes(value)) return value as Distro;
  throw new UsageError(`unsupported distribution: ${value}`, `use one of ${DISTROS.join(', ')}`);
}

/** "10de:1bb3" or "1bb3" -> 0x1bb3. */
export function parseGpuSpec(value: string): number {
  const m = /^(?:(10de):)?([0-9a-fA-F]{4})$/i.exec(value.trim());
  if (!m) throw new UsageError(`not an NVIDIA PCI id: ${value}`, 'pass it as 10de:DEVICE, e.g. 10de:1bb3');
  return Number.parseInt(m[2] as string, 16);
}

/** ID + VERSION_ID of /etc/os-release -> a supported distro, or undefined. */
export function distroFromOsRelease(text: string): Distro | undefined {
  const field = (name: string) => new RegExp(`^${name}=("?)([^"\\n]*)\\1\\s*$`, 'm').exec(text)?.[2];
  const id = field('ID');
  const version = field('VERSION_ID');
  if (id === undefined || version === undefined) return undefined;
  const candidate = `${id}-${id === 'debian' ? version.split('.')[0] : version}`;
  return (DISTROS as readonly string[]).includes(candidate) ? (candidate as Distro) : undefined;
}

export async function detectDistro(host: Host): Promise<Distro> {
  let text: string;
  try {
    text = await host.readFile('/etc/os-release');
  } catch {
    throw new UsageError('cannot read /etc/os-release', `pass --distro (${DISTROS.join(', ')})`);
  }
  const distro = distroFromOsRelease(text);
  if (distro === undefined)
    throw new UsageError(
      'this distribution is not one guest setup supports',
      `pass --distro (${DISTROS.join(', ')})`,
    );
  return distro;
}

/** The first NVIDIA display-class function's device id. */
export async function detectGpu(host: Host): Promise<number | undefined> {
  const { devices } = await scanPciDevices(host);
  return devices.find((d) => d.vendorId === 0x10de && d.classCode !== undefined && d.classCode >> 16 === 0x03)
    ?.deviceId;
}

export function planSetup(options: SetupOptions): SetupPlan {
  const chip = options.deviceId === undefined ? undefined : chipOf(options.deviceId);
  let choice: DriverChoice | undefined;
  if (chip) {
    choice = driverChoice(chip.architecture);
    if (choice.unsupported && options.modules === undefined)
      throw new ToolError('unsupported-gpu', `${chip.chip} (${chip.architecture}): ${choice.unsupported}`, {
        hint: 'bhyve-gpu guest setup only installs drivers from the NVIDIA CUDA repository',
      });
    // [NVKMOD]: the open kernel modules need Turing or newer; forcing them on an older GPU gives a driver
    // that never binds it.
    if (options.modules === 'open' && choice.modules === 'proprietary')
      throw new UsageError(
        `${chip.chip} (${chip.architecture}) cannot use the open kernel modules: they need a Turing or newer GPU`,
        'leave --modules out (or pass --modules proprietary) for this GPU',
      );
  }
  const modules = options.modules ?? choice?.modules;
  if (modules === undefined)
    throw new UsageError(
      options.deviceId === undefined
        ? 'no NVIDIA GPU given or found'
        : `device id 0x${options.deviceId.toString(16)} is not in the generation table`,
      'pass --gpu 10de:DEVICE, or --modules proprietary (Maxwell, Pascal, Volta) / open (Turing and newer)',
    );
  const branch = choice?.lastBranch ?? 580;
  const debian = options.distro.startsWith('debian');
  // Proprietary modules: pin the last branch that supports the GPU; on Debian the repository offers both
  // module flavours, so name the proprietary DKMS package explicitly.
  const packages =
    modules === 'open'
      ? ['nvidia-open']
      : debian
        ? ['nvidia-kernel-dkms', `cuda-drivers-${branch}`]
        : [`cuda-drivers-${branch}`];
  const plan: SetupPlan = {
    distro: options.distro,
    modules,
    packages,
    keyringUrl: keyringUrl(options.distro),
  };
  if (options.deviceId !== undefined) plan.deviceId = options.deviceId;
  if (chip) {
    plan.architecture = chip.architecture;
    plan.chip = chip.chip;
  }
  return plan;
}

function summary(plan: SetupPlan): string {
  const gpu =
    plan.deviceId === undefined
      ? 'GPU not given'
      : `GPU 10de:${plan.deviceId.toString(16).padStart(4, '0')}${plan.architecture ? ` (${plan.architecture}, ${plan.chip})` : ''}`;
  return `${plan.distro}; ${gpu}; ${plan.modules} kernel modules: ${plan.packages.join(' ')}`;
}

export const NOUVEAU_BLACKLIST = 'blacklist nouveau\noptions nouveau modeset=0\n';
export const BLACKLIST_PATH = '/etc/modprobe.d/blacklist-nouveau.conf';

export function renderScript(plan: SetupPlan): string {
  return `#!/usr/bin/env bash
# NVIDIA driver setup for a Linux guest with a passed-through GPU.
# Generated by bhyve-gpu ${VERSION} guest setup: ${summary(plan)}
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "run this script as root (sudo bash $0)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# Build tools and headers for the running kernel (DKMS builds the NVIDIA modules against them).
apt-get update
apt-get install -y build-essential dkms wget ca-certificates "linux-headers-$(uname -r)"

# NVIDIA CUDA network repository: the keyring package adds the signed apt source.
keyring="$(mktemp --suffix=.deb)"
wget -O "$keyring" '${plan.keyringUrl}'
dpkg -i "$keyring"
rm -f "$keyring"
apt-get update

# Keep nouveau away from the GPU.
cat > ${BLACKLIST_PATH} <<'EOF'
${NOUVEAU_BLACKLIST}EOF

# The driver (${plan.modules} kernel modules).
apt-get install -y ${plan.packages.join(' ')}
update-initramfs -u

echo "NVIDIA driver installed. Reboot now, then check with: nvidia-smi (or bhyve-gpu guest check)"
`;
}

const yaml = (s: string) => JSON.stringify(s);

export function renderCloudInit(plan: SetupPlan): string {
  const runcmd = [
    ['bash', '-c', 'apt-get install -y "linux-headers-$(uname -r)"'],
    ['wget', '-O', '/tmp/cuda-keyring_1.1-1_all.deb', plan.keyringUrl],
    ['dpkg', '-i', '/tmp/cuda-keyring_1.1-1_all.deb'],
    ['rm', '-f', '/tmp/cuda-keyring_1.1-1_all.deb'],
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', ...plan.packages],
    ['update-initramfs', '-u'],
  ];
  const blacklist = NOUVEAU_BLACKLIST.trimEnd()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  return `#cloud-config
# NVIDIA driver setup for a Linux guest with a passed-through GPU.
# Generated by bhyve-gpu ${VERSION} guest setup: ${summary(plan)}
package_update: true
packages:
  - build-essential
  - dkms
  - wget
  - ca-certificates
write_files:
  - path: ${BLACKLIST_PATH}
    permissions: "0644"
    content: |
${blacklist}
runcmd:
${runcmd.map((argv) => `  - [${argv.map(yaml).join(', ')}]`).join('\n')}
# The driver replaces nouveau only after a reboot.
power_state:
  mode: reboot
  message: "bhyve-gpu: rebooting to load the NVIDIA driver"
  condition: true
`;
}

export function renderSetup(plan: SetupPlan, format: SetupFormat): string {
  return format === 'cloud-init' ? renderCloudInit(plan) : renderScript(plan);
}

/** Write the script to a temporary file on the host and run it with bash (never through a shell string). */
export async function runSetupScript(
  host: Host,
  script: string,
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void,
): Promise<number> {
  const path = `/tmp/bhyve-gpu-guest-setup-${process.pid}-${Date.now()}.sh`;
  await host.writeFile(path, script, { mode: 0o700 });
  try {
    const result = await host.run(['bash', path], onOutput ? { onOutput } : {});
    return result.exitCode;
  } finally {
    await host.removeFile(path).catch(() => undefined);
  }
}

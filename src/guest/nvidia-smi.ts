import { XMLParser } from 'fast-xml-parser';
import { ParseError } from '../errors.js';

/** One GPU of `nvidia-smi -q -x` (DTD nvsmi_device_v12) or of the plain `nvidia-smi` table. */
export interface SmiGpu {
  /** PCI bus id as nvidia-smi prints it: "00000000:00:06.0". */
  busId?: string;
  productName?: string;
  architecture?: string;
  /** Framebuffer memory, MiB (fb_memory_usage/total). */
  memoryTotalMiB?: number;
  /** BAR1 aperture, MiB (bar1_memory_usage/total; XML only). */
  bar1TotalMiB?: number;
  vbiosVersion?: string;
  /** "Enabled"/"Disabled" (XML) or "On"/"Off" (table). */
  persistence?: string;
}

/**
 * What nvidia-smi answered. `gpus` holds the GPU list; `no-devices` and `driver-unreachable` are the two
 * failure answers a VM with a broken passthrough gives ("No devices were found", "NVIDIA-SMI has failed
 * because it couldn't communicate with the NVIDIA driver...").
 */
export type SmiResult =
  | { kind: 'gpus'; driverVersion?: string; cudaVersion?: string; gpus: SmiGpu[] }
  | { kind: 'no-devices'; message: string }
  | { kind: 'driver-unreachable'; message: string }
  | { kind: 'unrecognised'; message: string };

const NO_DEVICES = /^No devices were found\s*$/m;
const UNREACHABLE = /^NVIDIA-SMI has failed because (.*)$/m;

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

/** The two failure answers (same text with or without -q -x); undefined when the text is neither. */
function failureAnswer(text: string): SmiResult | undefined {
  if (NO_DEVICES.test(text)) return { kind: 'no-devices', message: 'No devices were found' };
  const m = UNREACHABLE.exec(text);
  if (m) return { kind: 'driver-unreachable', message: m[0].trim() };
  return undefined;
}

/** "7680 MiB" -> 7680; "N/A" -> undefined. */
export function parseMiB(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(MiB|GiB|KiB)$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'GiB' ? n * 1024 : m[2] === 'KiB' ? n / 1024 : n;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string')
    return value.trim() === '' || value.trim() === 'N/A' ? undefined : value.trim();
  if (typeof value === 'number') return String(value);
  return undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Parse `nvidia-smi -q -x` output (or its failure text). Garbage gives ParseError, never a crash. */
export function parseNvidiaSmiXml(output: string, source = 'nvidia-smi -q -x'): SmiResult {
  const failure = failureAnswer(output);
  if (!output.includes('<nvidia_smi_log')) {
    if (failure) return failure;
    return { kind: 'unrecognised', message: firstLine(output) };
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    isArray: (name) => name === 'gpu',
  });
  let doc: Record<string, unknown>;
  try {
    doc = record(parser.parse(output.slice(output.indexOf('<'))));
  } catch (e) {
    throw new ParseError(`not valid nvidia-smi XML: ${(e as Error).message}`, { file: source });
  }
  const log = record(doc.nvidia_smi_log);
  const gpuNodes = Array.isArray(log.gpu) ? log.gpu : [];
  const gpus = gpuNodes.map((node: unknown): SmiGpu => {
    const g = record(node);
    const pci = record(g.pci);
    const gpu: SmiGpu = {};
    const busId = text(pci.pci_bus_id) ?? text(g['@id']);
    if (busId) gpu.busId = busId;
    const name = text(g.product_name);
    if (name) gpu.productName = name;
    const arch = text(g.product_architecture);
    if (arch) gpu.architecture = arch;
    const fb = parseMiB(record(g.fb_memory_usage).total);
    if (fb !== undefined) gpu.memoryTotalMiB = fb;
    const bar1 = parseMiB(record(g.bar1_memory_usage).total);
    if (bar1 !== undefined) gpu.bar1TotalMiB = bar1;
    const vbios = text(g.vbios_version);
    if (vbios) gpu.vbiosVersion = vbios;
    const persistence = text(g.persistence_mode);
    if (persistence) gpu.persistence = persistence;
    return gpu;
  });
  const result: SmiResult = { kind: 'gpus', gpus };
  const driver = text(log.driver_version);
  if (driver) result.driverVersion = driver;
  const cuda = text(log.cuda_version);
  if (cuda && cuda !== 'Not Found') result.cudaVersion = cuda;
  return result;
}

// "| NVIDIA-SMI 580.105.08   Driver Version: 580.105.08   CUDA Version: 13.0 |" and the 610+ wording
// "KMD Version: ... CUDA UMD Version: ...".
const HEADER_DRIVER = /(?:Driver|KMD) Version:\s*(\S+)/;
const HEADER_CUDA = /CUDA (?:UMD )?Version:\s*([^\s|]+)/;
// "|   0  Tesla M40 24GB      On   | 00000000:02:00.0 Off |   ..." (first row of a GPU block)
const GPU_ROW =
  /^\|\s+(\d+)\s+(.+?)\s+(On|Off)\s*\|\s*([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])\s/;
// "| N/A   37C    P0   113W / 250W |    814MiB / 22945MiB |" (second row: memory used / total)
const MEMORY_ROW = /\|\s*(\d+)MiB\s*\/\s*(\d+)MiB\s*\|/;

/** Parse the plain `nvidia-smi` table (old 79-column and new 89-column layouts) or its failure text. */
export function parseNvidiaSmiTable(output: string): SmiResult {
  const failure = failureAnswer(output);
  if (failure) return failure;
  const header = output.split('\n').find((l) => /NVIDIA-SMI \S+/.test(l));
  if (header === undefined) return { kind: 'unrecognised', message: firstLine(output) };
  const result: SmiResult = { kind: 'gpus', gpus: [] };
  const driver = HEADER_DRIVER.exec(header)?.[1];
  if (driver) result.driverVersion = driver;
  const cuda = HEADER_CUDA.exec(header)?.[1];
  if (cuda && cuda !== 'N/A') result.cudaVersion = cuda;
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = GPU_ROW.exec(lines[i] ?? '');
    if (!m) continue;
    const gpu: SmiGpu = { productName: (m[2] ?? '').trim(), persistence: m[3] ?? '', busId: m[4] ?? '' };
    const memory = MEMORY_ROW.exec(lines[i + 1] ?? '');
    if (memory) gpu.memoryTotalMiB = Number(memory[2]);
    result.gpus.push(gpu);
  }
  return result;
}

/** "00000000:00:06.0" and "0000:00:06.0" name the same function; compare in the sysfs form. */
export function sysfsAddress(busId: string): string {
  const m = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})\.([0-7])$/.exec(busId.trim());
  if (!m) return busId.toLowerCase();
  const domain = (m[1] ?? '0').slice(-4).padStart(4, '0');
  return `${domain}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}

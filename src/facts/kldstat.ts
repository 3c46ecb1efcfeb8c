/** `kldstat` and `kldstat -v` output -> loaded kernel files (and the modules each contains). */
import type { KldFile, Parsed, ParseWarning } from './types.js';

/** ` 7    1 0xffffffff824e6000 3571f0   vmm.ko (/boot/kernel/vmm.ko)` */
const FILE_ROW = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+\((.*)\))?$/;
/** `                10 pci/ppt` under "Contains modules:" / "Id Name". */
const MODULE_ROW = /^\s+(\d+)\s+(\S+)$/;

export function parseKldstat(text: string): KldFile[] {
  return parseKldstatDetailed(text).value;
}

export function parseKldstatDetailed(text: string): Parsed<KldFile[]> {
  const files: KldFile[] = [];
  const warnings: ParseWarning[] = [];
  let current: KldFile | undefined;
  let inModules = false;
  let sawHeader = false;
  const lines = text.split(/\r?\n/);
  lines.forEach((untrimmed, index) => {
    const raw = untrimmed.trimEnd();
    const line = index + 1;
    const t = raw.trim();
    if (/^Id\s+Refs\s+Address\s+Size\s+Name$/.test(t)) {
      current = undefined;
      inModules = false;
      sawHeader = true;
      return;
    }
    if (/^Contains modules:$/.test(t)) {
      inModules = current !== undefined;
      return;
    }
    if (inModules && /^Id\s+Name$/.test(t)) return;
    if (inModules && current) {
      const m = MODULE_ROW.exec(raw);
      if (m) {
        current.modules.push({ id: Number(m[1]), name: m[2]! });
        return;
      }
      inModules = false;
    }
    const row = FILE_ROW.exec(raw);
    // Without the header above it, only a row naming a kernel file counts (the rest is surrounding noise).
    if (!row || (!sawHeader && !/^(?:kernel|\S+\.ko)$/.test(row[5]!))) return;
    const [address, size] = [row[3]!, row[4]!];
    const addressOk = /^0x[0-9a-fA-F]{1,16}$/.test(address);
    const sizeOk = /^[0-9a-fA-F]{1,13}$/.test(size);
    if (!addressOk || !sizeOk)
      warnings.push({ line, message: `kldstat row with unreadable address or size: ${t}` });
    current = {
      id: Number(row[1]),
      refs: Number(row[2]),
      address: addressOk ? address.toLowerCase() : undefined,
      size: sizeOk ? Number.parseInt(size, 16) : undefined,
      name: row[5]!,
      modules: [],
      line,
    };
    if (row[6] !== undefined) current.path = row[6];
    files.push(current);
  });
  return { value: files, warnings };
}

/**
 * Whether `name` ("vmm", "vmm.ko", "pci/ppt", "nvidia") is loaded: a file name with or without ".ko",
 * or a module listed by `kldstat -v`.
 */
export function isKldLoaded(files: KldFile[], name: string): boolean {
  const bare = name.replace(/\.ko$/, '');
  return files.some(
    (f) => f.name === name || f.name === `${bare}.ko` || f.modules.some((m) => m.name === bare),
  );
}

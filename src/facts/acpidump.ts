/**
 * `acpidump -t` output -> the ACPI tables present. Each table dump opens with a header line such as
 * `  DMAR: Length=168, Revision=1, Checksum=169,` (then OEMID/Creator lines); FACS prints `  FACS:\tLength=64, ...`.
 * Works on a grep of those header lines too (`acpidump -t | grep DMAR`).
 */
import type { AcpiTable } from './types.js';

const HEADER = /^\s*([A-Z0-9_!]{4}):\s*Length=(\d+)(?:,\s*Revision=(\d+))?/;

export function parseAcpidumpTables(text: string): AcpiTable[] {
  const tables: AcpiTable[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const m = HEADER.exec(raw);
    if (!m) return;
    const table: AcpiTable = { signature: m[1]!, line: index + 1 };
    const length = Number(m[2]);
    if (Number.isSafeInteger(length)) table.length = length;
    if (m[3] !== undefined) table.revision = Number(m[3]);
    tables.push(table);
  });
  return tables;
}

/** The IOMMU description table the firmware publishes: DMAR (Intel VT-d) or IVRS (AMD-Vi); undefined when neither. */
export function hasIommuTable(tables: AcpiTable[]): 'DMAR' | 'IVRS' | undefined {
  if (tables.some((t) => t.signature === 'DMAR')) return 'DMAR';
  if (tables.some((t) => t.signature === 'IVRS')) return 'IVRS';
  return undefined;
}

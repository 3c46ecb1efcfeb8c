import assert from 'node:assert/strict';
import { it } from 'node:test';
import { hasIommuTable, parseAcpidumpTables } from '../../src/facts/acpidump.js';
import { corpusFile, fixture } from '../helpers/corpus.js';

it('acpidump -t | grep DMAR: one DMAR header -> Intel VT-d', () => {
  const tables = parseAcpidumpTables(corpusFile('host-dmesg', 'cloudatlas-acpidump-dmar.txt').body);
  assert.deepEqual(tables, [{ signature: 'DMAR', length: 168, revision: 1, line: 1 }]);
  assert.equal(hasIommuTable(tables), 'DMAR');
});

it('full acpidump -t blocks: signatures in order, RSD PTR not a table', () => {
  const tables = parseAcpidumpTables(fixture('facts', 'acpidump-t-intel-dmar-excerpt.txt'));
  assert.deepEqual(
    tables.map((t) => t.signature),
    ['XSDT', 'FACP', 'APIC', 'MCFG', 'DMAR'],
  );
  assert.equal(tables[1]!.revision, 6);
  assert.equal(hasIommuTable(tables), 'DMAR');
});

it('IVRS on AMD; nothing on a firmware without an IOMMU table', () => {
  const amd = parseAcpidumpTables(
    '  IVRS: Length=208, Revision=2, Checksum=65,\n\tOEMID=AMD, OEM Table ID=AmdTable,\n',
  );
  assert.equal(hasIommuTable(amd), 'IVRS');
  assert.equal(
    hasIommuTable(parseAcpidumpTables('  APIC: Length=188, Revision=4, Checksum=137,\n')),
    undefined,
  );
  assert.deepEqual(parseAcpidumpTables('acpidump: Can not map RSDP\n'), []);
});

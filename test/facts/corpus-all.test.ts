import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as facts from '../../src/facts/index.js';
import { corpus } from '../helpers/corpus.js';

it('every parser accepts every pciconf, versions, host-dmesg and loader-conf corpus file without throwing', () => {
  let files = 0;
  for (const category of ['pciconf', 'versions', 'host-dmesg', 'loader-conf']) {
    for (const file of corpus(category)) {
      const text = file.body;
      assert.ok(Array.isArray(facts.parsePciconfDetailed(text).value), file.name);
      facts.parsePciCapabilityLines(text);
      facts.parseFreebsdVersion(text);
      facts.parseUname(text);
      assert.ok(facts.parseSysctl(text) instanceof Map);
      facts.parseKldstatDetailed(text);
      assert.ok(Array.isArray(facts.parseDmesgBoot(text).cpuFeatures));
      facts.hasIommuTable(facts.parseAcpidumpTables(text));
      facts.parseShVars(text, file.name);
      facts.parseRouteGet(text);
      facts.parseIfconfig(text);
      files++;
    }
  }
  assert.ok(files >= 55, `only ${files} corpus files`);
});

it('every loader-conf corpus file with a pptdevs= line yields a pptdevs value of B/S/F triples', () => {
  for (const file of corpus('loader-conf')) {
    const { assignments } = facts.parseShVars(file.body);
    const value = facts.effectiveValue(assignments, 'pptdevs');
    if (!/^\s*pptdevs=/m.test(file.body)) continue;
    assert.ok(value, file.name);
    assert.match(value, /^\d+\/\d+\/\d+( \d+\/\d+\/\d+)*$/, file.name);
  }
});

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { effectiveValue, parseShVars } from '../../src/conf/views.js';
import { corpusFile } from '../helpers/corpus.js';

it('reads pptdevs, pptdevs2, pptdevs3', () => {
  const { assignments, warnings } = parseShVars(
    corpusFile('loader-conf', 'hoster-docs-pptdevs-pptdevs2-pptdevs3.txt').body,
  );
  assert.deepEqual(warnings, []);
  assert.equal(effectiveValue(assignments, 'pptdevs'), '2/0/0 1/2/6 4/9/0');
  assert.equal(effectiveValue(assignments, 'pptdevs2'), '123/5/0 123/8/0');
  assert.equal(effectiveValue(assignments, 'pptdevs3'), '200/2/0 200/3/0');
});

it('quoted and unquoted sysctl-style keys, comments skipped', () => {
  const quoted = parseShVars(corpusFile('loader-conf', 'signal-amd-host-pptdevs-amdvi-quoted.txt').body);
  assert.equal(effectiveValue(quoted.assignments, 'hw.vmm.amdvi.enable'), '1');
  assert.equal(effectiveValue(quoted.assignments, 'vmm_load'), 'YES');
  const bare = parseShVars(
    corpusFile('loader-conf', 'kgpod530-amd-loader-conf-amdvi-enable.txt').body,
    '/boot/loader.conf',
  );
  const amdvi = bare.assignments.find((a) => a.key === 'hw.vmm.amdvi.enable');
  assert.deepEqual(amdvi, { key: 'hw.vmm.amdvi.enable', value: '1', line: 2 });
  // The prompt line above the file contents is not an assignment: a warning naming the file.
  assert.equal(bare.warnings.length, 1);
  assert.match(bare.warnings[0]!.message, /^\/boot\/loader\.conf: /);
});

it('indented lines, single quotes, trailing comments, escapes, last wins, unterminated quote', () => {
  const text = [
    '  pptdevs="1/0/0"  # the GPU',
    "vmm_load='YES'",
    'hw.vmm.amdvi.enable=1 # AMD',
    'comment="say \\"hi\\" # not a comment"',
    'pptdevs="2/0/0 2/0/1"',
    'broken="no end',
    '# pptdevs="9/9/9"',
    '',
  ].join('\n');
  const { assignments, warnings } = parseShVars(text);
  assert.equal(effectiveValue(assignments, 'pptdevs'), '2/0/0 2/0/1');
  assert.equal(assignments[0]!.value, '1/0/0');
  assert.equal(effectiveValue(assignments, 'vmm_load'), 'YES');
  assert.equal(effectiveValue(assignments, 'hw.vmm.amdvi.enable'), '1');
  assert.equal(effectiveValue(assignments, 'comment'), 'say "hi" # not a comment');
  assert.equal(effectiveValue(assignments, 'broken'), undefined);
  assert.deepEqual(
    warnings.map((w) => w.line),
    [6],
  );
});

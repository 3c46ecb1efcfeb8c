import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCSyntax, cProblems, introducedProblems, loadCParser } from '../../src/patch/csyntax.js';

describe('C syntax check', () => {
  it('finds a missing comma and a missing parenthesis with their lines', async () => {
    const parser = await loadCParser();
    const text = 'static int\nf(void)\n{\n\tg(1, 2 3);\n\treturn (h(4);\n}\n';
    const problems = cProblems(parser, text);
    assert.ok(problems.length >= 2, JSON.stringify(problems));
    assert.ok(problems.some((p) => p.line === 4));
    assert.ok(problems.some((p) => p.line === 5));
    assert.deepEqual(cProblems(parser, 'static int\nf(void)\n{\n\treturn (0);\n}\n'), []);
  });

  it('compares by text, so shifted lines are not new problems', () => {
    const before = [{ line: 10, text: 'MISSING )' }];
    const after = [
      { line: 13, text: 'MISSING )' },
      { line: 20, text: 'ERROR near `x`' },
    ];
    assert.deepEqual(introducedProblems(before, after), [{ line: 20, text: 'ERROR near `x`' }]);
  });

  it('a change that breaks a file fails; an old problem is a warning', async () => {
    const good = 'int\nf(void)\n{\n\treturn (0);\n}\n';
    const broken = 'int\nf(void)\n{\n\treturn (0;\n}\n';
    const r1 = await checkCSyntax([{ path: 'x.c', before: good, after: broken }]);
    assert.equal(r1.ok, false);
    assert.equal(r1.files[0]?.introduced.length, 1);
    const r2 = await checkCSyntax([{ path: 'x.c', before: broken, after: `/* note */\n${broken}` }]);
    assert.equal(r2.ok, true);
    assert.match(r2.warnings[0] ?? '', /^x\.c:4: parse problem already present/);
    const r3 = await checkCSyntax([{ path: 'Makefile', before: '', after: 'SRCS=\n' }]);
    assert.deepEqual(r3.files, []);
  });
});

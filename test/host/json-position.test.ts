import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonErrorOffset, lineColumn } from '../../src/host/json-position.js';
import { example } from '../helpers/snap.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('jsonErrorOffset', () => {
  it('finds the first bad character with its line', () => {
    const text = '{\n "a": [1,,2]\n}';
    const at = jsonErrorOffset(text);
    assert.equal(at, text.indexOf(',,') + 1);
    assert.deepEqual(lineColumn(text, at ?? 0), { line: 2, column: 10 });
    assert.equal(jsonErrorOffset('{"a": 1} x'), 9);
    assert.equal(jsonErrorOffset('{"a": "unterminated'), 19);
  });

  it('agrees with JSON.parse on 3,000 mutations of a real snapshot', () => {
    const base = JSON.stringify(example('tesla-p4-15.0'), null, 1).slice(0, 4000);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 0; n < 3000; n++) {
      const chars = [...base];
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
        const i = Math.floor(random() * chars.length);
        const pick = ['', ',', '"', '}', ']', '{', '[', '1', 'x', ' ', '\\', ':'];
        chars[i] = pick[Math.floor(random() * pick.length)] as string;
      }
      const text = chars.join('');
      assert.equal(jsonErrorOffset(text) === undefined, parses(text), text.slice(0, 80));
    }
  });
});

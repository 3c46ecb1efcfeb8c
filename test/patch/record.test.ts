import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ParseError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local.js';
import { PATCH_RECORD_PATH, readPatchRecord, runPatch } from '../../src/patch/run.js';
import { copyTree, dropTree } from './trees.js';

const host = new LocalHost();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) dropTree(d);
});

describe('readPatchRecord', () => {
  it('reads back what runPatch wrote; none before', async () => {
    const dir = copyTree('14.3-makefile-srcs');
    dirs.push(dir);
    assert.equal(await readPatchRecord(host, dir), undefined);
    const run = await runPatch(host, dir);
    assert.equal(run.written, true);
    assert.deepEqual(await readPatchRecord(host, dir), run.record);
  });

  it('a wrong shape is a ParseError naming the file and the field', async () => {
    const dir = copyTree('14.3-makefile-srcs');
    dirs.push(dir);
    await runPatch(host, dir);
    const file = `${dir}/${PATCH_RECORD_PATH}`;
    for (const [text, field] of [
      ['{"patch":"intpin","patchSha256":"x","files":1}', /field "files": expected an array/],
      ['{"patch":"intpin","patchSha256":"x","files":[{"path":"a"}]}', /field "files\[0\]\.sha256After"/],
      ['{"patch":1,"patchSha256":"x","files":[]}', /field "patch": expected a string/],
      ['{"patch":', /not valid JSON/],
    ] as const) {
      writeFileSync(file, text);
      await assert.rejects(readPatchRecord(host, dir), (e: unknown) => {
        assert.ok(e instanceof ParseError);
        assert.equal(e.file, file);
        assert.match(e.message, field);
        assert.match(e.hint ?? '', /bhyve-gpu patch/);
        return true;
      });
    }
  });
});

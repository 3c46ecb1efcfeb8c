import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ParseError, ToolError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local.js';
import {
  parseBuildRecord,
  parsePatchRecordFiles,
  readBuildRecord,
  requireSourceDir,
} from '../../src/make/plan.js';

const host = new LocalHost();
const dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-records-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const good = {
  src: '/usr/local/bhyve-gpu/src',
  commit: '0123456789abcdef0123456789abcdef01234567',
  steps: [{ name: 'bhyve', dir: 'usr.sbin/bhyve', argv: ['make', '-j4'], installs: ['/usr/sbin/bhyve'] }],
  installs: ['/usr/sbin/bhyve'],
  logFile: '/var/db/bhyve-gpu/build.log',
  finishedAt: '2026-11-26T18:00:00.000Z',
};

function parseError(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ParseError, String(e));
    assert.equal(e.file, '/x/build-record.json');
    assert.match(e.message, field);
    assert.match(e.hint ?? '', /bhyve-gpu build/);
    return true;
  });
}

describe('build record validation', () => {
  const file = '/x/build-record.json';
  it('accepts what writeBuildRecord writes', () => {
    assert.deepEqual(parseBuildRecord(JSON.stringify(good), file), good);
  });

  it('names the file and the wrong field', () => {
    parseError(() => parseBuildRecord('{"src":1}', file), /field "src": expected a string/);
    parseError(() => parseBuildRecord(JSON.stringify({ ...good, steps: {} }), file), /field "steps"/);
    parseError(
      () => parseBuildRecord(JSON.stringify({ ...good, steps: [{ ...good.steps[0], argv: 'make' }] }), file),
      /field "steps\[0\]\.argv": expected an array of strings/,
    );
    parseError(() => parseBuildRecord(JSON.stringify({ ...good, installs: [1] }), file), /field "installs"/);
    parseError(() => parseBuildRecord('{"src": "/usr/src", ', file), /not valid JSON/);
    parseError(() => parseBuildRecord('[]', file), /expected a JSON object/);
  });

  it('readBuildRecord: undefined without a record, ParseError on a bad one', async () => {
    const src = join(dir, 'tree');
    mkdirSync(join(src, '.bhyve-gpu'), { recursive: true });
    assert.equal(await readBuildRecord(host, src), undefined);
    writeFileSync(join(src, '.bhyve-gpu/build-record.json'), '{"src":1}');
    await assert.rejects(readBuildRecord(host, src), /build-record\.json: field "src"/);
    writeFileSync(join(src, '.bhyve-gpu/build-record.json'), JSON.stringify(good));
    assert.deepEqual(await readBuildRecord(host, src), good);
  });
});

describe('patch record validation', () => {
  it('keeps files[].path and rejects other shapes', () => {
    const file = '/x/patch-record.json';
    assert.deepEqual(
      parsePatchRecordFiles(
        JSON.stringify({
          patch: 'intpin',
          files: [{ path: 'usr.sbin/bhyve/pci_passthru.c', sha256After: 'a' }],
        }),
        file,
      ),
      { files: [{ path: 'usr.sbin/bhyve/pci_passthru.c' }] },
    );
    assert.throws(() => parsePatchRecordFiles('{"files":1}', file), /patch-record\.json: field "files"/);
    assert.throws(() => parsePatchRecordFiles('{"files":[{}]}', file), /field "files\[0\]\.path"/);
  });
});

describe('requireSourceDir', () => {
  it('a directory passes; a missing path and a file are exit-2 ToolErrors', async () => {
    await requireSourceDir(host, dir);
    const file = join(dir, 'file');
    writeFileSync(file, '');
    for (const [path, message] of [
      [join(dir, 'absent'), /absent: no such directory/],
      [file, /file: not a directory/],
    ] as const)
      await assert.rejects(requireSourceDir(host, path), (e: unknown) => {
        assert.ok(e instanceof ToolError);
        assert.equal(e.exitCode, 2);
        assert.match(e.message, message);
        return true;
      });
  });
});

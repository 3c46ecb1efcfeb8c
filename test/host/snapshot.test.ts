import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileMissingError, NotCapturedError, ParseError } from '../../src/errors.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import { parseSnapshot, validateSnapshot } from '../../src/host/snapshot-format.js';
import { redactConfig } from '../../src/inventory/record.js';
import { cli, example, tempDir } from '../helpers/snap.js';

describe('snapshot format', () => {
  it('names the bad field', () => {
    const bad = (mut: (s: Record<string, unknown>) => void, field: RegExp) => {
      const s = example('tesla-p4-15.0') as unknown as Record<string, unknown>;
      mut(s);
      assert.throws(
        () => validateSnapshot(s, 'x.json'),
        (e: unknown) => e instanceof ParseError && field.test(e.message),
      );
    };
    bad((s) => {
      s.format = 'other';
    }, /field "format"/);
    bad((s) => {
      (s.commands as { exitCode: unknown }[])[2]!.exitCode = '0';
    }, /field "commands\[2\]\.exitCode"/);
    bad((s) => {
      (s.files as Record<string, unknown>)['etc/rc.conf'] = 'x';
    }, /absolute path/);
    bad((s) => {
      s.capturedAt = 'yesterday';
    }, /field "capturedAt"/);
    assert.throws(
      () => parseSnapshot('{\n"format": \n}', 'y.json'),
      (e: unknown) => e instanceof ParseError && /y\.json/.test(e.message),
    );
  });

  it('replays by exact argv; missing vs not captured', async () => {
    const h = new SnapshotHost(example('tesla-p4-15.0'));
    assert.equal((await h.run(['pciconf', '-lbcv'])).exitCode, 0);
    await assert.rejects(h.run(['pciconf', '-lv']), NotCapturedError);
    await assert.rejects(h.readFile('/boot/loader.conf.local'), FileMissingError);
    await assert.rejects(h.readFile('/etc/hosts'), NotCapturedError);
    assert.equal(await h.exists('/boot/loader.conf.local'), false);
    assert.deepEqual(await h.listDir('/zdata/vms'), ['xdev']);
  });
});

describe('recording', () => {
  it('redacts secret-looking values and keeps the line shape', () => {
    const text = 'graphics="yes"\ngraphics_password="hunter2"\napi_key=abc123\nmy_secret=\'s\'\nkey="keep"\n';
    const r = redactConfig(text);
    assert.equal(r.text, 'graphics="yes"\ngraphics_password=""\napi_key=\nmy_secret=\'\'\nkey="keep"\n');
    assert.deepEqual(r.redacted, ['graphics_password', 'api_key', 'my_secret']);
  });

  it('bhyve-gpu snapshot on this (non-FreeBSD) machine writes a valid snapshot that scan replays as unknown', () => {
    const out = join(tempDir(), 'here.json');
    const r = cli(['snapshot', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: this machine runs Linux, not FreeBSD/);
    const snap = parseSnapshot(readFileSync(out, 'utf8'), out);
    const pci = snap.commands.find((c) => c.argv.join(' ') === 'pciconf -lbcv');
    assert.equal(pci?.exitCode, 127);
    // Issue 9 case 7: scan on a host it cannot scan (here: Linux) exits non-zero and says why.
    const s = cli(['scan', '--host', out, '--json']);
    assert.equal(s.status, 1, s.stderr);
    assert.equal(JSON.parse(s.stdout).error.code, 'not-freebsd');
    assert.match(s.stderr, /not a FreeBSD host \(uname: Linux/);
    const d = cli(['doctor', '--host', out, '--json']);
    assert.equal(d.status, 1);
    const os = JSON.parse(d.stdout).checks.find((c: { id: string }) => c.id === 'host.os');
    assert.equal(os.status, 'FAIL');
    assert.match(os.evidence[0], /Linux/);
  });
});

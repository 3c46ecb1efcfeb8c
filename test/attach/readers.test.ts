import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parseArgv } from '../../src/cli/main.js';
import { cli, example, tempDir } from '../helpers/snap.js';

const RTX = 'examples/hosts/rtx2080ti-14.3.json';
const P4 = 'examples/hosts/tesla-p4-15.0.json';
const XDEV = '/zdata/vms/xdev/xdev.conf';

function put(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}
const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

interface Check {
  id: string;
  status: string;
  evidence: string[];
  commands?: string[][];
  noCommand?: string;
}
function doctorJson(args: string[]): Check[] {
  const r = cli(['doctor', '--json', ...args]);
  const doc = JSON.parse(r.stdout) as { checks?: Check[]; results?: Check[] };
  return (doc.checks ?? doc.results ?? []) as Check[];
}
async function assertParses(commands: string[][] | undefined): Promise<void> {
  assert.ok(commands && commands.length > 0, 'commands');
  for (const c of commands) {
    const v = await parseArgv(c);
    assert.equal(v.ok, true, `${c.join(' ')}: ${v.message}`);
  }
}

describe('stale pptdevs entries that are no B/S/F, or out of range (issue 9 item 2)', () => {
  // A loader.conf written by hand over the years: one GPU, a typo, a half-edited id and an impossible bus.
  const LOADER = '# passthrough\r\nvmm_load="YES"\r\npptdevs="1/0/0 garbage 7/x/0 999/0/0"\r\n';

  it('doctor fails them with a runnable way out; attach refuses with the exact command; --remove-stale removes them', async () => {
    const root = tempDir();
    put(root, '/boot/loader.conf', LOADER);
    const base = ['--host', P4, '--root', root];
    const check = doctorJson([...base]).find((c) => c.id === 'host.pptdevs');
    assert.equal(check?.status, 'FAIL');
    for (const bad of ['"garbage" is not bus/slot/function', '"7/x/0"', '"999/0/0" is out of range'])
      assert.ok(
        check?.evidence.some((e) => e.includes(bad)),
        bad,
      );
    assert.deepEqual(check?.commands, [['bhyve-gpu', 'detach', '--stale', '--yes']]);
    await assertParses(check?.commands);

    const refused = cli(['attach', '1/0/0', '--vm', 'xdev', ...base]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /bhyve-gpu attach 1\/0\/0 --vm xdev --remove-stale --yes/);
    await assertParses([['bhyve-gpu', 'attach', '1/0/0', '--vm', 'xdev', '--remove-stale', '--yes']]);

    const a = cli(['attach', '1/0/0', '--vm', 'xdev', '--remove-stale', '--yes', ...base]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(read(root, '/boot/loader.conf'), '# passthrough\r\nvmm_load="YES"\r\npptdevs="1/0/0"\r\n');
    // rollback gives back every byte (CRLF included) of both files
    assert.equal(cli(['rollback', '--yes', ...base]).status, 0);
    assert.equal(read(root, '/boot/loader.conf'), LOADER);
    assert.equal(read(root, XDEV), example('tesla-p4-15.0').files[XDEV]);
  });

  it('detach --stale removes them and nothing else, without a GPU; rollback restores the bytes', () => {
    const root = tempDir();
    put(root, '/boot/loader.conf', LOADER);
    const base = ['--host', P4, '--root', root];
    const check = cli(['detach', '--stale', '--check', ...base]);
    assert.equal(check.status, 3, check.stderr);
    const d = cli(['detach', '--stale', '--yes', ...base]);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(read(root, '/boot/loader.conf'), '# passthrough\r\nvmm_load="YES"\r\npptdevs="1/0/0"\r\n');
    const again = cli(['detach', '--stale', '--yes', ...base]);
    assert.match(again.stdout, /already in the desired state/);
    assert.equal(cli(['rollback', '--yes', ...base]).status, 0);
    assert.equal(read(root, '/boot/loader.conf'), LOADER);
    assert.equal(cli(['detach', '--stale', '1/0/0', ...base]).status, 2);
    assert.equal(cli(['detach', ...base]).status, 2);
  });

  it('on a host whose only free display is the console, detach --stale never touches the console GPU', () => {
    const root = tempDir();
    // 0/2/0 is the Intel iGPU carrying the console; 3/0/0 is now the I210 NIC with the default route.
    put(root, '/boot/loader.conf', 'pptdevs="0/2/0 3/0/0 garbage"\nvmm_load="YES"\n');
    const r = cli(['detach', '--stale', '--json', '--host', RTX, '--root', root]);
    assert.equal(r.status, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    const after: string = plan.plan.steps[0].after;
    assert.equal(after, 'pptdevs="0/2/0"\nvmm_load="YES"\n');
  });
});

describe('vm-bhyve config with CRLF line ends (issue 15)', () => {
  it('doctor fails it with vm-fix; attach refuses to add CRLF lines; vm-fix rewrites only the line ends', async () => {
    const root = tempDir();
    const lf = example('tesla-p4-15.0').files[XDEV] as string;
    const crlf = lf.replace(/\n/g, '\r\n');
    put(root, XDEV, crlf);
    const base = ['--host', P4, '--root', root];
    const checks = doctorJson(['--vm', 'xdev', ...base]);
    const ends = checks.find((c) => c.id === 'vm.xdev.line-ends');
    assert.equal(ends?.status, 'FAIL');
    assert.deepEqual(ends?.commands, [['bhyve-gpu', 'vm-fix', '--vm', 'xdev', '--yes']]);
    await assertParses(ends?.commands);
    // vm-bhyve reads loader as "uefi\r": not a UEFI loader.
    const loader = checks.find((c) => c.id === 'vm.xdev.loader');
    assert.equal(loader?.status, 'FAIL');
    assert.match(loader?.evidence[0] ?? '', /uefi\\r/);

    const a = cli(['attach', '1/0/0', '--vm', 'xdev', '--yes', ...base]);
    assert.equal(a.status, 1);
    assert.match(a.stderr, /CRLF/);
    assert.match(a.stderr, /bhyve-gpu vm-fix --vm xdev --yes/);
    assert.equal(read(root, XDEV), crlf);

    const f = cli(['vm-fix', '--vm', 'xdev', '--yes', ...base]);
    assert.equal(f.status, 0, f.stderr);
    assert.equal(read(root, XDEV), lf);
    assert.equal(
      doctorJson(['--vm', 'xdev', ...base]).find((c) => c.id === 'vm.xdev.line-ends'),
      undefined,
    );
    assert.equal(cli(['rollback', '--yes', ...base]).status, 0);
    assert.equal(read(root, XDEV), crlf);
  });
});

describe('pptdevs longer than the kernel takes (issue 15)', () => {
  it('doctor names the lost entries; attach rewrites the value split into pptdevs, pptdevs2, pptdevs3', () => {
    const root = tempDir();
    const ids = `${Array.from({ length: 31 }, (_, i) => `${100 + i}/0/0`).join(' ')} 1/0/0 9/0/0`;
    assert.ok(ids.length > 249);
    const text = `vmm_load="YES"\npptdevs="${ids}"\n`;
    put(root, '/boot/loader.conf', text);
    const base = ['--host', P4, '--root', root];
    const check = doctorJson(base).find((c) => c.id === 'host.pptdevs');
    assert.equal(check?.status, 'FAIL');
    const lost = check?.evidence.find((e) => e.includes('too long kenv string'));
    assert.ok(lost?.includes('lost: 100/0/0') && lost.includes('1/0/0 9/0/0'), lost);
    const r = cli(['attach', '1/0/0', '--force', '--json', ...base]);
    const after: string = JSON.parse(r.stdout).plan.steps[0].after;
    for (const v of ['pptdevs', 'pptdevs2', 'pptdevs3']) assert.match(after, new RegExp(`^${v}="`, 'm'));
    for (const line of after.split('\n'))
      if (line.startsWith('pptdevs')) assert.ok(line.length - line.indexOf('"') - 2 <= 128, line);
    assert.equal(after.match(/\d+\/0\/0/g)?.length, 33);
  });
});

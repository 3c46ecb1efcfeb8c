import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  passthruEntries,
  planGuestPassthru,
  removeGuestPassthru,
  usedGuestSlots,
  vmDirFromRcConf,
} from '../../src/conf/vm-conf.js';
import { ToolError } from '../../src/errors.js';
import { corpus, corpusFile, fixture } from '../helpers/corpus.js';

const vmConf = (name: string): string => corpusFile('vm-conf', name).body;
const GPU = [
  { bhyveId: '65/0/1', function: 1 },
  { bhyveId: '65/0/0', function: 0 },
];

describe('vm-bhyve guest config: reading', () => {
  it('parses passthruN in both forms and stops at the first missing number', () => {
    assert.deepEqual(
      passthruEntries(vmConf('cloudatlas-passthru-slot-mapping-line.txt')).map((e) => [e.host, e.guest]),
      [['1/0/0', { slot: 2, func: 0 }]],
    );
    assert.deepEqual(passthruEntries(vmConf('cloudatlas-x-vm-commented-passthru.txt')), []);
    assert.deepEqual(
      passthruEntries(vmConf('vmbhyve-issue203-bhyveload-passthru-func1.txt')).map((e) => e.host),
      ['3/0/1'],
    );
    const gap = passthruEntries('passthru0="1/0/0"\npassthru2="2/0/0"\n');
    assert.deepEqual(
      gap.map((e) => e.index),
      [0],
    );
    const windows = passthruEntries(fixture('conf', 'guest-windows.conf'));
    assert.deepEqual(
      windows.map((e) => [e.host, e.options]),
      [
        ['5/0/0', undefined],
        ['5/0/1', 'bootindex=2'],
      ],
    );
    assert.match(passthruEntries('passthru0="1/0/0=40:0"\n')[0]?.problem ?? '', /slot:function/);
  });

  it('reproduces the vm-bhyve layout: xdev puts the GPU on guest slot 6 (as its vm-bhyve.log shows)', () => {
    const used = usedGuestSlots(vmConf('cloudatlas-xdev-uefi-passthru-tesla.txt'));
    assert.deepEqual(
      used.map((u) => `${u.slot}:${u.func} ${u.device}`),
      [
        '0:0 hostbridge',
        '31:0 lpc',
        '3:0 install media',
        '4:0 disk0',
        '5:0 network0',
        '6:0 passthru0',
        '7:0 fbuf',
      ],
    );
  });

  it('lays out non-UEFI disks as functions of one slot and explicit passthru where it is forced', () => {
    const text =
      'loader="bhyveload"\ndisk0_type="virtio-blk"\ndisk0_name="a"\ndisk1_type="virtio-blk"\ndisk1_name="b"\nnetwork0_type="virtio-net"\npassthru0="1/0/0=9:0"\n';
    assert.deepEqual(
      usedGuestSlots(text)
        .slice(3)
        .map((u) => `${u.slot}:${u.func} ${u.device}`),
      ['4:0 disk0', '4:1 disk1', '5:0 network0', '9:0 passthru0'],
    );
    const windows = usedGuestSlots(fixture('conf', 'guest-windows.conf')).slice(3);
    assert.deepEqual(
      windows.map((u) => `${u.slot}:${u.func} ${u.device}`),
      ['4:0 disk0', '5:0 disk1', '6:0 network0', '7:0 passthru0', '7:1 passthru1', '8:0 fbuf', '9:0 xhci'],
    );
  });
});

describe('vm-bhyve guest config: planGuestPassthru', () => {
  it('adds every function on one free slot, function 0 first, and is idempotent', () => {
    const text = vmConf('cloudatlas-x-vm-commented-passthru.txt');
    const plan = planGuestPassthru(text, GPU);
    assert.equal(plan.slot, 6);
    assert.deepEqual(plan.keys, ['passthru0', 'passthru1']);
    assert.equal(plan.text, `${text}passthru0="65/0/0=6:0"\npassthru1="65/0/1=6:1"\n`);
    const again = planGuestPassthru(plan.text, GPU);
    assert.equal(again.text, plan.text);
    assert.equal(again.changed, false);
    assert.deepEqual(again.notes, ['already in the desired state']);
    assert.equal(removeGuestPassthru(plan.text, ['65/0/0', '65/0/1']).text, text);
  });

  it('picks a slot that collides with nothing the layout uses', () => {
    for (const c of corpus('vm-conf')) {
      const plan = planGuestPassthru(c.body, GPU);
      const used = usedGuestSlots(plan.text);
      const mine = used.filter((u) => plan.keys.includes(u.device));
      assert.deepEqual(
        mine.map((u) => [u.slot, u.func]),
        [
          [plan.slot, 0],
          [plan.slot, 1],
        ],
        c.name,
      );
      const others = used.filter((u) => !plan.keys.includes(u.device) && u.bus === 0);
      assert.ok(!others.some((u) => u.slot === plan.slot), `${c.name}: slot ${plan.slot} collides`);
    }
    assert.equal(planGuestPassthru(vmConf('cloudatlas-xdev-uefi-passthru-tesla.txt'), GPU).slot, 8);
    assert.equal(planGuestPassthru(vmConf('cloudatlas-passthru-slot-mapping-line.txt'), GPU).slot, 4);
  });

  it('attach then remove gives back the original bytes of every corpus config that needs no other change', () => {
    for (const c of corpus('vm-conf')) {
      for (const body of [c.body, c.body.replace(/\n/g, '\r\n'), c.body.replace(/\n$/, '')]) {
        const plan = planGuestPassthru(body, GPU, { rom: '/vms/gpu/tu104.rom' });
        const back = removeGuestPassthru(plan.text, ['65/0/0', '65/0/1']).text;
        const original = body.split(/\r?\n/);
        const changedLines = back.split(/\r?\n/).filter((l, i) => l !== original[i]);
        if (/^loader="uefi/m.test(body) && /^wired_memory="yes"/m.test(body))
          assert.equal(back, body, c.name);
        else for (const l of changedLines) assert.match(l, /^(loader|wired_memory)=|^$/, c.name);
      }
    }
  });

  it('sets wired_memory, switches a non-UEFI loader with a warning and adds the ROM option', () => {
    const text = vmConf('vmbhyve-issue203-bhyveload-passthru-func1.txt');
    const plan = planGuestPassthru(text, GPU, { rom: '/vms/gpu/tu104.rom' });
    assert.equal(
      plan.text,
      text.replace('loader="bhyveload"', 'loader="uefi"') +
        'wired_memory="yes"\npassthru1="65/0/0=6:0"\npassthru2="65/0/1=6:1"\npassthru1_options="rom=/vms/gpu/tu104.rom"\n',
    );
    assert.match(plan.warnings.join('\n'), /bhyveload/);
    assert.equal(planGuestPassthru(plan.text, GPU, { rom: '/vms/gpu/tu104.rom' }).changed, false);
    const rom2 = planGuestPassthru(plan.text, GPU, { rom: '/vms/gpu/other.rom' });
    assert.match(rom2.text, /^passthru1_options="rom=\/vms\/gpu\/other.rom"$/m);
    assert.throws(() => planGuestPassthru(text, GPU, { rom: '/vms/#1.rom' }), ToolError);
  });

  it('re-adds a GPU that is half listed, together on one slot', () => {
    const text = 'loader="uefi"\nwired_memory="yes"\npassthru0="65/0/0"\n';
    const plan = planGuestPassthru(text, GPU);
    assert.equal(
      plan.text,
      'loader="uefi"\nwired_memory="yes"\npassthru0="65/0/0=4:0"\npassthru1="65/0/1=4:1"\n',
    );
  });

  it('removes one device and renumbers the others in place', () => {
    const text =
      'cpu=2\npassthru0="3/0/0"\npassthru1="65/0/0=6:0" # gpu\npassthru2="4/0/0"\npassthru2_options="rom=/x.rom"\ndebug="yes"\n';
    const r = removeGuestPassthru(text, ['65/0/0']);
    assert.equal(
      r.text,
      'cpu=2\npassthru0="3/0/0"\npassthru1="4/0/0"\npassthru1_options="rom=/x.rom"\ndebug="yes"\n',
    );
    assert.deepEqual(r.removed, ['passthru1']);
    assert.equal(removeGuestPassthru(r.text, ['65/0/0']).changed, false);
  });
});

describe('rc.conf: vm_dir', () => {
  it('reads zfs and path forms', () => {
    assert.deepEqual(vmDirFromRcConf(fixture('conf', 'rc.conf')), { kind: 'zfs', dataset: 'zroot/vms' });
    assert.deepEqual(vmDirFromRcConf(fixture('conf', 'rc-path.conf')), {
      kind: 'path',
      path: '/usr/local/vms',
    });
    assert.equal(vmDirFromRcConf('vm_enable="YES"\n'), undefined);
    assert.deepEqual(vmDirFromRcConf('vm_dir="/a"\nvm_dir="zfs:tank/vm"\n'), {
      kind: 'zfs',
      dataset: 'tank/vm',
    });
  });
});

describe('planGuestPassthru: an entry without =slot:func', () => {
  it('gets its explicit guest slot where it stands', () => {
    const text = 'loader="uefi"\ncpu=4\npassthru0="1/0/0"\nuuid="u"\n';
    const plan = planGuestPassthru(text, [{ bhyveId: '1/0/0', function: 0 }]);
    assert.equal(
      plan.text,
      `loader="uefi"\ncpu=4\npassthru0="1/0/0=${plan.slot}:0"\nuuid="u"\nwired_memory="yes"\n`,
    );
    assert.deepEqual(plan.keys, ['passthru0']);
    assert.equal(planGuestPassthru(plan.text, [{ bhyveId: '1/0/0', function: 0 }]).changed, false);
  });
});

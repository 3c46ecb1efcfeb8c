import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPatch, parsePatch } from 'diff';
import { planToJson, renderPlan } from '../../src/plan/render.js';
import { isNoop, makeFileEdit, type Plan } from '../../src/plan/types.js';

const before = 'vmm_load="YES"\nnmdm_load="YES"\n';
const after = 'vmm_load="YES"\nnmdm_load="YES"\npptdevs="1/0/0 1/0/1"\n';

test('makeFileEdit builds a unified diff with a/ and b/ labels that applies back', () => {
  const edit = makeFileEdit('/boot/loader.conf', before, after, 'reserve the GPU for passthrough');
  assert.equal(edit.kind, 'file-edit');
  assert.match(edit.diff, /^--- a\/boot\/loader\.conf\n\+\+\+ b\/boot\/loader\.conf\n@@ -1,2 \+1,3 @@\n/);
  assert.match(edit.diff, /^\+pptdevs="1\/0\/0 1\/0\/1"$/m);
  const [patch] = parsePatch(edit.diff);
  assert.ok(patch);
  assert.equal(applyPatch(before, patch), after);
});

test('makeFileEdit: a new file diffs from empty, an unchanged one has an empty diff', () => {
  const created = makeFileEdit('/etc/devd/x.conf', undefined, 'a\n', 'new');
  assert.match(created.diff, /@@ -0,0 \+1,1 @@\n\+a\n$/);
  assert.equal(makeFileEdit('/etc/rc.conf', before, before, 'same').diff, '');
});

test('isNoop: true only when every step is an edit that changes nothing', () => {
  const same = makeFileEdit('/etc/rc.conf', before, before, 'same');
  const change = makeFileEdit('/boot/loader.conf', before, after, 'r');
  assert.equal(isNoop({ title: 't', steps: [], notes: [] }), true);
  assert.equal(isNoop({ title: 't', steps: [same], notes: [] }), true);
  assert.equal(isNoop({ title: 't', steps: [same, change], notes: [] }), false);
  assert.equal(
    isNoop({ title: 't', steps: [same, { kind: 'command', argv: ['true'], reason: 'r' }], notes: [] }),
    false,
  );
});

const plan: Plan = {
  title: 'attach GPU 1/0/0 to vm gpu',
  steps: [
    makeFileEdit('/boot/loader.conf', before, after, 'reserve the GPU'),
    {
      kind: 'command',
      argv: ['devctl', 'set', 'driver', 'pci0:1:0:0', 'ppt'],
      undo: ['devctl', 'set', 'driver', 'pci0:1:0:0', 'nvidia'],
      reason: 'hand the device to ppt now',
    },
    {
      kind: 'file-install',
      path: '/usr/sbin/bhyve',
      from: '/usr/obj/usr/src/amd64.amd64/usr.sbin/bhyve/bhyve',
      mode: 0o555,
      reason: 'patched bhyve',
    },
  ],
  notes: ['reboot to apply pptdevs'],
};

test('planToJson has exactly the documented shape', () => {
  const json = planToJson(plan);
  assert.equal(json.schemaVersion, 1);
  assert.equal(json.plan.title, plan.title);
  assert.deepEqual(json.plan.notes, ['reboot to apply pptdevs']);
  const [edit, command, install] = json.plan.steps;
  assert.deepEqual(
    { ...edit, reason: undefined },
    {
      kind: 'file-edit',
      path: '/boot/loader.conf',
      before,
      after,
      diff: (plan.steps[0] as { diff: string }).diff,
      reason: undefined,
    },
  );
  assert.deepEqual(command?.kind === 'command' && command.argv, [
    'devctl',
    'set',
    'driver',
    'pci0:1:0:0',
    'ppt',
  ]);
  assert.equal(
    install?.kind === 'file-install' && install.from,
    '/usr/obj/usr/src/amd64.amd64/usr.sbin/bhyve/bhyve',
  );
  // JSON round trip: a new file's before is left out, not null.
  const created = planToJson({ title: 't', steps: [makeFileEdit('/x', undefined, 'a\n', 'r')], notes: [] });
  const back = JSON.parse(JSON.stringify(created)) as { plan: { steps: Record<string, unknown>[] } };
  assert.equal('before' in (back.plan.steps[0] ?? {}), false);
  assert.equal(back.plan.steps[0]?.after, 'a\n');
});

test('renderPlan lists numbered steps with reasons, the diff, undo and notes', () => {
  const text = renderPlan(plan);
  assert.match(text, /^attach GPU 1\/0\/0 to vm gpu$/m);
  assert.match(text, /^ {2}1\. edit \/boot\/loader\.conf \(reserve the GPU\)$/m);
  assert.match(text, /^ {5}\+pptdevs="1\/0\/0 1\/0\/1"$/m);
  assert.match(text, /^ {2}2\. run devctl set driver pci0:1:0:0 ppt/m);
  assert.match(text, /undo: devctl set driver pci0:1:0:0 nvidia/);
  assert.match(text, /^ {2}3\. install \/usr\/sbin\/bhyve from \/usr\/obj/m);
  assert.match(text, /^ {2}- reboot to apply pptdevs$/m);
});

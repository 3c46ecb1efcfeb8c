import { hasCarriageReturns } from '../../conf/views.js';
import { type PassthruEntry, passthruEntries } from '../../conf/vm-conf.js';
import { readVmBhyveConfig } from '../../conf/vm-layout.js';
import type { GpuGroup } from '../../inventory/types.js';
import { attachAdvice } from '../advice.js';
import { type Check, type CheckResult, result } from '../types.js';

const UEFI = new Set(['uefi', 'uefi-csm', 'uefi-devel', 'uefi-custom']);

function gpuOf(entry: PassthruEntry, gpus: readonly GpuGroup[]): GpuGroup | undefined {
  return gpus.find((g) => g.functions.some((f) => f.device.bhyveId === entry.host));
}

/** A value as vm-bhyve sees it, with a carriage return made visible. */
function shown(value: string | undefined): string | undefined {
  return value?.replace(/\r/g, '\\r');
}

/** CRLF line ends: vm-bhyve sources the file with sh, which keeps the CR in every value. */
function lineEnds(name: string, path: string, text: string): CheckResult {
  const lines = text.split('\n');
  const crlf = lines.filter((l) => l.endsWith('\r')).length;
  const first = lines.findIndex((l) => l.includes('\r')) + 1;
  return {
    ...result(
      `vm.${name}.line-ends`,
      `VM ${name}: config has Unix line ends`,
      'FAIL',
      [
        `${path}:${first}: ${crlf} line${crlf === 1 ? '' : 's'} end in CRLF (saved by a Windows editor?)`,
        'vm-bhyve keeps the CR in each value: loader="uefi" reads as "uefi\\r", passthru0 as "B/S/F\\r"',
      ],
      `bhyve-gpu vm-fix --vm ${name} --yes (rewrites the line ends as LF, journaled)`,
    ),
    commands: [['bhyve-gpu', 'vm-fix', '--vm', name, '--yes']],
  };
}

export const vmChecks: Check = (ctx) => {
  const vm = ctx.vm;
  if (!vm) return [];
  const p = `vm.${vm.name}`;
  const inv = ctx.inventory;
  if (vm.text === undefined) {
    const attach = attachAdvice(inv, vm.name);
    return [
      result(
        `${p}.config`,
        `VM ${vm.name}: vm-bhyve config`,
        'FAIL',
        [vm.path ? `${vm.path}: not found` : 'vm_dir not set in rc.conf'],
        vm.path
          ? `create the guest with vm-bhyve, then give it the GPU with bhyve-gpu attach`
          : 'install and initialise vm-bhyve (vm_enable, vm_dir, vm init), create the guest, then bhyve-gpu attach',
        vm.path
          ? attach.commands
            ? { commands: [['vm', 'create', vm.name], ...attach.commands] }
            : { noCommand: `vm create ${vm.name} creates the guest; then: ${attach.noCommand}` }
          : {
              noCommand:
                'vm-bhyve is not set up on this host: its vm_dir (a dataset or directory) is a choice to make',
            },
      ),
    ];
  }
  const out: CheckResult[] = [];
  // vm-bhyve's own reading: the first line of a key wins, and a CRLF line keeps its CR in the value.
  const config = readVmBhyveConfig(vm.text);
  if (hasCarriageReturns(vm.text)) out.push(lineEnds(vm.name, vm.path ?? `${vm.name}.conf`, vm.text));
  const entries = passthruEntries(vm.text);
  const gpus = inv.gpus;
  const named = entries.map((e) => gpuOf(e, gpus)).find((g) => g !== undefined);
  const attach = attachAdvice(inv, vm.name, named);
  // attach refuses to edit a running guest's config: stop it first.
  const attachFix =
    vm.instance && attach.commands ? { commands: [['vm', 'stop', vm.name], ...attach.commands] } : attach;
  const title = `VM ${vm.name}: every GPU function passed through, with a sane guest slot`;
  if (entries.length === 0)
    out.push(
      result(
        `${p}.passthru`,
        title,
        'FAIL',
        [`${vm.path}: no passthruN entry`],
        `give every function of the GPU to ${vm.name} with bhyve-gpu attach`,
        attachFix,
      ),
    );
  else {
    const ev = entries.map((e) => `passthru${e.index}="${e.value}"`);
    const problems: string[] = [];
    for (const e of entries) if (e.problem) problems.push(`passthru${e.index}: ${e.problem}`);
    const used = new Map<string, string>();
    for (const e of entries) {
      if (!e.guest) continue;
      if (e.guest.slot === 0 || e.guest.slot === 31 || e.guest.slot > 31)
        problems.push(`passthru${e.index}: guest slot ${e.guest.slot} is reserved (0 host bridge, 31 LPC)`);
      const k = `${e.guest.slot}:${e.guest.func}`;
      if (used.has(k)) problems.push(`passthru${e.index} and ${used.get(k)} both use guest ${k}`);
      used.set(k, `passthru${e.index}`);
    }
    const groups = new Set<GpuGroup>();
    for (const e of entries) {
      const g = gpuOf(e, gpus);
      if (g) groups.add(g);
      else if (ctx.inventory.devices && !ctx.inventory.devices.some((d) => d.bhyveId === e.host))
        problems.push(`passthru${e.index}: no device at ${e.host} on the host`);
    }
    for (const g of groups) {
      const missing = g.functions.filter((f) => !entries.some((e) => e.host === f.device.bhyveId));
      if (missing.length)
        problems.push(
          `GPU ${g.id}: functions not passed: ${missing.map((f) => f.device.bhyveId).join(' ')} (all functions of a GPU must go to the same guest)`,
        );
      const fns = entries.filter((e) => g.functions.some((f) => f.device.bhyveId === e.host));
      if (fns.some((e) => !e.guest) && groups.size + entries.length - fns.length > 1)
        problems.push(
          `GPU ${g.id}: entries without =slot:func can be merged with other devices by vm-bhyve's bus-based grouping`,
        );
    }
    if (groups.size === 0 && gpus.length > 0) problems.push('no passthruN entry names a GPU');
    if (inv.devices === undefined && problems.length === 0)
      out.push(
        result(`${p}.passthru`, title, 'UNKNOWN', [
          ...ev,
          'the PCI device list was not read: the entries cannot be checked against the host',
        ]),
      );
    else
      out.push(
        result(
          `${p}.passthru`,
          title,
          problems.length ? 'FAIL' : 'PASS',
          [...ev, ...problems],
          problems.length ? `rewrite the passthruN entries with bhyve-gpu attach` : undefined,
          problems.length ? attachFix : {},
        ),
      );
  }
  const wired = shown(config.get('wired_memory'));
  out.push(
    /^yes$/i.test(wired ?? '')
      ? result(`${p}.wired-memory`, `VM ${vm.name}: guest memory wired`, 'PASS', ['wired_memory="yes"'])
      : result(
          `${p}.wired-memory`,
          `VM ${vm.name}: guest memory wired`,
          'WARN',
          [
            `wired_memory=${wired === undefined ? '(unset)' : `"${wired}"`}`,
            'vm-bhyve adds -S itself when passthruN is set; without it, bhyve stops with "passthru requires guest memory to be wired"',
          ],
          'set wired_memory="yes" (bhyve-gpu attach does)',
          attachFix,
        ),
  );
  const loader = shown(config.get('loader'));
  out.push(
    loader !== undefined && UEFI.has(loader)
      ? result(`${p}.loader`, `VM ${vm.name}: UEFI loader`, 'PASS', [`loader="${loader}"`])
      : result(
          `${p}.loader`,
          `VM ${vm.name}: UEFI loader`,
          'FAIL',
          [
            `loader=${loader === undefined ? '(unset)' : `"${loader}"`}: GPU passthrough needs UEFI firmware (option ROM, 64-bit BAR placement)`,
          ],
          'set loader="uefi" (bhyve-gpu attach does; a guest installed with bhyveload/grub may need reinstalling)',
          attachFix,
        ),
  );
  if (vm.instance === undefined)
    out.push(
      result(`${p}.instance`, `VM ${vm.name}: no stale VM instance`, 'UNKNOWN', ['/dev/vmm not listed']),
    );
  else if (vm.instance)
    out.push(
      result(
        `${p}.instance`,
        `VM ${vm.name}: no stale VM instance`,
        'WARN',
        [`/dev/vmm/${vm.name} exists: the VM is running, or a stale instance is left`],
        `stop it before changing its config (a stale instance left by a crash: bhyvectl --destroy --vm=${vm.name}); configuration changes apply at the next start`,
        { commands: [['vm', 'stop', vm.name]] },
      ),
    );
  else
    out.push(
      result(`${p}.instance`, `VM ${vm.name}: no stale VM instance`, 'PASS', [`/dev/vmm/${vm.name} absent`]),
    );
  return out;
};

export const guestLogChecks: Check = (ctx) => {
  const refused = ctx.guestLogRefused;
  if (refused)
    return [
      result(
        'guest.log',
        'guest log: a kernel log to read',
        'FAIL',
        [`${refused.file}: ${refused.reason}`],
        'pass the guest kernel log as text: inside the guest, dmesg > guest-dmesg.txt (or journalctl -k -b > guest-dmesg.txt)',
        { noCommand: 'the log is captured inside the guest, then copied to where doctor runs' },
      ),
    ];
  if (!ctx.guestFindings) return [];
  if (ctx.guestFindings.length === 0 || ctx.guestFindings.every((f) => f.severity === 'info'))
    return [
      result(
        'guest.log',
        'guest log: no failure signature',
        'PASS',
        ctx.guestFindings.map((f) => `${f.id}: ${f.title}`),
      ),
    ];
  return ctx.guestFindings
    .filter((f) => f.severity !== 'info')
    .map((f) =>
      result(
        `guest.${f.id}`,
        `guest log: ${f.title}`,
        f.severity === 'error' ? 'FAIL' : 'WARN',
        f.evidence.slice(0, 3).map((e) => `${e.file}:${e.line}: ${e.text}`),
        f.fix,
        f.commands?.length
          ? { commands: f.commands }
          : { noCommand: f.noCommand ?? 'no bhyve-gpu command does this: follow the fix above' },
      ),
    );
};

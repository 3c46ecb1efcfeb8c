import { formatBytes, MEMSIZE64, windowNeeded } from '../bhyve/mmio.js';
import { withMmio64Option } from '../conf/bhyve-options.js';
import {
  type ConfFile,
  effectivePptdevs,
  ensureVmmLoad,
  LOADER_CONF,
  planPptdevs,
  vmmLoadState,
} from '../conf/loader-conf.js';
import { parseShDoc, readShDoc } from '../conf/shedit.js';
import { hasCarriageReturns, loaderView } from '../conf/views.js';
import { passthruEntries, planGuestPassthru, removeGuestPassthru } from '../conf/vm-conf.js';
import { ParseError, ToolError } from '../errors.js';
import { commandsLine } from '../host/shell-quote.js';
import { fileText, loaderFileOrder } from '../inventory/collect.js';
import { installedQuirks, lockoutReason } from '../inventory/gpus.js';
import { RC_CONF_FILES } from '../inventory/probes.js';
import type { GpuGroup, Inventory } from '../inventory/types.js';
import { quirkChain } from '../patch/quirks/advice.js';
import { installedWindow, sizeText } from '../patch/quirks/words.js';
import type { JournalEntry } from '../plan/journal.js';
import { type BootEffect, type CommandStep, makeFileEdit, type Plan } from '../plan/types.js';
import { type GuestOs, windowsAttach } from './windows.js';

export interface AttachOptions {
  vm?: string;
  rom?: string;
  /** Also bind the functions to ppt now with devctl (no reboot). */
  now?: boolean;
  /** Remove stale pptdevs entries as part of the plan. */
  removeStale?: boolean;
  /** Proceed despite stale entries or lock-out risks. */
  force?: boolean;
  /** Replace a non-UEFI loader (bhyveload, grub) with loader="uefi"; without it the loader is kept, with a note. */
  setLoaderUefi?: boolean;
  /** windows: the Windows settings (src/attach/windows.ts); auto (default) detects a Windows guest config. */
  guestOs?: GuestOs;
}

/** What attach says when it keeps a guest's bhyveload/grub loader (passthrough of a GPU wants UEFI). */
export function keptLoaderNote(vm: string, loader: string): string {
  return `${vm} keeps loader="${loader}": GPU passthrough wants UEFI firmware; to switch, add --set-loader-uefi (a guest installed for ${loader} may not boot with UEFI until it has an EFI boot loader)`;
}

/** A vm-bhyve guest config on the host. */
export interface VmConfig {
  name: string;
  path: string;
  text: string;
}

/** Where vm-bhyve keeps the guest's config, and refuse a running guest. */
export function findVmConfig(inv: Inventory, name: string): VmConfig {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw new ToolError('vm-name', `"${name}" is not a vm-bhyve guest name`, { exitCode: 2 });
  const vmDir = inv.host.vmDir;
  if (!vmDir)
    throw new ToolError(
      'vm-dir',
      'vm_dir is not set in /etc/rc.conf (or its ZFS mountpoint could not be read)',
      {
        hint: 'install and initialise vm-bhyve (sysrc vm_enable=YES vm_dir=zfs:pool/vms; vm init), or use bhyve-gpu vm-args for raw bhyve',
      },
    );
  const path = `${vmDir}/${name}/${name}.conf`;
  const text = fileText(inv.raw, path);
  if (text === undefined)
    throw new ToolError('vm-missing', `no vm-bhyve guest "${name}": ${path} not found`, {
      hint: `create it first: vm create ${name}`,
    });
  requireReadable(path, text, VM_KEYS, { vmBhyve: true });
  if (inv.host.runningVms?.includes(name))
    throw new ToolError(
      'vm-running',
      `guest "${name}" is running (/dev/vmm/${name} exists): refusing to change its config`,
      {
        hint: `stop it first: vm stop ${name} (or, for a stale instance, bhyvectl --destroy --vm=${name})`,
      },
    );
  return { name, path, text };
}

/** vm-bhyve keeps the CR of a CRLF line in the value: attach never adds lines to such a config. */
export function refuseCarriageReturns(vm: VmConfig): void {
  if (!hasCarriageReturns(vm.text)) return;
  const line = vm.text.split('\n').findIndex((l) => l.includes('\r')) + 1;
  throw new ParseError(
    'the config has CRLF line ends: vm-bhyve would read every value with a trailing CR (loader "uefi\\r")',
    { file: vm.path, line },
    `rewrite the line ends first: bhyve-gpu vm-fix --vm ${vm.name} --yes; nothing was changed`,
  );
}

/** Keys that attach and detach edit, per kind of file. */
const LOADER_KEYS = /^(pptdevs[23]?|vmm_load)$/;
const VM_KEYS = /^(passthru\d+(_options)?|wired_memory|loader)$/;

/**
 * Refuse to plan over a file where a key this tool edits is on a line the parser cannot read (an unclosed
 * quote, a command substitution): editing around it could change what the loader or vm-bhyve sees.
 * Other unreadable lines (prose, "...") are kept byte for byte, as the loader itself skips them.
 */
function requireReadable(
  path: string,
  text: string,
  keys: RegExp,
  options: { vmBhyve?: boolean; loader?: boolean },
): void {
  const bad = parseShDoc(text, path, options).nodes.find(
    (n) => n.kind === 'other' && n.key !== undefined && keys.test(n.key),
  );
  if (bad?.kind === 'other')
    throw new ParseError(
      bad.reason,
      { file: path, line: bad.line },
      'fix that line by hand, then run the command again; nothing was changed',
    );
  if (!options.loader) return;
  // Where the loader and sh read a line of a key attach edits differently (a line the loader skips, such as
  // single quotes or an unquoted B/S/F list; or `pptdevs = "..."`, which only the loader reads), an edit
  // could change what boots: refuse.
  const view = loaderView(text, path);
  const doc = readShDoc(text, path);
  const shReads = (line: number, key: string): boolean =>
    doc.nodes.some((n) => n.kind === 'assignment' && n.line === line && n.key === key);
  const differ =
    view.skipped.find((k) => k.key !== undefined && keys.test(k.key)) ??
    view.assignments.find((a) => keys.test(a.key) && !shReads(a.line, a.key));
  if (differ)
    throw new ParseError(
      'reason' in differ ? differ.reason : `${differ.key}: the loader reads this line, sh and sysrc do not`,
      { file: path, line: differ.line },
      `write it as ${differ.key}="..." (no blanks around =, double quotes), then run the command again; nothing was changed`,
    );
}

/** The loader files that exist, in read order, refused when a line attach edits cannot be read. */
export function loaderFiles(inv: Inventory): ConfFile[] {
  const files = loaderFileOrder(inv.raw)
    .filter((f) => f.state === 'ok' && f.text !== undefined)
    .map((f) => ({ path: f.path, text: f.text as string }));
  for (const f of files) requireReadable(f.path, f.text, LOADER_KEYS, { loader: true });
  return files;
}

/** Refusals that protect the host: stale pptdevs entries, and devices whose loss locks the host out. */
export function safetyProblems(inv: Inventory, gpu: GpuGroup, opts: AttachOptions): string[] {
  const problems: string[] = [];
  if (!opts.removeStale)
    for (const s of inv.stale)
      problems.push(
        `stale pptdevs entry ${s.entry.bhyveId} (${s.entry.file}:${s.entry.line}): ${s.reason}${s.lockout ? '; at the next boot the host loses it' : ''}`,
      );
  for (const f of gpu.functions) {
    const why = lockoutReason(f.device, inv.host);
    if (why) problems.push(`${f.device.bhyveId}: ${why}`);
  }
  return problems;
}

function devctlSteps(gpu: GpuGroup): CommandStep[] {
  return gpu.functions
    .filter((f) => f.state !== 'ppt-attached')
    .map((f) => {
      const sel = f.device.selector;
      const undo = f.device.driver
        ? ['devctl', 'set', 'driver', '-f', sel, f.device.driver]
        : ['devctl', 'clear', 'driver', '-f', sel];
      return {
        kind: 'command' as const,
        argv: ['devctl', 'set', 'driver', '-f', sel, 'ppt'],
        reason: `bind ${f.device.bhyveId} to ppt now (was ${f.device.driver ? `${f.device.driver}${f.device.unit ?? ''}` : 'no driver'})`,
        undo,
      };
    });
}

/** The plan that reserves the GPU (pptdevs, vmm_load) and gives every function to the guest. */
export function buildAttachPlan(inv: Inventory, gpu: GpuGroup, opts: AttachOptions): Plan {
  const problems = safetyProblems(inv, gpu, opts);
  if (problems.length && !opts.force)
    throw new ToolError('unsafe', `refusing to attach ${gpu.id}:\n  ${problems.join('\n  ')}`, {
      hint:
        inv.stale.length && !opts.removeStale
          ? `drop the stale entries in the same change: bhyve-gpu attach ${gpu.id}${opts.vm ? ` --vm ${opts.vm}` : ''} --remove-stale --yes (or first: bhyve-gpu detach --stale --yes); --force overrides`
          : 'pick another GPU; --force overrides (only if you have another way into the host)',
    });
  const notes: string[] = problems.map((p) => `forced: ${p}`);
  const files = loaderFiles(inv);
  const ids = gpu.functions.map((f) => f.device.bhyveId);
  const stale = opts.removeStale ? inv.stale.map((s) => s.entry.bhyveId) : [];
  const pptdevs = planPptdevs(files, { add: ids, remove: stale });
  notes.push(...pptdevs.warnings);
  const after = new Map(pptdevs.changes.map((c) => [c.path, c.after]));
  const rcText = RC_CONF_FILES.map((p) => fileText(inv.raw, p) ?? '').join('\n');
  const state = vmmLoadState(
    files.map((f) => ({ path: f.path, text: after.get(f.path) ?? f.text })),
    rcText,
  );
  if (state !== 'loader') {
    const base = after.get(LOADER_CONF) ?? files.find((f) => f.path === LOADER_CONF)?.text ?? '';
    after.set(LOADER_CONF, ensureVmmLoad(base));
    if (state === 'kld_list-only')
      notes.push('vmm is also in rc.conf kld_list: harmless once vmm_load="YES" loads it first');
  }
  const plan: Plan = {
    title: `attach GPU ${gpu.id} (${gpu.name})${opts.vm ? ` to ${opts.vm}` : ''}`,
    steps: [],
    notes,
  };
  const win = windowsAttach(inv, gpu, opts, opts.vm ? findVmConfig(inv, opts.vm) : undefined);
  if (win) {
    notes.push(...win.notes);
    const base = after.get(LOADER_CONF) ?? files.find((f) => f.path === LOADER_CONF)?.text ?? '';
    if (win.loaderConf && win.loaderConf(base) !== base) after.set(LOADER_CONF, win.loaderConf(base));
  }
  for (const [path, text] of after) {
    const before = files.find((f) => f.path === path)?.text;
    const hide = win?.loaderConf && path === LOADER_CONF ? ', hide the hypervisor from guests' : '';
    if (before !== text)
      plan.steps.push(
        makeFileEdit(path, before, text, `reserve the GPU functions for ppt(4) at boot${hide}`),
      );
  }
  if (opts.vm) {
    const vm = findVmConfig(inv, opts.vm);
    refuseCarriageReturns(vm);
    const g = planGuestPassthru(
      vm.text,
      gpu.functions.map((f) => ({ bhyveId: f.device.bhyveId, function: f.device.function })),
      { ...(opts.rom ? { rom: opts.rom } : {}), setLoaderUefi: opts.setLoaderUefi === true },
    );
    notes.push(...g.warnings);
    if (g.nonUefiLoader && !opts.setLoaderUefi) notes.push(keptLoaderNote(vm.name, g.nonUefiLoader));
    // issue 10: a GPU whose 64-bit BARs need more than the stock window gets -o pci.mmio64_size.
    const mmio64 = guestMmio64(inv, gpu, g.text);
    notes.push(...mmio64.notes);
    if (opts.rom)
      notes.push('passthruN_options needs a vm-bhyve with passthruN_options support (freebsd/vm-bhyve)');
    if (g.changed || mmio64.text !== g.text)
      plan.steps.push(
        makeFileEdit(
          vm.path,
          vm.text,
          mmio64.text,
          `give every GPU function to ${vm.name} on guest slot ${g.slot}${mmio64.text !== g.text ? ', with the 64-bit MMIO window the GPU needs' : ''}`,
        ),
      );
  }
  if (opts.now) {
    // ppt(4) lives in vmm.ko: load it first, never drop the devctl steps silently.
    const bind = devctlSteps(gpu);
    if (inv.host.vmm.loaded === false && bind.length)
      plan.steps.push({
        kind: 'command',
        argv: ['kldload', 'vmm'],
        reason: 'load vmm.ko now: ppt(4), which --now binds the functions to, is part of it',
        undo: ['kldunload', 'vmm'],
      });
    plan.steps.push(...bind);
  }
  if (plan.steps.some((s) => s.kind === 'file-edit' && s.path.startsWith('/boot/')))
    notes.push(
      opts.now
        ? 'pptdevs takes effect at every boot from now on'
        : `reboot for pptdevs to take effect (or bind now, without a reboot: bhyve-gpu attach ${gpu.id} --now --yes)`,
    );
  plan.boot = bootEffect(files, after, () => {
    const boundNow = opts.now === true && inv.host.vmm.loaded !== false;
    return !boundNow && gpu.functions.some((f) => f.state !== 'ppt-attached');
  });
  return plan;
}

/** pptdevs before and after a plan's loader-file edits; `pending` says whether a change needs a reboot. */
function bootEffect(
  files: readonly ConfFile[],
  edits: ReadonlyMap<string, string>,
  pending: () => boolean,
): BootEffect {
  const ids = (fs: readonly ConfFile[]) => effectivePptdevs(fs).combined.map((e) => e.bsf?.id ?? e.text);
  const afterFiles = files.map((f) => ({ path: f.path, text: edits.get(f.path) ?? f.text }));
  for (const [path, text] of edits) if (!files.some((f) => f.path === path)) afterFiles.push({ path, text });
  const pptdevsBefore = ids(files);
  const pptdevsAfter = ids(afterFiles);
  const changed = pptdevsBefore.join(' ') !== pptdevsAfter.join(' ');
  return { pptdevsBefore, pptdevsAfter, rebootRequired: changed && pending() };
}

/**
 * The inverse: release the GPU from pptdevs and from the guest. Where a file is still exactly as an attach
 * journal entry left it, its original bytes come back; otherwise only the GPU's entries are removed.
 */
export function buildDetachPlan(
  inv: Inventory,
  gpu: GpuGroup,
  opts: { vm?: string; now?: boolean },
  attachEntries: JournalEntry[] = [],
): Plan {
  const files = loaderFiles(inv);
  const ids = gpu.functions.map((f) => f.device.bhyveId);
  const plan: Plan = {
    title: `detach GPU ${gpu.id} (${gpu.name})${opts.vm ? ` from ${opts.vm}` : ''}`,
    steps: [],
    notes: [],
  };
  const restore = (path: string, current: string): string | undefined => {
    for (const e of [...attachEntries].reverse()) {
      const step = e.steps.find((s) => s.kind === 'file-edit' && s.path === path);
      if (step?.kind === 'file-edit' && step.after === current && step.before !== undefined)
        return step.before;
    }
    return undefined;
  };
  const pptdevs = planPptdevs(files, { add: [], remove: ids });
  const edits = new Map(pptdevs.changes.map((c) => [c.path, c.after]));
  plan.boot = bootEffect(
    files,
    edits,
    () => !opts.now && gpu.functions.some((f) => f.state === 'ppt-attached'),
  );
  const reserved = (path: string, text: string) =>
    effectivePptdevs([{ path, text }])
      .combined.map((e) => e.bsf?.id ?? e.text)
      .join(' ');
  for (const f of files) {
    const exact = restore(f.path, f.text);
    const semantic = edits.get(f.path);
    // The original bytes only when they reserve exactly what removing the GPU leaves: never bring back
    // an entry attach --remove-stale dropped (a NIC the host uses).
    if (
      exact !== undefined &&
      semantic !== undefined &&
      reserved(f.path, exact) === reserved(f.path, semantic)
    )
      edits.set(f.path, exact);
  }
  for (const [path, text] of edits) {
    const before = files.find((f) => f.path === path)?.text;
    if (before !== text)
      plan.steps.push(makeFileEdit(path, before, text, 'stop reserving the GPU functions at boot'));
  }
  if (opts.vm) {
    const vm = findVmConfig(inv, opts.vm);
    const removed = removeGuestPassthru(vm.text, ids);
    if (removed.changed) {
      const exact = restore(vm.path, vm.text);
      plan.steps.push(
        makeFileEdit(vm.path, vm.text, exact ?? removed.text, `take the GPU out of ${vm.name}`),
      );
      if (exact === undefined) plan.notes.push('wired_memory and loader are left as they are');
    }
  }
  if (!opts.vm && inv.host.vmDir) {
    for (const f of inv.raw.files) {
      if (f.state !== 'ok' || f.text === undefined || !f.path.startsWith(`${inv.host.vmDir}/`)) continue;
      const listed = passthruEntries(f.text).filter((e) => ids.includes(e.host));
      const name = f.path.split('/').at(-2);
      if (listed.length)
        plan.notes.push(
          `guest ${name} still lists ${listed.map((e) => `passthru${e.index}`).join(', ')}: it will not start without the GPU on ppt; run detach with --vm ${name}`,
        );
    }
  }
  if (opts.now) {
    for (const f of gpu.functions.filter((x) => x.state === 'ppt-attached')) {
      const undo = attachEntries
        .flatMap((e) => e.steps)
        .filter((s) => s.kind === 'command' && s.argv.includes(f.device.selector))
        .map((s) => (s as CommandStep).undo)
        .filter((u) => u !== undefined)
        .pop();
      plan.steps.push({
        kind: 'command',
        argv: undo ?? ['devctl', 'clear', 'driver', '-f', f.device.selector],
        reason: undo
          ? `give ${f.device.bhyveId} back to the driver attach replaced`
          : `let the kernel pick a driver for ${f.device.bhyveId} again`,
        undo: ['devctl', 'set', 'driver', '-f', f.device.selector, 'ppt'],
      });
    }
  }
  return plan;
}

/**
 * The guest's `bhyve_options` when the GPU's 64-bit BARs need more than bhyve's stock 32 GiB window: with
 * an installed mmio64 quirk big enough, `-o pci.mmio64_size=SIZE` is set; otherwise a note says what to do.
 */
function guestMmio64(inv: Inventory, gpu: GpuGroup, text: string): { text: string; notes: string[] } {
  const need = windowNeeded(gpu.bars);
  if (need <= MEMSIZE64) return { text, notes: [] };
  const quirks = installedQuirks(inv.host);
  const window = installedWindow(quirks);
  // The mmio64 quirk makes bhyve read pci.mmio64_size at start-up, so any installed mmio64=SIZE can be
  // given the window this GPU needs, larger or smaller than the built-in default.
  if (!quirks.some((q) => q.startsWith('mmio64=')))
    return {
      text,
      notes: [
        `GPU ${gpu.id} needs a ${formatBytes(need)} 64-bit MMIO window; the installed bhyve has ${formatBytes(window)}; add the mmio64 quirk, then run this attach again: ${commandsLine(quirkChain(quirks, [`mmio64=${sizeText(need)}`]))}`,
      ],
    };
  const set = withMmio64Option(text, sizeText(need));
  return {
    text: set.text,
    notes: [
      `bhyve_options gets -o pci.mmio64_size=${sizeText(need)} (GPU ${gpu.id} needs ${formatBytes(need)}); on UEFI a Windows guest still sees only the firmware's 32 GiB aperture (docs/patching.md)`,
    ],
  };
}

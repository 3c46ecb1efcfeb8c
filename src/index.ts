/**
 * bhyve-gpu library entry (no CLI imports): the Host layer, the pure parsers, the inventory, doctor,
 * config planning, the journal, the source-tree tools, diagnosis and the guest side.
 */

export { buildAttachPlan, buildDetachPlan } from './attach/plan.js';
export { detectWindowsGuest } from './attach/windows.js';
// bhyve facts
export * from './bhyve/args.js';
export * from './bhyve/ids.js';
export * from './bhyve/mmio.js';
export * as loaderConf from './conf/loader-conf.js';
// Configuration editing and plans
export * as shvars from './conf/shedit.js';
export * as vmConf from './conf/vm-conf.js';
// Diagnosis and the guest side
export * from './diagnose/index.js';
export { diagnoseWindows } from './diagnose/windows.js';
export { CHECKS, doctor, runChecks } from './doctor/doctor.js';
export type { CheckResult, CheckStatus, DoctorContext } from './doctor/types.js';
export * from './errors.js';
// Parsers
export * from './facts/index.js';
export { decodeConfigSpace } from './guest/cfgspace.js';
export { guestCheck } from './guest/check.js';
export { architectureOf, chipOf } from './guest/generations.js';
export { parseNvidiaSmiTable, parseNvidiaSmiXml } from './guest/nvidia-smi.js';
export { planSetup, renderCloudInit, renderScript } from './guest/setup.js';
export { readWindowsCapture } from './guest/windows/capture.js';
export { checkWindowsCapture } from './guest/windows/check.js';
export { planWindowsSetup } from './guest/windows/setup.js';
// Host layer
export { type AtomicFs, atomicWrite, realFs } from './host/atomic.js';
export { LocalHost } from './host/local.js';
export { openHost } from './host/open.js';
export { RootedHost } from './host/rooted.js';
export { quoteArg, quoteArgv } from './host/shell-quote.js';
export { SnapshotHost } from './host/snapshot.js';
export type { Snapshot, SnapshotCommand, SnapshotFile } from './host/snapshot-format.js';
export { parseSnapshot, validateSnapshot } from './host/snapshot-format.js';
export { parseSshSpec, SshHost, type SshHostOptions, type SshTarget } from './host/ssh.js';
export type * from './host/types.js';
export { planInstall } from './install/plan.js';
// Inventory, scan, doctor
export { collect, type RawProbe } from './inventory/collect.js';
export { buildInventory, scanHost } from './inventory/inventory.js';
export { PROBE_COMMANDS, PROBE_FILES } from './inventory/probes.js';
export { redactConfig, toSnapshot } from './inventory/record.js';
export { resolveGpu } from './inventory/resolve.js';
export type * from './inventory/types.js';
export { runBuild } from './make/runner.js';
export { type BuildStep, rebuildSet } from './make/targets.js';
export { checkCSyntax } from './patch/csyntax.js';
export { applyUnifiedDiff } from './patch/engine.js';
export { type PatchRecord, type PatchRun, runPatch } from './patch/run.js';
export * from './plan/apply.js';
export * from './plan/journal.js';
export * from './plan/lock.js';
export * from './plan/render.js';
export * from './plan/rollback.js';
export * from './plan/types.js';
// Source, patch, build, install
export * from './srctree/branches.js';
export { fetchSource, listRemote, readPin, type SourcePin } from './srctree/git.js';
export { inspectTree } from './srctree/layout.js';
export type * from './srctree/types.js';
export { SCHEMA_VERSION, VERSION } from './version.js';

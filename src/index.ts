/** bhyve-gpu library entry: no CLI imports here. */
export * from './errors.js';
export type * from './facts/types.js';
export { atomicWrite } from './host/atomic.js';
export { LocalHost } from './host/local.js';
export { openHost } from './host/open.js';
export { RootedHost } from './host/rooted.js';
export { SnapshotHost } from './host/snapshot.js';
export type { Snapshot, SnapshotCommand, SnapshotFile } from './host/snapshot-format.js';
export { parseSnapshot, validateSnapshot } from './host/snapshot-format.js';
export type * from './host/types.js';
export { SCHEMA_VERSION, VERSION } from './version.js';

import assert from 'node:assert/strict';
import type { PciCapability, PciDevice } from '../../src/facts/types.js';

/** The device at `selector`; fails the test when absent. */
export function bySelector(devices: PciDevice[], selector: string): PciDevice {
  const d = devices.find((x) => x.selector === selector);
  assert.ok(d, `${selector} not found`);
  return d;
}

/** The first capability of `kind`; fails the test when absent. */
export function cap<K extends PciCapability['kind']>(
  d: PciDevice,
  kind: K,
): Extract<PciCapability, { kind: K }> {
  const c = d.capabilities.find((x) => x.kind === kind);
  assert.ok(c, `${d.selector} has no ${kind} capability`);
  return c as Extract<PciCapability, { kind: K }>;
}

import assert from 'node:assert/strict';
import { diagnoseText } from '../../src/diagnose/engine.js';
import type { DiagnoseReport, Finding } from '../../src/diagnose/types.js';
import { fixture } from './corpus.js';

/** Diagnose one held-out fixture (test/fixtures/diagnose/DIR/NAME) as a text input. */
export function heldout(dir: string, name: string): DiagnoseReport {
  return diagnoseText([{ name, text: fixture('diagnose', dir, name) }]);
}

export function byId(r: DiagnoseReport, id: string): Finding | undefined {
  return r.findings.find((f) => f.id === id);
}

/** The first finding, which must be a root cause. */
export function firstRoot(r: DiagnoseReport): Finding {
  const first = r.findings[0];
  assert.ok(first, 'no finding');
  assert.equal(first.rootCause, true, `${first.id} is not a root cause`);
  return first;
}

/** The ids of the findings that are not info. */
export function notInfo(r: DiagnoseReport): string[] {
  return r.findings.filter((f) => f.severity !== 'info').map((f) => f.id);
}

/** `cause` is the first finding, a root cause, and each of `effects` is reported as caused by it. */
export function assertCauseFirst(r: DiagnoseReport, cause: string, effects: string[]): void {
  assert.equal(firstRoot(r).id, cause);
  for (const id of effects) {
    assert.equal(byId(r, id)?.rootCause, false, id);
    assert.ok(byId(r, id)?.causedBy?.includes(cause), id);
  }
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doctor } from '../../src/doctor/doctor.js';
import { guestCheck } from '../../src/guest/check.js';
import { SnapshotHost } from '../../src/host/snapshot.js';
import { adviceProblems } from '../helpers/advice.js';
import { scenarios } from '../helpers/scenarios.js';
import { writeSnapshot } from '../helpers/snap.js';

/**
 * Issue 9, "a test that runs the advice": on every scenario, every non-PASS doctor check and every
 * guest-check answer that is not "yes" carries commands or says why none exists, and every bhyve-gpu
 * command among them parses with the real CLI and runs on that host as a dry run without a refusal.
 */
describe('runnable advice on every scenario', () => {
  for (const s of scenarios()) {
    it(`doctor: ${s.name}`, async () => {
      const file = writeSnapshot(s.snapshot);
      const { inventory, results } = await doctor(
        new SnapshotHost(s.snapshot, file),
        s.vm ? { vm: s.vm } : {},
      );
      const missing = results.filter(
        (r) =>
          r.status !== 'PASS' &&
          !r.commands?.length &&
          !r.noCommand &&
          // The stale-pptdevs check's advice belongs to the readers lane (detach --stale).
          r.id !== 'host.pptdevs',
      );
      assert.deepEqual(
        missing.map((r) => `${r.status} ${r.id}`),
        [],
        'every non-PASS check has commands or noCommand',
      );
      for (const r of results)
        assert.ok(!(r.commands?.length && r.noCommand), `${r.id}: commands and noCommand are exclusive`);
      const consoleGpus = inventory.gpus.filter((g) => g.consoleGpu).map((g) => g.id);
      const chains = results.flatMap((r) => (r.commands?.length ? [r.commands] : []));
      assert.deepEqual(await adviceProblems(chains, file, { consoleGpus }), []);
      // Never a reboot while a stale pptdevs entry would hand a host device to ppt at that boot.
      if (inventory.stale.length)
        for (const chain of chains)
          if (chain.some((c) => c[0] === 'shutdown'))
            assert.ok(
              chain.some((c) => c.includes('--remove-stale') || (c[1] === 'detach' && c.includes('--stale'))),
              `reboot with a stale entry left: ${chain.map((c) => c.join(' ')).join(' && ')}`,
            );
    });
    if (s.guest)
      it(`guest check: ${s.name}`, async () => {
        const file = writeSnapshot(s.snapshot);
        const report = await guestCheck(new SnapshotHost(s.snapshot, file));
        const missing = report.checks.filter(
          (c) => c.answer !== 'yes' && !c.commands?.length && !c.noCommand,
        );
        assert.deepEqual(
          missing.map((c) => `${c.answer} ${c.id}`),
          [],
          'every answer that is not yes has commands or noCommand',
        );
        const chains = report.checks.flatMap((c) => (c.commands?.length ? [c.commands] : []));
        const inGuest = (chain: string[][]) => chain.every((argv) => argv[1] === 'guest');
        // Guest-side commands run on this guest; host-side chains (the INTPIN quirk) run on the FreeBSD
        // host, so here they are only parsed.
        assert.deepEqual(await adviceProblems(chains.filter(inGuest), file), []);
        assert.deepEqual(
          await adviceProblems(
            chains.filter((c) => !inGuest(c)),
            file,
            { run: false },
          ),
          [],
        );
      });
  }
});

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { doctor } from '../../doctor/doctor.js';
import type { CheckResult, DoctorContext } from '../../doctor/types.js';
import { ToolError } from '../../errors.js';
import { openHost } from '../../host/open.js';
import { commandsLine } from '../../host/shell-quote.js';
import { SCHEMA_VERSION } from '../../version.js';
import { globals, out, printJson, style } from '../output.js';

const HELP = `
Checks, in order: CPU virtualisation, IOMMU, vmm loaded from loader.conf, stale pptdevs entries, the
installed bhyve (stock / patched / overwritten), each GPU (all functions reserved and on ppt, MSI/MSI-X
and the NVIDIA INTPIN quirk, BARs vs bhyve's MMIO windows), the VM (--vm) and the guest log (--guest-log).

Examples:
  bhyve-gpu doctor
  bhyve-gpu doctor --vm xdev
  bhyve-gpu doctor --host examples/hosts/tesla-p4-15.0.json --vm xdev
  bhyve-gpu doctor --vm xdev --guest-log guest-dmesg.txt --json

Exit codes: 0 no FAIL (WARN and UNKNOWN allowed), 1 at least one FAIL, 2 usage error.`;

const badge: Record<CheckResult['status'], (s: string) => string> = {
  PASS: style.green,
  WARN: style.yellow,
  FAIL: style.red,
  UNKNOWN: style.dim,
};

/**
 * The guest log through diagnose. Input diagnose refuses (empty, blank, binary: no log lines) is not "no
 * failure signature": it comes back as `refused`, a FAIL in doctor. A missing file is a usage error.
 */
async function guestFindings(
  path: string,
): Promise<{ findings?: DoctorContext['guestFindings']; refused?: DoctorContext['guestLogRefused'] }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ToolError(
      'unreadable-input',
      `${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`}`,
      { hint: 'pass the guest kernel log as a text file', exitCode: 2 },
    );
  }
  const { looksBinary } = await import('../../diagnose/input-check.js');
  if (bytes.length === 0) return { refused: { file: path, reason: 'empty: no log lines' } };
  if (looksBinary(bytes)) return { refused: { file: path, reason: 'looks binary, not a log' } };
  const text = bytes.toString('utf8');
  if (text.trim() === '') return { refused: { file: path, reason: 'blank: no log lines' } };
  const { diagnoseText } = await import('../../diagnose/engine.js');
  return {
    findings: diagnoseText([{ name: path, text }]).findings.map((f) => ({
      id: f.id,
      severity: f.severity,
      title: f.title,
      fix: Array.isArray(f.fix) ? f.fix.join('; ') : String(f.fix),
      evidence: f.evidence,
      ...(f.commands?.length ? { commands: f.commands } : {}),
      ...(f.noCommand ? { noCommand: f.noCommand } : {}),
    })),
  };
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('ordered PASS/WARN/FAIL/UNKNOWN checklist for the host (and a VM, and a guest log)')
    .option('--vm <name>', 'also check this vm-bhyve guest')
    .option('--guest-log <file>', 'run the guest kernel log through diagnose')
    .addHelpText('after', HELP)
    .action(async (opts: { vm?: string; guestLog?: string }, cmd: Command) => {
      const g = globals(cmd);
      const host = await openHost(g.host, g.root);
      try {
        const log = opts.guestLog ? await guestFindings(opts.guestLog) : undefined;
        const { inventory, results } = await doctor(host, {
          ...(opts.vm ? { vm: opts.vm } : {}),
          ...(log?.findings ? { guestFindings: log.findings } : {}),
          ...(log?.refused ? { guestLogRefused: log.refused } : {}),
        });
        const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
        const summary = {
          pass: count('PASS'),
          warn: count('WARN'),
          fail: count('FAIL'),
          unknown: count('UNKNOWN'),
        };
        if (g.json)
          printJson({
            schemaVersion: SCHEMA_VERSION,
            host: inventory.host.hostname,
            release: inventory.host.releaseText,
            checks: results,
            summary,
          });
        else {
          out(
            style.bold(`bhyve-gpu doctor: ${inventory.host.hostname}`) +
              style.dim(
                ` (${inventory.host.releaseText ?? 'release unknown'}, ${inventory.host.description})`,
              ),
          );
          for (const r of results) {
            out(`${badge[r.status](r.status.padEnd(7))} ${r.title}`);
            for (const e of r.evidence) out(style.dim(`        ${e}`));
            if (r.status === 'PASS') continue;
            if (r.fix) out(`        ${style.cyan('fix:')} ${r.fix}`);
            if (r.commands?.length) out(`        ${style.cyan('run:')} ${commandsLine(r.commands)}`);
            else if (r.noCommand) out(`        ${style.dim(`no command: ${r.noCommand}`)}`);
          }
          out();
          out(
            `${summary.pass} passed, ${summary.warn} warnings, ${summary.fail} failed, ${summary.unknown} unknown`,
          );
        }
        process.exitCode = summary.fail > 0 ? 1 : 0;
      } finally {
        await host.close();
      }
    });
}

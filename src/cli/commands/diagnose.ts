import { createReadStream } from 'node:fs';
import { access, constants, realpath, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { type DiagnoseInput, diagnoseInputs } from '../../diagnose/engine.js';
import { formatReport } from '../../diagnose/format.js';
import { looksBinary, probeFile, probeInput } from '../../diagnose/input-check.js';
import type { DiagnoseReport } from '../../diagnose/types.js';
import {
  diagnoseWindowsFiles,
  isWindowsCapture,
  mergeReports,
  takeWindowsStdin,
} from '../../diagnose/windows-inputs.js';
import { ToolError } from '../../errors.js';
import { EXIT, globals, note, out, printJson, style } from '../output.js';

const HELP = `
Reads guest kernel logs (dmesg, dmesg -T, journalctl -k), Xorg logs, nvidia-smi output,
bhyve stderr and vm-bhyve logs; the kind of each input is detected from its lines.

Fixes are printed as commands ("run:"). --gpu, --vm and --src fill in the GPU, the guest and the
source tree they name; without them the commands keep {gpu} / {vm} placeholders, each explained
below the command ({src} defaults to /usr/local/bhyve-gpu/src).

Examples:
  bhyve-gpu diagnose dmesg.txt
  bhyve-gpu diagnose --gpu 1/0/0 --vm xdev guest-kern.log
  journalctl -k -b | bhyve-gpu diagnose
  bhyve-gpu diagnose /vm/win10/vm-bhyve.log bhyve-stderr.txt --json
  bhyve-gpu diagnose check.json problem.txt   # Windows guest: check script JSON, pnputil text
  ssh guest dmesg | bhyve-gpu diagnose -

Exit codes:
  0  no error finding (warnings and info only)
  1  at least one error finding
  2  usage error, a file that cannot be read, or no log text at all (every input empty or binary)`;

/** What checkInputs needs of an input, once read. */
type Probe = { result(): { head: Buffer; bytes: number; blank: boolean } };

async function openInputs(files: string[]): Promise<DiagnoseInput[]> {
  const inputs: DiagnoseInput[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    if (file === '-' && seen.has('-')) continue;
    if (file === '-') {
      seen.add('-');
      inputs.push({ name: '<stdin>', stream: process.stdin });
      continue;
    }
    let regular = false;
    try {
      await access(file, constants.R_OK);
      const st = await stat(file);
      if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
      regular = st.isFile();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const reason =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EISDIR'
            ? 'is a directory'
            : `cannot be read (${code})`;
      throw new ToolError('unreadable-input', `${file}: ${reason}`, {
        hint: 'pass a readable log file, or - for stdin',
        exitCode: EXIT.usage,
      });
    }
    // The same file named twice (or through another path) is read once.
    const real = await realpath(file);
    if (seen.has(real)) continue;
    seen.add(real);
    // A regular file is read by path straight into the matcher; a FIFO or device as a stream.
    if (regular) inputs.push({ name: file, path: file });
    else inputs.push({ name: file, stream: createReadStream(file, { highWaterMark: 1 << 18 }) });
  }
  return inputs;
}

/**
 * An input with no lines must not look healthy: warn about binary inputs, and refuse (exit 2) when no input
 * held any log text.
 */
function checkInputs(names: string[], probes: Probe[], report: DiagnoseReport): void {
  const empty: string[] = [];
  const binary: string[] = [];
  probes.forEach((probe, i) => {
    const name = names[i] ?? 'input';
    const { head, bytes, blank } = probe.result();
    if (bytes === 0 || blank || report.inputs[i]?.lines === 0) empty.push(name);
    else if (looksBinary(head)) {
      binary.push(name);
      note(`warning: ${name} looks binary, not a log`);
    }
  });
  if (empty.length + binary.length < probes.length) {
    for (const name of empty) note(`warning: ${name} is empty`);
    return;
  }
  const reasons = [
    empty.length > 0 ? `${empty.join(', ')} ${empty.length === 1 ? 'is' : 'are'} empty` : undefined,
    binary.length > 0
      ? `${binary.join(', ')} ${binary.length === 1 ? 'looks' : 'look'} binary, not a log`
      : undefined,
  ].filter((x) => x !== undefined);
  throw new ToolError('no-input', `no log lines read (${reasons.join('; ')})`, {
    hint: 'pass a kernel log, Xorg log, nvidia-smi output or bhyve stderr as text, e.g. dmesg > dmesg.txt',
    exitCode: EXIT.usage,
  });
}

export function register(program: Command): void {
  program
    .command('diagnose')
    .description('explain guest/host logs: ranked findings with fixes')
    .argument('[files...]', 'log files; - reads stdin (also the default when stdin is not a terminal)')
    .option('--gpu <id>', "the GPU's bhyve id, filled into the advised commands (e.g. 1/0/0)")
    .option('--vm <name>', 'the vm-bhyve guest, filled into the advised commands')
    .option('--src <dir>', 'the bhyve-gpu source tree, filled into the advised commands')
    .addHelpText('after', HELP)
    .action(async (files: string[], opts: { gpu?: string; vm?: string; src?: string }, cmd: Command) => {
      for (const [name, value] of Object.entries(opts))
        if (value !== undefined && value.trim() === '')
          throw new ToolError('usage', `--${name} needs a value`, { exitCode: EXIT.usage });
      const g = globals(cmd);
      let names = files;
      if (names.length === 0) {
        if (process.stdin.isTTY) {
          throw new ToolError('usage', 'no input: name log files or pipe a log into stdin', {
            hint: 'bhyve-gpu diagnose dmesg.txt   or   dmesg | bhyve-gpu diagnose',
            exitCode: EXIT.usage,
          });
        }
        names = ['-'];
      }
      // Windows guest captures (docs/windows.md) are documents, not logs: read apart, merged below.
      const windowsFiles: string[] = [];
      for (const n of names) if (n !== '-' && (await isWindowsCapture(n))) windowsFiles.push(n);
      const windows = await diagnoseWindowsFiles(windowsFiles);
      names = names.filter((n) => !windowsFiles.includes(n));
      const inputs = await openInputs(names);
      await takeWindowsStdin(inputs, windows);
      const probes: Probe[] = [];
      const read: DiagnoseInput[] = [];
      for (const input of inputs) {
        if ('stream' in input) {
          const probe = probeInput(input.stream);
          probes.push(probe);
          read.push({ name: input.name, stream: probe.stream });
        } else {
          const facts = await probeFile(input.path);
          probes.push({ result: () => facts });
          read.push(input);
        }
      }
      let report: DiagnoseReport;
      try {
        report = await diagnoseInputs(
          read,
          { gpu: opts.gpu, vm: opts.vm, src: opts.src },
          {
            onChunks: g.debug
              ? (name, s) =>
                  note(
                    `debug: ${name}: read in ${s.chunks} chunks by two threads, ${s.byThread} by the scan thread`,
                  )
              : undefined,
          },
        );
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EISDIR' || err.code === 'EACCES' || err.code === 'ENOENT') {
          const path = typeof err.path === 'string' ? err.path : 'input';
          throw new ToolError('unreadable-input', `${path}: cannot be read (${err.code})`, {
            exitCode: EXIT.usage,
          });
        }
        throw e;
      }
      if (inputs.length > 0)
        checkInputs(
          inputs.map((input) => (input.name === '<stdin>' ? 'stdin' : input.name)),
          probes,
          report,
        );
      report = mergeReports(report, windows);
      if (g.json)
        printJson({
          schemaVersion: report.schemaVersion,
          findings: report.findings,
          inputs: report.inputs,
          ...(report.environment ? { environment: report.environment } : {}),
        });
      else out(formatReport(report, style));
      if (report.findings.some((f) => f.severity === 'error')) process.exitCode = EXIT.failure;
    });
}

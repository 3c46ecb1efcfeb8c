import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { diagnoseStreams } from '../../diagnose/engine.js';
import { formatReport } from '../../diagnose/format.js';
import { ToolError } from '../../errors.js';
import { EXIT, globals, out, printJson, style } from '../output.js';

const HELP = `
Reads guest kernel logs (dmesg, dmesg -T, journalctl -k), Xorg logs, nvidia-smi output,
bhyve stderr and vm-bhyve logs; the kind of each input is detected from its lines.

Examples:
  bhyve-gpu diagnose dmesg.txt
  journalctl -k -b | bhyve-gpu diagnose
  bhyve-gpu diagnose /vm/win10/vm-bhyve.log bhyve-stderr.txt --json
  ssh guest dmesg | bhyve-gpu diagnose -

Exit codes:
  0  no error finding (warnings and info only)
  1  at least one error finding
  2  usage error, or a file that cannot be read`;

async function openInputs(files: string[]): Promise<{ name: string; stream: NodeJS.ReadableStream }[]> {
  const inputs: { name: string; stream: NodeJS.ReadableStream }[] = [];
  for (const file of files) {
    if (file === '-') {
      inputs.push({ name: '<stdin>', stream: process.stdin });
      continue;
    }
    try {
      await access(file, constants.R_OK);
      if ((await stat(file)).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
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
    inputs.push({ name: file, stream: createReadStream(file, { highWaterMark: 1 << 18 }) });
  }
  return inputs;
}

export function register(program: Command): void {
  program
    .command('diagnose')
    .description('explain guest/host logs: ranked findings with fixes')
    .argument('[files...]', 'log files; - reads stdin (also the default when stdin is not a terminal)')
    .addHelpText('after', HELP)
    .action(async (files: string[], _opts: unknown, cmd: Command) => {
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
      const inputs = await openInputs(names);
      let report: Awaited<ReturnType<typeof diagnoseStreams>>;
      try {
        report = await diagnoseStreams(inputs);
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
      if (g.json)
        printJson({ schemaVersion: report.schemaVersion, findings: report.findings, inputs: report.inputs });
      else out(formatReport(report, style));
      if (report.findings.some((f) => f.severity === 'error')) process.exitCode = EXIT.failure;
    });
}

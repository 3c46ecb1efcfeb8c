import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { LocalHost } from '../../host/local.js';
import { openHost } from '../../host/open.js';
import { collect, commandResult } from '../../inventory/collect.js';
import { toSnapshot } from '../../inventory/record.js';
import { globals, note, printJson } from '../output.js';

const HELP = `
Records the probe set (pciconf -lbcv, freebsd-version, sysctl, kldstat, dmesg.boot, acpidump -t,
loader.conf and its siblings, rc.conf, vm-bhyve guest configs; see docs/snapshot-format.md) into one JSON
file that any command replays with --host FILE: for bug reports, demos and tests.

Examples:
  bhyve-gpu snapshot -o host.json
  bhyve-gpu snapshot -o host.json --no-redact
  bhyve-gpu snapshot --host ssh://root@gpu-host -o gpu-host.json

Exit codes: 0 written, 1 failure, 2 usage error.`;

export function register(program: Command): void {
  program
    .command('snapshot')
    .description('record this host (or --host) into a snapshot file')
    .requiredOption('-o, --output <file>', 'where to write the snapshot (- for stdout)')
    .option(
      '--redact',
      'drop values of secret-looking keys (*password*, *secret*, *_key) in config files',
      true,
    )
    .option('--no-redact', 'keep every value')
    .option('--description <text>', 'free text stored in the snapshot')
    .addHelpText('after', HELP)
    .action(async (opts: { output: string; redact: boolean; description?: string }, cmd: Command) => {
      const g = globals(cmd);
      if (g.host !== undefined && g.host !== 'local' && !g.host.startsWith('ssh://'))
        throw new UsageError('snapshot records a live host: use --host local or ssh://...');
      if (opts.output !== '-') checkOutput(opts.output);
      const host = await openHost(g.host, g.root);
      try {
        const raw = await collect(host);
        const uname = commandResult(raw, ['uname', '-a'])?.result?.stdout.split(/\s+/)[1];
        const { snapshot, redacted } = toSnapshot(
          raw,
          {
            hostname: uname || 'unknown',
            capturedAt: new Date().toISOString(),
            ...(opts.description ? { description: opts.description } : {}),
          },
          { redact: opts.redact },
        );
        const text = `${JSON.stringify(snapshot, null, 2)}\n`;
        if (opts.output === '-') process.stdout.write(text);
        else await new LocalHost().writeFile(opts.output, text);
        for (const r of redacted) note(`redacted ${r}`);
        const unknown = raw.commands
          .filter((c) => c.state !== 'ok')
          .map((c) => `${c.argv.join(' ')} (${c.reason})`);
        if (unknown.length) note(`not recorded: ${unknown.join('; ')}`);
        if (g.json && opts.output !== '-')
          printJson({
            schemaVersion: 1,
            output: opts.output,
            commands: snapshot.commands.length,
            files: Object.keys(snapshot.files).length,
            redacted,
          });
        else if (opts.output !== '-')
          note(
            `wrote ${opts.output}: ${snapshot.commands.length} commands, ${Object.keys(snapshot.files).length} files`,
          );
      } finally {
        await host.close();
      }
    });
}

/** The output must be a file in an existing directory: checked before the host is probed. */
function checkOutput(path: string): void {
  const st = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return undefined;
    }
  };
  if (st(path)?.isDirectory())
    throw new UsageError(`-o ${path}: is a directory`, 'give a file name, e.g. -o host.json');
  if (!st(dirname(path))?.isDirectory())
    throw new UsageError(`-o ${path}: directory ${dirname(path)} does not exist`);
}

import type { Command } from 'commander';
import { Option } from 'commander';
import { ToolError, UsageError } from '../../errors.js';
import { guestCheck } from '../../guest/check.js';
import { formatGuestReport } from '../../guest/format.js';
import {
  DISTROS,
  detectDistro,
  detectGpu,
  parseDistro,
  parseGpuSpec,
  planSetup,
  renderSetup,
  runSetupScript,
  type SetupFormat,
} from '../../guest/setup.js';
import { openHost } from '../../host/open.js';
import { SCHEMA_VERSION } from '../../version.js';
import { EXIT, globals, note, out, printJson } from '../output.js';
import { type WindowsCheckFlags, windowsCheck, windowsScript, windowsSetup } from './guest-windows.js';

const CHECK_HELP = `
Reads /sys/bus/pci/devices/* (vendor, device, class, config, irq, resource, driver), nvidia-smi and the
kernel log (dmesg, else journalctl -k) of a Linux guest, and answers: is an NVIDIA GPU visible, does it
report an interrupt pin (0 = the host's bhyve lacks the INTPIN quirk), has it an IRQ, is MSI/MSI-X
enabled, which driver holds it, did the driver initialise it, how much memory and BAR1 it reports.

Examples:
  bhyve-gpu guest check
  bhyve-gpu guest check --json
  bhyve-gpu --host guest-snapshot.json guest check
  bhyve-gpu guest check --from bhyve-gpu-check.json --vm win11   # a Windows guest's capture, on the host

Windows guests: run the script of 'bhyve-gpu guest script --windows' in the guest and read its JSON (or a
'Get-PnpDevice | ConvertTo-Json' capture, or 'pnputil /enum-devices /problem' text) with --from on the host;
--vm and --gpu fill in the host commands of the fixes (see docs/windows.md).

Exit codes:
  0  an NVIDIA GPU is visible and the driver initialised it
  1  no GPU, or the driver did not initialise it (or that is unknown)
  2  usage error`;

const SETUP_HELP = `
Prints (default) a bash script, or cloud-init user-data, that installs build tools and kernel headers,
adds the NVIDIA CUDA apt repository (cuda-keyring), blacklists nouveau and installs the driver that fits
the GPU generation: proprietary modules from the 580 branch for Maxwell, Pascal and Volta, the open
modules (nvidia-open) for Turing and newer. Distribution and GPU are detected when not given.

Examples:
  bhyve-gpu guest setup > setup.sh && sudo bash setup.sh
  bhyve-gpu guest setup --distro ubuntu-24.04 --gpu 10de:1bb3
  bhyve-gpu guest setup --format cloud-init --distro debian-12 --gpu 10de:2331 > user-data
  sudo bhyve-gpu guest setup --run --yes
  bhyve-gpu guest setup --windows --gpu 10de:1e07 > setup-nvidia.ps1   # a Windows guest (docs/windows.md)

Exit codes:
  0  script printed (or run and it succeeded)
  1  the script failed when run
  2  usage error (unknown distribution or GPU, --modules open on a GPU older than Turing,
     --run without --yes)`;

interface SetupFlags {
  distro?: string;
  gpu?: string;
  modules?: 'open' | 'proprietary';
  format: SetupFormat;
  run?: boolean;
  yes?: boolean;
}

export function register(program: Command): void {
  const guest = program
    .command('guest')
    .description('inside a guest: check the GPU, set up the driver (Windows: from a capture)')
    .addHelpText(
      'after',
      `
Run inside the Linux guest that has the GPU (or with --host a guest snapshot from scripts/capture-guest.sh).

Examples:
  bhyve-gpu guest check
  bhyve-gpu guest check --host test/fixtures/guest/h100-real/guest-snapshot.json --json
  bhyve-gpu guest setup                      # print the driver setup script for this guest
  sudo bhyve-gpu guest setup --run --yes

Exit codes: see 'bhyve-gpu guest check --help' and 'bhyve-gpu guest setup --help'.`,
    )
    .action(() => {
      // `bhyve-gpu guest` alone: say which subcommands exist, as a usage error (a JSON one with --json).
      process.stderr.write(guest.helpInformation());
      throw new UsageError(
        'missing subcommand: check, setup or script',
        'bhyve-gpu guest check, bhyve-gpu guest setup, or bhyve-gpu guest script --windows',
      );
    });
  guest
    .command('check')
    .description('is the passed-through NVIDIA GPU visible, interrupt-capable and driven?')
    .option(
      '--from <file>',
      'read a Windows guest capture (check script JSON, Get-PnpDevice JSON, pnputil text)',
    )
    .option('--vm <name>', 'with --from: the vm-bhyve guest, for the fix commands')
    .option('--gpu <id>', 'with --from: the host GPU (bhyve ID or vendor:device) for the fix commands')
    .option('--src <dir>', 'with --from: the FreeBSD source tree for the fix commands')
    .addHelpText('after', CHECK_HELP)
    .action(async (opts: WindowsCheckFlags, cmd: Command) => {
      const g = globals(cmd);
      if (opts.from !== undefined) return windowsCheck({ ...opts, from: opts.from }, g.json === true);
      if (opts.vm !== undefined || opts.gpu !== undefined || opts.src !== undefined)
        throw new UsageError('--vm, --gpu and --src go with --from (a Windows capture)');
      const host = await openHost(g.host, g.root);
      try {
        const report = await guestCheck(host);
        if (g.json) printJson({ schemaVersion: SCHEMA_VERSION, ...report });
        else out(formatGuestReport(report));
        process.exitCode = report.ok ? EXIT.ok : EXIT.failure;
      } finally {
        await host.close();
      }
    });
  guest
    .command('setup')
    .description('print (or run) the NVIDIA driver setup for this guest')
    .addOption(new Option('--distro <name>', 'target distribution').choices([...DISTROS]))
    .option('--gpu <id>', 'GPU PCI id, e.g. 10de:1bb3 (default: the first NVIDIA GPU found)')
    .addOption(
      new Option(
        '--modules <flavour>',
        'kernel modules: needed when the GPU is not in the table; open needs Turing or newer',
      ).choices(['open', 'proprietary']),
    )
    .addOption(new Option('--format <format>', 'output').choices(['script', 'cloud-init']).default('script'))
    .option('--run', 'run the script on the host (needs root and --yes)')
    .option('-y, --yes', 'confirm --run')
    .option('--windows', 'a Windows guest: print the driver steps and PowerShell install script')
    .option('--from <file>', 'with --windows: take the GPU from a Windows guest capture')
    .addHelpText('after', SETUP_HELP)
    .action(async (opts: SetupFlags & { windows?: boolean; from?: string }, cmd: Command) => {
      const g = globals(cmd);
      if (opts.windows)
        return windowsSetup(
          {
            ...opts,
            format: cmd.getOptionValueSource('format') === 'default' ? undefined : opts.format,
          },
          g.json === true,
        );
      if (opts.from !== undefined) throw new UsageError('--from goes with --windows');
      if (opts.run && opts.format !== 'script') throw new UsageError('--run needs --format script');
      if (opts.run && !opts.yes)
        throw new UsageError(
          '--run installs packages and changes the boot setup: refusing without --yes',
          'review the script (bhyve-gpu guest setup), then run it with --run --yes',
        );
      if (opts.yes && !opts.run) note('--yes only matters with --run: printing the script');
      const host = await openHost(g.host, g.root);
      try {
        const distro = opts.distro !== undefined ? parseDistro(opts.distro) : await detectDistro(host);
        const deviceId = opts.gpu !== undefined ? parseGpuSpec(opts.gpu) : await detectGpu(host);
        const plan = planSetup({
          distro,
          format: opts.format,
          ...(deviceId !== undefined ? { deviceId } : {}),
          ...(opts.modules !== undefined ? { modules: opts.modules } : {}),
        });
        const text = renderSetup(plan, opts.format);
        if (!opts.run) {
          if (g.json) printJson({ schemaVersion: SCHEMA_VERSION, plan, format: opts.format, text });
          else process.stdout.write(text);
          return;
        }
        note(`running the setup script (${plan.packages.join(' ')}) on ${host.description}`);
        const code = await runSetupScript(host, text, (chunk) => process.stderr.write(chunk));
        if (code !== 0) throw new ToolError('setup-failed', `the setup script exited with status ${code}`);
        if (g.json) printJson({ schemaVersion: SCHEMA_VERSION, plan, ran: true, exitCode: code });
        else note('done: reboot the guest, then run `bhyve-gpu guest check`');
      } finally {
        await host.close();
      }
    });
  guest
    .command('script')
    .description('print the PowerShell script that captures a Windows guest for guest check --from')
    .option('--windows', 'the Windows guest script (the only kind: Linux guests run bhyve-gpu itself)')
    .addHelpText(
      'after',
      `
Prints check.ps1: run it in the Windows guest (PowerShell 5.1 or 7, administrator), copy its JSON to the
host, and read it with 'bhyve-gpu guest check --from FILE' or 'bhyve-gpu diagnose FILE'.

Examples:
  bhyve-gpu guest script --windows > check.ps1
  # in the guest: powershell -NoProfile -ExecutionPolicy Bypass -File .\\check.ps1 -OutFile check.json
  bhyve-gpu guest check --from check.json --vm win11`,
    )
    .action((opts: { windows?: boolean }) => {
      if (!opts.windows)
        throw new UsageError(
          'guest script needs --windows',
          'Linux guests run bhyve-gpu guest check directly (or scripts/capture-guest.sh)',
        );
      process.stdout.write(windowsScript());
    });
}

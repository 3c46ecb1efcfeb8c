#!/usr/bin/env node
// `npm run demo`: the main job, `bhyve-gpu doctor`, on the bundled example host (a Tesla P4 on FreeBSD 15.0,
// recorded into examples/hosts/tesla-p4-15.0.json), followed by the plan that fixes what it finds, and how
// to put bhyve-gpu on the PATH. doctor exits 1 there on purpose (the example host has a FAIL to show); the
// demo itself exits 0. The demo's own lines start with "demo:", so they are not taken for bhyve-gpu's.
import { spawnSync } from 'node:child_process';

const host = 'examples/hosts/tesla-p4-15.0.json';
const run = (args) => {
  process.stdout.write(`\n$ bhyve-gpu ${args.join(' ')}\n`);
  return spawnSync(process.execPath, ['dist/cli.js', ...args], { stdio: 'inherit' }).status;
};
const doctor = run(['doctor', '--host', host, '--vm', 'xdev']);
process.stdout.write(
  `demo: doctor exited with status ${doctor} (${doctor === 1 ? 'at least one FAIL, as this example host has' : 'no FAIL'})\n`,
);
run(['attach', '1/0/0', '--vm', 'xdev', '--host', host]);
process.stdout.write(`
demo: to run bhyve-gpu yourself, put it on your PATH:
  npm link                         # this checkout's bhyve-gpu (dist/cli.js), kept up to date by npm run build
or install the single-file bundle with the man page and shell completions (docs/install.md):
  npm run bundle && make install  # as root; PREFIX=/usr/local unless given
`);

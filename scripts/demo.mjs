#!/usr/bin/env node
// `npm run demo`: the main job, `bhyve-gpu doctor`, on the bundled example host (a Tesla P4 on FreeBSD 15.0,
// recorded into examples/hosts/tesla-p4-15.0.json), followed by the plan that fixes what it finds.
// doctor exits 1 there on purpose (the example host has a FAIL to show); the demo itself exits 0.
import { spawnSync } from 'node:child_process';

const host = 'examples/hosts/tesla-p4-15.0.json';
const run = (args) => {
  process.stdout.write(`\n$ bhyve-gpu ${args.join(' ')}\n`);
  return spawnSync(process.execPath, ['dist/cli.js', ...args], { stdio: 'inherit' }).status;
};
const doctor = run(['doctor', '--host', host, '--vm', 'xdev']);
process.stdout.write(
  `(doctor exit status ${doctor}: ${doctor === 1 ? 'at least one FAIL, as this example host has' : 'no FAIL'})\n`,
);
run(['attach', '1/0/0', '--vm', 'xdev', '--host', host]);

#!/usr/bin/env node
import { main } from './cli/main.js';

process.on('SIGINT', () => process.exit(130));
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);

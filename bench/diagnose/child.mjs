// Child of bench/diagnose.mjs: runs the diagnose engine over one file and prints timing and peak RSS as JSON.
// Imports the built engine from dist/ when present, else the TypeScript source (run under --import tsx).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
const root = resolve(import.meta.dirname, '..', '..');
const built = resolve(root, 'dist', 'diagnose', 'engine.js');
const source = resolve(root, 'src', 'diagnose', 'engine.ts');
const useBuilt = existsSync(built) && process.env.BENCH_SOURCE !== '1';
const { diagnoseFiles } = await import(pathToFileURL(useBuilt ? built : source).href);

// As `bhyve-gpu diagnose FILE` reads a regular file: the knowledge base is loaded inside the timed part.
const start = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const report = await diagnoseFiles([{ name: file, path: file }]);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({
    engine: useBuilt ? 'dist' : 'src (tsx)',
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssKiB: process.resourceUsage().maxRSS,
    findings: report.findings.length,
    lines: report.inputs[0]?.lines,
    matched: report.findings.reduce((n, f) => n + f.occurrences, 0),
  }),
);

// Child of bench/diagnose.mjs: runs the diagnose engine over one file and prints timing and peak RSS as JSON:
// the load time (knowledge base and matcher, once per process) apart from the scan of the file.
// Imports the built engine from dist/ when present, else the TypeScript source (run under --import tsx).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
const root = resolve(import.meta.dirname, '..', '..');
const built = resolve(root, 'dist', 'diagnose', 'engine.js');
const source = resolve(root, 'src', 'diagnose', 'engine.ts');
const useBuilt = existsSync(built) && process.env.BENCH_SOURCE !== '1';
const { diagnoseFiles, startScanThread } = await import(pathToFileURL(useBuilt ? built : source).href);
const { PARALLEL_MIN, scanThreads } = await import(
  pathToFileURL(resolve(root, useBuilt ? 'dist' : 'src', 'diagnose', `parallel.${useBuilt ? 'js' : 'ts'}`))
    .href
);
const { Matcher } = await import(
  pathToFileURL(resolve(root, useBuilt ? 'dist' : 'src', 'diagnose', `matcher.${useBuilt ? 'js' : 'ts'}`))
    .href
);

// Loading: the knowledge base (validated), the anchors, the prefilter plan. Once per process. For a file
// of 64 MiB or more the scan thread starts first and boots meanwhile, as in `bhyve-gpu diagnose`.
const large = statSync(file).size >= PARALLEL_MIN;
let t0 = process.hrtime.bigint();
if (large) startScanThread();
new Matcher();
const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

// Throughput: the file read as `bhyve-gpu diagnose FILE` reads a regular file, the knowledge base loaded.
t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const report = await diagnoseFiles([{ name: file, path: file }]);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({
    engine: useBuilt ? 'dist' : 'src (tsx)',
    threads: large ? scanThreads() : 1,
    loadSeconds,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssKiB: process.resourceUsage().maxRSS,
    findings: report.findings.length,
    lines: report.inputs[0]?.lines,
    matched: report.findings.reduce((n, f) => n + f.occurrences, 0),
  }),
);

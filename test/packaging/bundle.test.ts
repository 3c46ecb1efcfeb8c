import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  cpSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { COMMANDS } from '../../src/cli/registry.js';
import { diagnoseFiles } from '../../src/diagnose/engine.js';
import { Matcher } from '../../src/diagnose/matcher.js';
import { planChunks, SCAN_WORKER, ScanThread } from '../../src/diagnose/parallel.js';
import { VERSION } from '../../src/version.js';
import { REPO_ROOT } from '../helpers/corpus.js';
import { cli, tempDir } from '../helpers/snap.js';
import { bundleInto } from './bundle-helper.js';

let dist: string;
/** An empty directory holding only the bundle, the example hosts and a source tree: nothing to resolve. */
let alone: string;
before(() => {
  dist = bundleInto();
  alone = tempDir('bhyve-gpu-alone-');
  copyFileSync(join(dist, 'bhyve-gpu.mjs'), join(alone, 'bhyve-gpu.mjs'));
  for (const f of readdirSync(join(REPO_ROOT, 'examples', 'hosts')))
    if (f.endsWith('.json')) copyFileSync(join(REPO_ROOT, 'examples', 'hosts', f), join(alone, f));
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'trees', '15.0-amd64-makefile-inc'), join(alone, 'tree'), {
    recursive: true,
  });
});

/** The bundle run by node alone: a bare environment, cwd the lone directory, no NODE_PATH. */
function runAlone(args: string[], input = ''): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bhyve-gpu.mjs', ...args], {
    cwd: alone,
    encoding: 'utf8',
    input,
    env: { PATH: dirname(process.execPath), NO_COLOR: '1' },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('the single-file bundle (npm run bundle)', () => {
  it('imports nothing but node built-ins', () => {
    const full = readFileSync(join(dist, 'bhyve-gpu.mjs'), 'utf8');
    assert.match(full, /^#!\/usr\/bin\/env node\n/);
    // Code lines only: JSDoc comments of the bundled packages say `import('./Matcher.js')` too.
    const text = full
      .split('\n')
      .filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l))
      .join('\n');
    const builtins = new Set(builtinModules);
    const specifiers = [
      ...text.matchAll(/^import\s[^;]*?from\s*["']([^"']+)["']/gm),
      ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
      ...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g),
    ].map((m) => m[1] as string);
    const foreign = specifiers.filter((s) => !s.startsWith('node:') && !builtins.has(s));
    assert.deepEqual([...new Set(foreign)], []);
    assert.ok(statSync(join(dist, 'bhyve-gpu.mjs')).mode & 0o100, 'executable');
  });

  it('every data file under src/ is embedded, and code reads data files only through src/assets.ts', () => {
    const text = readFileSync(join(dist, 'bhyve-gpu.mjs'), 'utf8');
    const embedded = JSON.parse(
      /^globalThis\.__BHYVE_GPU_ASSETS__ = (\{.*\});$/m.exec(text)?.[1] ?? '{}',
    ) as Record<string, string>;
    const problems: string[] = [];
    const visit = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        const rel = p.slice(join(REPO_ROOT, 'src').length + 1);
        if (statSync(p).isDirectory()) visit(p);
        else if (!name.endsWith('.ts')) {
          if (!(rel in embedded))
            problems.push(`${rel} is not in the bundle: add its extension in scripts/bundle.mjs`);
        } else if (rel !== 'assets.ts' && /new URL\([^)]*import\.meta\.url/.test(readFileSync(p, 'utf8')))
          problems.push(
            `src/${rel} reads a file beside the module: use assetText/assetBytes (src/assets.ts)`,
          );
      }
    };
    visit(join(REPO_ROOT, 'src'));
    assert.deepEqual(problems, []);
    assert.ok('patch/tree-sitter-c.wasm' in embedded && 'patch/tree-sitter.wasm' in embedded);
  });

  it('keeps every command module lazily initialised', () => {
    const text = readFileSync(join(dist, 'bhyve-gpu.mjs'), 'utf8');
    for (const c of COMMANDS)
      assert.match(text, new RegExp(`var init_${c.name.replaceAll('-', '_')}\\d* = __esm\\(`), c.name);
  });

  it('runs alone: --version, and scan and doctor on every example host, as the sources do', () => {
    const v = runAlone(['--version']);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), VERSION);
    for (const host of readdirSync(join(REPO_ROOT, 'examples', 'hosts')).filter((f) => f.endsWith('.json'))) {
      for (const args of [
        ['scan', '--host', host],
        ['doctor', '--host', host],
        ['doctor', '--host', host, '--json'],
      ]) {
        const b = runAlone(args);
        const s = cli(args.map((a) => (a === host ? join(REPO_ROOT, 'examples', 'hosts', host) : a)));
        assert.ok(b.status === 0 || b.status === 1, `${args.join(' ')}: ${b.stderr}`);
        assert.equal(b.status, s.status, args.join(' '));
        assert.equal(
          b.stdout.replaceAll(host, 'HOST'),
          s.stdout.replaceAll(join(REPO_ROOT, 'examples', 'hosts', host), 'HOST'),
        );
        assert.ok(b.stdout.length > 200);
      }
    }
  });

  it('runs alone: diagnose reads the embedded knowledge base, patch loads the embedded C grammar', () => {
    const d = runAlone(
      ['diagnose', '-'],
      'NVRM: GPU 0000:00:06.0: RmInitAdapter failed! (0x31:0xffff:2767)\n',
    );
    assert.equal(d.status, 1, d.stderr);
    assert.match(d.stdout, /guest\.nvidia\.rm-init-failed/);
    assert.match(d.stdout, /RM_INIT_VBIOS_POST_FAILED \(0x31\), NV_ERR_GENERIC \(0xffff\)/);
    const p = runAlone(['patch', '--src', 'tree', '--dry-run', '--json']);
    assert.equal(p.status, 0, p.stderr);
    const report = JSON.parse(p.stdout) as { syntax?: { checked: boolean; ok: boolean } };
    assert.equal(report.syntax?.checked, true, 'tree-sitter-c loaded from the bundle');
    assert.equal(report.syntax?.ok, true);
  });

  it("embeds diagnose's scan thread: its module scans a file's chunks as the sources do", async () => {
    const log = join(alone, 'chunks.log');
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++)
      lines.push(
        i % 7 === 0
          ? `[ ${i}.000000] NVRM: Xid (PCI:0000:01:00): 13, pid=${i}, Graphics Exception`
          : `[ ${i}.000000] usb 1-1: new high-speed USB device number ${i} using xhci_hcd`,
      );
    writeFileSync(
      log,
      `${lines.join('\n')}\nNVRM: GPU 0000:00:06.0: RmInitAdapter failed! (0x31:0xffff:2767)\n`,
    );
    const matcher = new Matcher();
    // the scan thread's module as the bundle embeds it (scripts/bundle.mjs), started as the bundle starts it
    const full = readFileSync(join(dist, 'bhyve-gpu.mjs'), 'utf8');
    const assets = JSON.parse(
      /^globalThis\.__BHYVE_GPU_ASSETS__ = (\{.*\});$/m.exec(full)?.[1] ?? '{}',
    ) as Record<string, string>;
    const code = Buffer.from(assets['diagnose/scan-worker.mjs'] ?? '', 'base64').toString('utf8');
    assert.ok(code.length > 1000 && code.length < 200_000, `scan-worker module: ${code.length} bytes`);
    const thread = new ScanThread(
      new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
        workerData: { role: SCAN_WORKER },
      }),
    );
    thread.setup(matcher.scanTables());
    const fd = openSync(log, 'r');
    try {
      const plan = planChunks(statSync(log).size, 4096);
      thread.offer(fd, plan);
      const results = await thread.collect(0, plan.count);
      assert.ok(
        results.every((r) => r !== undefined),
        'every chunk reported',
      );
      let n = 0;
      for (const r of results) if (r) n = matcher.replay('chunks.log', n, r);
      matcher.addInput('chunks.log', readFileSync(log, 'utf8').split('\n').slice(0, 64), n);
      const single = await diagnoseFiles([{ name: 'chunks.log', path: log }], {}, { threads: 1 });
      assert.deepEqual(matcher.report(), single);
      assert.equal(single.findings.find((f) => f.id === 'guest.nvidia.xid')?.occurrences, 572);
    } finally {
      thread.close();
      closeSync(fd);
    }
  });

  it('writes the completions the bundle itself prints', () => {
    for (const [shell, file] of [
      ['bash', 'bhyve-gpu.bash'],
      ['zsh', '_bhyve-gpu'],
      ['tcsh', 'bhyve-gpu.tcsh'],
    ] as const) {
      const r = runAlone(['completion', shell]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(join(dist, 'completions', file), 'utf8'), r.stdout);
    }
  });
});

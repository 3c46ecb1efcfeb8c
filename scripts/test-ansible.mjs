#!/usr/bin/env node
// The Ansible collection with the real engine: builds it with ansible-galaxy, installs the tarball into a
// temporary collections path, and runs the example fleet playbook (ansible/examples/fleet/site.yml)
// against five local-connection hosts. Each host is a recorded host snapshot (varied from
// examples/hosts) with its own --root overlay, and runs bhyve-gpu through a wrapper around dist/cli.js.
//
//   1. --check --diff: per-host diffs, nothing written, the refusing host fails alone;
//   2. a real run: the overlays change, journal entries, the reboot handler, the fleet report;
//   3. a second run: changed=0 on every host;
//   then ansible-doc on every module and the role, the bhyve module in check mode, and ansible-test sanity
//   (the tests that run offline; the others are listed as skipped).
//
// Usage: npm run test:ansible   (needs ansible-playbook: apt-get install ansible; and a built dist/)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const REPO = resolve(dirname(new URL(import.meta.url).pathname), '..');
const COLLECTION = join(REPO, 'ansible/ansible_collections/bhyvegpu/bhyve_gpu');
const PLAYBOOK = join(REPO, 'ansible/examples/fleet/site.yml');
const MODULES = [
  'bhyve_gpu_facts',
  'bhyve_gpu_doctor',
  'bhyve_gpu_attach',
  'bhyve_gpu_detach',
  'bhyve_gpu_bhyve',
];

let failures = 0;
function check(ok, what, detail = '') {
  if (ok) console.log(`ok   ${what}`);
  else {
    failures += 1;
    console.log(`FAIL ${what}${detail ? `\n${detail}` : ''}`);
  }
}

function run(argv, options = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

for (const tool of ['ansible-playbook', 'ansible-galaxy', 'ansible-doc']) {
  if (run(['sh', '-c', `command -v ${tool}`]).status !== 0) {
    console.error(`${tool} not found: install Ansible (Debian: apt-get install ansible), then run again`);
    process.exit(1);
  }
}
if (!existsSync(join(REPO, 'dist/cli.js'))) {
  console.error('dist/cli.js missing: run npm run build first');
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'bhyve-gpu-ansible-'));
const keep = process.env.KEEP_TMP === '1';

// --- the collection, built and installed as a user would --------------------------------------------
const built = run(['ansible-galaxy', 'collection', 'build', COLLECTION, '--output-path', join(tmp, 'dist')]);
check(built.status === 0, 'ansible-galaxy collection build', built.out);
const tarball = readdirSync(join(tmp, 'dist')).find((f) => f.endsWith('.tar.gz'));
check(tarball === 'bhyvegpu-bhyve_gpu-0.1.0.tar.gz', `built ${tarball}`);
const collections = join(tmp, 'collections');
const installed = run([
  'ansible-galaxy',
  'collection',
  'install',
  '--offline',
  join(tmp, 'dist', tarball ?? 'missing'),
  '-p',
  collections,
]);
check(installed.status === 0, 'ansible-galaxy collection install (the built tarball)', installed.out);

const env = {
  ...process.env,
  ANSIBLE_COLLECTIONS_PATH: collections,
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_FORCE_COLOR: '0',
  ANSIBLE_RETRY_FILES_ENABLED: '0',
  ANSIBLE_LOCAL_TEMP: join(tmp, 'ansible-local'),
  ANSIBLE_REMOTE_TEMP: join(tmp, 'ansible-remote'),
  ANSIBLE_DEPRECATION_WARNINGS: '0',
  ANSIBLE_LOCALHOST_WARNING: '0',
  ANSIBLE_INVENTORY_UNPARSED_WARNING: '0',
  // A host's python in these local hosts is the controller's.
  ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
  NO_COLOR: '1',
};

// --- bhyve-gpu for the "hosts": a wrapper around the built CLI ----------------------------------------
const wrapper = join(tmp, 'bhyve-gpu');
writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${join(REPO, 'dist/cli.js')}' "$@"\n`);
chmodSync(wrapper, 0o755);

// --- five hosts: snapshots varied from the examples, each with an overlay -------------------------------
const example = (name) => JSON.parse(readFileSync(join(REPO, 'examples/hosts', `${name}.json`), 'utf8'));
const sha = (snap, path) =>
  snap.commands.find((c) => c.argv.join(' ') === `sha256 -q ${path}`)?.stdout.trim() ?? '';
function setFile(snap, path, text) {
  snap.files[path] = text;
  snap.missing = snap.missing.filter((p) => p !== path);
}

const hosts = {};
function host(name, snap, vars, overlay = {}) {
  const dir = join(tmp, 'hosts', name);
  const root = join(dir, 'root');
  mkdirSync(root, { recursive: true });
  for (const [path, text] of Object.entries(overlay)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  snap.hostname = name.replace(/[^a-z0-9]/g, '');
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(snap, null, 2));
  // The bundle "already installed" on the host: the role's copy task finds it up to date.
  mkdirSync(join(dir, 'bin'));
  copyFileSync(wrapper, join(dir, 'bin/bhyve-gpu'));
  chmodSync(join(dir, 'bin/bhyve-gpu'), 0o755);
  hosts[name] = {
    ansible_connection: 'local',
    ansible_python_interpreter: '{{ ansible_playbook_python }}',
    bhyve_gpu_install_node: false,
    bhyve_gpu_bundle: wrapper,
    bhyve_gpu_executable: join(dir, 'bin/bhyve-gpu'),
    bhyve_gpu_host: join(dir, 'snapshot.json'),
    bhyve_gpu_root: root,
    ...vars,
  };
  return root;
}

// 1. The Tesla P4 host as recorded: GPU reserved and on ppt0; the guest gets a slot and wired memory.
host('p4-xcloud', example('tesla-p4-15.0'), { bhyve_gpu_gpus: [{ gpu: '10de:1bb3', vm: 'xdev' }] });
// 2. The RTX 2080 Ti host: the stale pptdevs="3/0/0" (now the NIC) goes in the same change.
host('rtx-gpubox', example('rtx2080ti-14.3'), {
  bhyve_gpu_gpus: [{ gpu: '10de:1e07', vm: 'cuda', remove_stale: true }],
});
// 3. The same host without remove_stale: bhyve-gpu refuses (lock-out: the host would lose its NIC).
host('rtx-refuse', example('rtx2080ti-14.3'), { bhyve_gpu_gpus: [{ gpu: '10de:1e07', vm: 'cuda' }] });
// 4. A P4 host with nothing reserved yet (GPU without a driver, no pptdevs), by bhyve ID, with a ROM.
{
  const snap = example('tesla-p4-15.0');
  const pciconf = snap.commands.find((c) => c.argv[0] === 'pciconf');
  pciconf.stdout = pciconf.stdout.replace('ppt0@pci0:1:0:0:', 'none0@pci0:1:0:0:');
  setFile(snap, '/boot/loader.conf', snap.files['/boot/loader.conf'].replace(/^pptdevs=.*\n/m, ''));
  host(
    'p4-fresh',
    snap,
    { bhyve_gpu_gpus: [{ gpu: '1/0/0', vm: 'xdev', rom: '/zdata/vms/roms/p4.rom' }] },
    { '/zdata/vms/roms/p4.rom': 'U\xaa option ROM (test)\n' },
  );
}
// 5. A P4 host whose patched bhyve is installed (manifest matches): the GPU leaves the guest and pptdevs.
{
  const snap = example('tesla-p4-15.0');
  const manifest = {
    format: 'bhyve-gpu-install',
    version: 1,
    installedAt: '2026-11-20T08:00:00.000Z',
    source: { repo: 'https://git.FreeBSD.org/src.git', branch: 'releng/15.0', commit: 'c'.repeat(40) },
    patches: [{ name: 'intpin-quirk', sha256: 'f'.repeat(64) }],
    files: [
      { path: '/usr/sbin/bhyve', sha256: sha(snap, '/usr/sbin/bhyve') },
      { path: '/boot/kernel/vmm.ko', sha256: sha(snap, '/boot/kernel/vmm.ko') },
    ],
    userland: '15.0-RELEASE-p2',
    quirks: ['intpin'],
  };
  host(
    'p4-release',
    snap,
    { bhyve_gpu_detach: [{ gpu: '1/0/0', vm: 'xdev' }], bhyve_gpu_bhyve: { quirks: ['intpin'] } },
    { '/var/db/bhyve-gpu/installed.json': `${JSON.stringify(manifest, null, 2)}\n` },
  );
}

const inventory = join(tmp, 'inventory.yml');
writeFileSync(inventory, JSON.stringify({ all: { children: { gpu_hosts: { hosts } } } }, null, 2));

/** Every file under each overlay with its hash: what a run wrote. */
function treeState() {
  const state = {};
  const base = join(tmp, 'hosts');
  const walk = (dir) => {
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else state[p.slice(base.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  for (const name of Object.keys(hosts)) walk(join(base, name, 'root'));
  return state;
}

/** PLAY RECAP: host -> {ok, changed, failed, ...}. */
function recap(out) {
  const r = {};
  for (const m of out.matchAll(/^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$/gm)) {
    r[m[1]] = Object.fromEntries([...m[2].matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1], Number(x[2])]));
  }
  return r;
}

function playbook(label, extra, reportName) {
  const report = join(tmp, reportName);
  const r = run(
    ['ansible-playbook', '-i', inventory, PLAYBOOK, '-e', `bhyve_gpu_report=${report}`, ...extra],
    { env, cwd: tmp },
  );
  writeFileSync(join(tmp, `${label}.log`), r.out);
  console.log(`-- ansible-playbook ${extra.join(' ')} (exit ${r.status}; log ${join(tmp, `${label}.log`)})`);
  return { ...r, recap: recap(r.out), report };
}

const others = Object.keys(hosts).filter((h) => h !== 'rtx-refuse');
const changing = ['p4-xcloud', 'rtx-gpubox', 'p4-fresh', 'p4-release'];
const refusal = /refusing to attach 2\/0\/0/;

// --- 1. check mode with diffs ---------------------------------------------------------------------------
const before = treeState();
const dry = playbook('check', ['--check', '--diff'], 'report-check.md');
check(dry.status === 2, 'check run: exit 2 (one host failed)', dry.out.slice(-3000));
check(dry.recap['rtx-refuse']?.failed === 1, 'check run: the refusing host fails', JSON.stringify(dry.recap));
check(refusal.test(dry.out), 'check run: the refusal names the GPU and the stale NIC entry');
for (const h of others) check(dry.recap[h]?.failed === 0, `check run: ${h} completes`);
for (const h of changing) check(dry.recap[h]?.changed > 0, `check run: ${h} reports pending changes`);
check(
  /--- before: \/zdata\/vms\/xdev\/xdev\.conf[\s\S]*?\+passthru0="1\/0\/0=6:0"/.test(dry.out),
  'check run: diff of the guest config (p4-xcloud)',
);
check(
  /--- before: \/boot\/loader\.conf[\s\S]*?-pptdevs="3\/0\/0"\n\+pptdevs="2\/0\/0 2\/0\/1 2\/0\/2 2\/0\/3"/.test(
    dry.out,
  ),
  'check run: diff of loader.conf (rtx-gpubox)',
);
check(
  /\+passthru0_options="rom=\/zdata\/vms\/roms\/p4\.rom"/.test(dry.out),
  'check run: diff with the ROM (p4-fresh)',
);
check(/\+pptdevs="1\/0\/0"/.test(dry.out), 'check run: diff adding pptdevs (p4-fresh)');
check(JSON.stringify(treeState()) === JSON.stringify(before), 'check run: nothing written under any overlay');
check(!existsSync(dry.report), 'check run: no report written');

// --- 2. the real run -------------------------------------------------------------------------------------
const real = playbook('apply', [], 'report.md');
check(real.status === 2, 'real run: exit 2 (one host failed)', real.out.slice(-3000));
check(
  real.recap['rtx-refuse']?.failed === 1,
  'real run: the refusing host fails',
  JSON.stringify(real.recap),
);
for (const h of others) check(real.recap[h]?.failed === 0, `real run: ${h} completes`);
for (const h of changing) check(real.recap[h]?.changed > 0, `real run: ${h} changed`);
const file = (h, p) => {
  const f = join(tmp, 'hosts', h, 'root', p);
  return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
};
check(
  /^passthru0="1\/0\/0=6:0"$/m.test(file('p4-xcloud', '/zdata/vms/xdev/xdev.conf') ?? ''),
  'p4-xcloud: guest config written',
);
check(
  /^pptdevs="2\/0\/0 2\/0\/1 2\/0\/2 2\/0\/3"$/m.test(file('rtx-gpubox', '/boot/loader.conf') ?? ''),
  'rtx-gpubox: pptdevs written, the stale entry gone',
);
check(/^pptdevs="1\/0\/0"$/m.test(file('p4-fresh', '/boot/loader.conf') ?? ''), 'p4-fresh: pptdevs written');
check(
  /passthru0_options="rom=\/zdata\/vms\/roms\/p4\.rom"/.test(
    file('p4-fresh', '/zdata/vms/xdev/xdev.conf') ?? '',
  ),
  'p4-fresh: ROM in the guest config',
);
check(
  !/pptdevs/.test(file('p4-release', '/boot/loader.conf') ?? 'pptdevs') &&
    !/passthru0/.test(file('p4-release', '/zdata/vms/xdev/xdev.conf') ?? 'passthru0'),
  'p4-release: GPU detached from pptdevs and the guest',
);
check(file('rtx-refuse', '/boot/loader.conf') === undefined, 'rtx-refuse: nothing written');
for (const h of changing) {
  const j = run([wrapper, 'journal', '--json', '--root', join(tmp, 'hosts', h, 'root')]);
  check(j.status === 0 && JSON.parse(j.stdout).entries.length === 1, `${h}: one journal entry`, j.out);
}
check(
  /rtx-gpubox: attach GPU 2\/0\/0/.test(real.out) &&
    /RUNNING HANDLER \[bhyvegpu\.bhyve_gpu\.bhyve_gpu_host : Reboot pending\]/.test(real.out),
  'real run: pptdevs changed on rtx-gpubox, the reboot handler runs',
);
check(!/p4-xcloud: attach/.test(real.out), 'real run: no reboot for p4-xcloud (GPU already on ppt)');
const report = existsSync(real.report) ? readFileSync(real.report, 'utf8') : '';
check(report.startsWith('# GPU fleet report'), 'fleet report written on the controller', report);
for (const h of Object.keys(hosts)) check(report.includes(`| ${h} |`), `fleet report: a row for ${h}`);
check(
  /\| rtx-refuse \|.*\| FAILED: Attach GPUs: refusing to attach 2\/0\/0/.test(report),
  'fleet report: the refusal',
  report,
);
check(
  /\| p4-xcloud \| 15\.0-RELEASE-p2 \| 1\/0\/0 \| 10de:1bb3 \|.*\| FAIL \(1 fail/.test(report),
  'fleet report: doctor status (P4 needs the INTPIN quirk)',
  report,
);
check(
  /\| p4-release \|.*\| patched intpin \| PASS|\| p4-release \|.*\| patched intpin \| WARN/.test(report),
  'fleet report: patched bhyve with its quirks',
  report,
);

// --- 3. idempotence --------------------------------------------------------------------------------------
const afterReal = treeState();
const again = playbook('again', [], 'report-again.md');
for (const h of Object.keys(hosts))
  check(again.recap[h]?.changed === 0, `second run: ${h} changed=0`, JSON.stringify(again.recap[h]));
check(again.recap['rtx-refuse']?.failed === 1, 'second run: the refusing host still fails alone');
for (const h of others) check(again.recap[h]?.failed === 0, `second run: ${h} completes`);
check(JSON.stringify(treeState()) === JSON.stringify(afterReal), 'second run: no file written');

// --- the bhyve module in check mode on a stock host -----------------------------------------------------
const adhoc = run(
  [
    'ansible',
    'p4-xcloud',
    '-i',
    inventory,
    '--check',
    '--diff',
    '-m',
    'bhyvegpu.bhyve_gpu.bhyve_gpu_bhyve',
    '-a',
    `executable=${wrapper} host=${hosts['p4-xcloud'].bhyve_gpu_host} root=${hosts['p4-xcloud'].bhyve_gpu_root}`,
  ],
  { env, cwd: tmp },
);
check(
  adhoc.status === 0 &&
    /CHANGED/.test(adhoc.out) &&
    /installed bhyve is stock/.test(adhoc.out) &&
    /"releng\/15\.0"/.test(adhoc.out),
  'bhyve module, check mode on a stock host: would fetch releng/15.0, patch, build, install',
  adhoc.out,
);
check(/-state: stock[\s\S]*\+state: patched/.test(adhoc.out), 'bhyve module: diff of the installed bhyve');

// --- ansible-doc --------------------------------------------------------------------------------------------
for (const m of MODULES) {
  const d = run(['ansible-doc', '-t', 'module', `bhyvegpu.bhyve_gpu.${m}`], { env });
  check(
    d.status === 0 &&
      /OPTIONS/.test(d.out) &&
      /EXAMPLES/.test(d.out) &&
      /RETURN VALUES/.test(d.out) &&
      /executable/.test(d.out),
    `ansible-doc ${m}`,
    d.out.slice(0, 2000),
  );
}
const roleDoc = run(['ansible-doc', '-t', 'role', 'bhyvegpu.bhyve_gpu.bhyve_gpu_host'], { env });
check(
  roleDoc.status === 0 && /bhyve_gpu_gpus/.test(roleDoc.out),
  'ansible-doc -t role bhyve_gpu_host',
  roleDoc.out.slice(0, 2000),
);

// --- ansible-test sanity ------------------------------------------------------------------------------------
// The tests that need a virtualenv with packages from PyPI cannot install them offline: they are skipped
// and named; every other sanity test runs on the collection where it lives in the repository.
const VENV_TESTS = [
  'ansible-doc',
  'import',
  'pep8',
  'pylint',
  'runtime-metadata',
  'validate-modules',
  'yamllint',
];
if (run(['sh', '-c', 'command -v ansible-test']).status === 0 && process.env.SKIP_SANITY !== '1') {
  const offline = process.env.ANSIBLE_TEST_ALL === '1' ? [] : VENV_TESTS.flatMap((t) => ['--skip-test', t]);
  // The Python ansible-test itself runs on (its shebang): other interpreters on PATH may lack ansible.
  const exe = run(['sh', '-c', 'command -v ansible-test']).stdout.trim();
  const shebang = readFileSync(exe, 'utf8')
    .split('\n')[0]
    .replace(/^#!\s*/, '')
    .split(/\s+/);
  const version = run([...shebang, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).stdout.trim();
  const s = run(['ansible-test', 'sanity', '--python', version, ...offline], { cwd: COLLECTION, env });
  check(
    s.status === 0,
    `ansible-test sanity${offline.length ? ` (skipped, need PyPI: ${VENV_TESTS.join(', ')})` : ''}`,
    s.out,
  );
  rmSync(join(COLLECTION, 'tests/output'), { recursive: true, force: true });
  if (existsSync(join(COLLECTION, 'tests')) && readdirSync(join(COLLECTION, 'tests')).length === 0)
    rmSync(join(COLLECTION, 'tests'), { recursive: true });
} else console.log('skip ansible-test sanity (ansible-test not installed, or SKIP_SANITY=1)');

if (!keep && failures === 0) rmSync(tmp, { recursive: true, force: true });
else console.log(`files kept in ${tmp}`);
console.log(failures === 0 ? 'test:ansible: all checks passed' : `test:ansible: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../helpers/corpus.js';
import { commandOut, example, tempDir, writeSnapshot } from '../helpers/snap.js';
import { bundleInto } from './bundle-helper.js';

const PORT = join(REPO_ROOT, 'packaging', 'freebsd', 'sysutils', 'bhyve-gpu');
const PREFIX = '/usr/local';

let dist: string;
before(() => {
  dist = bundleInto();
});

function run(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
  });
  return {
    status: r.status ?? -1,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    missing: r.error !== undefined,
  };
}

/** Every file under dir, relative to it, sorted. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function plist(): string[] {
  return readFileSync(join(PORT, 'pkg-plist'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('@'))
    .sort();
}

/** `make install` with the given make into a fresh DESTDIR; returns DESTDIR (undefined: make absent). */
function makeInstall(make: string, cwd = REPO_ROOT, distDir = dist): string | undefined {
  const destdir = tempDir(`bhyve-gpu-destdir-${make}-`);
  const r = run(
    make,
    ['install', `DIST=${distDir}`, `DESTDIR=${destdir}`, `PREFIX=${PREFIX}`, `NODE=${process.execPath}`],
    {
      cwd,
    },
  );
  if (r.missing) return undefined;
  assert.equal(r.status, 0, `${make} install:\n${r.stdout}${r.stderr}`);
  return destdir;
}

/** GNU make is `make` on Linux and `gmake` on FreeBSD; BSD make is `bmake` on Debian and `make` on FreeBSD. */
function whichMake(flavor: 'bsd' | 'gnu'): string | undefined {
  for (const m of flavor === 'bsd' ? ['bmake', 'make'] : ['gmake', 'make']) {
    const v = run(m, ['--version']);
    if (v.missing) continue;
    const gnu = /GNU Make/.test(v.stdout);
    if (gnu === (flavor === 'gnu')) return m;
  }
  return undefined;
}

describe('make install (BSD make and GNU make) and the FreeBSD port', () => {
  for (const flavor of ['bsd', 'gnu'] as const) {
    it(`${flavor === 'bsd' ? 'BSD make' : 'GNU make'}: lays out bin, man8, completions and periodic as pkg-plist lists them`, (t) => {
      const make = whichMake(flavor);
      if (!make) {
        t.skip(`no ${flavor === 'bsd' ? 'BSD make (Debian: apt-get install bmake)' : 'GNU make'}`);
        return;
      }
      const destdir = makeInstall(make) as string;
      const root = join(destdir, PREFIX.slice(1));
      assert.deepEqual(
        files(destdir),
        plist().map((p) => join(PREFIX.slice(1), p)),
      );

      const bin = join(root, 'bin', 'bhyve-gpu');
      assert.equal(readFileSync(bin, 'utf8').split('\n')[0], `#!${process.execPath}`);
      assert.equal(statSync(bin).mode & 0o777, 0o555);
      const version = run(bin, ['--version']);
      assert.equal(version.status, 0, version.stderr);

      const page = gunzipSync(readFileSync(join(root, 'share/man/man8/bhyve-gpu.8.gz'))).toString('utf8');
      assert.equal(page, readFileSync(join(REPO_ROOT, 'docs', 'bhyve-gpu.8'), 'utf8'));
      const periodic = readFileSync(join(root, 'etc/periodic/daily/495.bhyve-gpu'), 'utf8');
      assert.doesNotMatch(periodic, /%%/);
      assert.match(periodic, new RegExp(`daily_bhyve_gpu_program:=${PREFIX}/bin/bhyve-gpu`));
      assert.equal(statSync(join(root, 'etc/periodic/daily/495.bhyve-gpu')).mode & 0o111, 0o111);

      const un = run(make, ['uninstall', `DESTDIR=${destdir}`, `PREFIX=${PREFIX}`]);
      assert.equal(un.status, 0, un.stderr);
      assert.deepEqual(files(destdir), []);
    });
  }

  it('man -l shows the installed page (or mandoc renders it)', (t) => {
    const make = whichMake('bsd') ?? whichMake('gnu');
    if (!make) {
      t.skip('no make');
      return;
    }
    const destdir = makeInstall(make) as string;
    const page = join(destdir, PREFIX.slice(1), 'share/man/man8/bhyve-gpu.8.gz');
    let r = run('man', ['-l', page], { env: { MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80' } });
    if (r.missing) r = run('mandoc', ['-Tutf8', page]);
    if (r.missing) {
      t.skip('neither man nor mandoc is installed (.ci/run installs them)');
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /BHYVE-GPU\(8\)/);
    assert.match(r.stdout, /EXIT STATUS/);
  });

  it('the periodic script: quiet when off, reports a stale pptdevs entry and an overwritten bhyve', (t) => {
    const make = whichMake('bsd') ?? whichMake('gnu');
    if (!make) {
      t.skip('no make');
      return;
    }
    const destdir = makeInstall(make) as string;
    const root = join(destdir, PREFIX.slice(1));
    const script = join(root, 'etc/periodic/daily/495.bhyve-gpu');
    const shellcheck = run('shellcheck', ['-s', 'sh', script]);
    if (!shellcheck.missing) assert.equal(shellcheck.status, 0, shellcheck.stdout);

    const periodic = (env: Record<string, string>) =>
      run('sh', [script], { env: { daily_bhyve_gpu_program: join(root, 'bin', 'bhyve-gpu'), ...env } });
    const off = periodic({});
    assert.deepEqual([off.status, off.stdout], [0, '']);

    const stale = periodic({
      daily_bhyve_gpu_enable: 'YES',
      daily_bhyve_gpu_flags: `--host ${join(REPO_ROOT, 'examples/hosts/rtx2080ti-14.3.json')}`,
    });
    assert.equal(stale.status, 1, stale.stdout + stale.stderr);
    assert.match(stale.stdout, /^FAIL\tpptdevs entries point at devices meant for guests$/m);
    assert.match(stale.stdout, /3\/0\/0 is now igb0/);
    // Only the watched checks: the 2080 Ti's other FAILs (vmm from kld_list, the GPU not reserved) are not mail.
    assert.doesNotMatch(stale.stdout, /vmm\.ko loaded/);

    const snap = example('tesla-p4-15.0');
    const manifest = (sha: string) =>
      JSON.stringify({
        format: 'bhyve-gpu-install',
        version: 1,
        installedAt: '2026-11-20T10:00:00Z',
        source: { repo: 'https://git.FreeBSD.org/src.git', branch: 'releng/15.0', commit: 'a'.repeat(40) },
        patches: [{ name: 'intpin-quirk', sha256: 'b'.repeat(64) }],
        files: [{ path: '/usr/sbin/bhyve', sha256: sha }],
      });
    snap.missing = snap.missing.filter((m) => m !== '/var/db/bhyve-gpu/installed.json');
    snap.files['/var/db/bhyve-gpu/installed.json'] = manifest('0'.repeat(64));
    const overwritten = periodic({
      daily_bhyve_gpu_enable: 'YES',
      daily_bhyve_gpu_flags: `--host ${writeSnapshot(snap)}`,
    });
    assert.equal(overwritten.status, 1, overwritten.stdout + overwritten.stderr);
    assert.match(overwritten.stdout, /^FAIL\tinstalled bhyve$/m);
    assert.match(overwritten.stdout, /\/usr\/sbin\/bhyve changed since bhyve-gpu installed it/);

    snap.files['/var/db/bhyve-gpu/installed.json'] = manifest(
      commandOut(snap, ['sha256', '-q', '/usr/sbin/bhyve']).trim(),
    );
    const good = periodic({
      daily_bhyve_gpu_enable: 'YES',
      daily_bhyve_gpu_flags: `--host ${writeSnapshot(snap)}`,
    });
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /all good \(host\.bhyve host\.pptdevs\)/);

    const broken = periodic({
      daily_bhyve_gpu_enable: 'YES',
      daily_bhyve_gpu_flags: '--host /nonexistent/host.json',
    });
    assert.equal(broken.status, 3);
    assert.match(broken.stdout, /bhyve-gpu doctor failed: .*nonexistent/);
  });

  it('make dist: the release tarball installs with make alone (no npm, no node_modules), as the port does', (t) => {
    const make = whichMake('bsd') ?? whichMake('gnu');
    if (!make) {
      t.skip('no make');
      return;
    }
    const out = dist;
    const r = run(make, ['dist', `DIST=${out}`]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    const tarball = join(out, `bhyve-gpu-${version}.tar.gz`);
    assert.ok(existsSync(tarball));
    const work = tempDir('bhyve-gpu-wrksrc-');
    assert.equal(run('tar', ['-xzf', tarball, '-C', work]).status, 0);
    const wrksrc = join(work, `bhyve-gpu-${version}`);
    assert.ok(!existsSync(join(wrksrc, 'node_modules')));
    const destdir = makeInstall(make, wrksrc, 'dist') as string;
    assert.deepEqual(
      files(destdir),
      plist().map((p) => join(PREFIX.slice(1), p)),
    );

    // The port builds that tarball at the version package.json has.
    const portMakefile = readFileSync(join(PORT, 'Makefile'), 'utf8');
    assert.match(portMakefile, new RegExp(`^DISTVERSION=\\t${version.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(portMakefile, /^PORTNAME=\tbhyve-gpu$/m);
    assert.match(portMakefile, /install DESTDIR=\$\{STAGEDIR\} PREFIX=\$\{PREFIX\}/);
    assert.ok(readFileSync(join(PORT, 'pkg-descr'), 'utf8').length > 100);
  });
});

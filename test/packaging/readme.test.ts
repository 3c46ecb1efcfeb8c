import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/corpus.js';
import { cli } from '../helpers/snap.js';

interface Lockfile {
  packages: Record<string, { hasInstallScript?: boolean; version?: string }>;
}

describe('what a newcomer sees: set-up commands and README blocks', () => {
  it('every dependency with an install script is decided in allowScripts (no npm warning)', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      allowScripts?: Record<string, boolean>;
    };
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
    const withScripts = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    assert.ok(withScripts.length > 0, 'the lockfile names packages with install scripts');
    const decided = Object.keys(pkg.allowScripts ?? {}).map((k) => k.replace(/(.)@.*$/, '$1'));
    assert.deepEqual(
      withScripts.filter((n) => !decided.includes(n)),
      [],
      'run `npm install-scripts ls` and approve or deny these in package.json allowScripts',
    );
    // Nothing native is built: the tree-sitter-c binding stays declined, and is not a run-time dependency.
    assert.equal(pkg.allowScripts?.['tree-sitter-c'], false);
    const deps = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: object }
    ).dependencies;
    assert.ok(!('tree-sitter-c' in deps));
  });

  it("README's example-host blocks are exactly what the commands print", () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    let checked = 0;
    for (const block of readme.matchAll(/```text\n([\s\S]*?)```/g)) {
      for (const part of (block[1] as string).split(/^\$ /m).slice(1)) {
        const [command, ...output] = part.split('\n');
        if (!command?.includes('--host examples/hosts/')) continue;
        const r = cli((command as string).split(' ').slice(1));
        const expected = output.join('\n').replace(/\n+$/, '');
        const printed = `${r.stdout}${r.stderr}`.replace(/\n+$/, '');
        assert.equal(
          expected,
          printed,
          `README.md: the block for "$ ${command}" differs from what it prints`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 4, `${checked} blocks checked`);
  });

  it('npm run demo marks its own lines and ends by saying how to put bhyve-gpu on the PATH', (t) => {
    if (!existsSync(join(REPO_ROOT, 'dist', 'cli.js'))) {
      t.skip('dist/cli.js is not built (npm test builds it first)');
      return;
    }
    const r = spawnSync(process.execPath, ['scripts/demo.mjs'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^demo: doctor exited with status 1 \(at least one FAIL/m);
    assert.doesNotMatch(r.stdout, /^\(doctor exit status/m);
    assert.match(r.stdout, /^demo: to run bhyve-gpu yourself, put it on your PATH:\n {2}npm link /m);
    assert.match(r.stdout, /npm run bundle && make install/);
  });
});

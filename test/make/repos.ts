import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Branches of the test remote, shaped like upstream's and Beckhoff's. */
export const REMOTE_BRANCHES = [
  'releng/14.3',
  'releng/15.0',
  'stable/15',
  'phab/corvink/14.2/nvidia-wip',
  'phab/corvink/15.0/nvidia-wip',
] as const;

export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Test', '-c', 'user.email=test@example.org', '-c', 'init.defaultBranch=main', ...args],
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

function write(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

export interface TestRemote {
  dir: string;
  bare: string;
  url: string;
  work: string;
  /** Add a commit to a branch and push it; returns the new sha. */
  advance(branch: string): string;
}

/** A bare repository (file:// URL) with one or two commits per branch and a tag, made with real git. */
export function makeRemote(): TestRemote {
  const dir = mkdtempSync(join(tmpdir(), 'bhyve-gpu-git-'));
  const work = join(dir, 'work');
  const bare = join(dir, 'remote.git');
  mkdirSync(work);
  gitIn(work, 'init', '--quiet');
  write(work, 'README', 'FreeBSD source (test remote)\n');
  write(work, 'usr.sbin/bhyve/pci_passthru.c', '/* passthru */\n');
  gitIn(work, 'add', '-A');
  gitIn(work, 'commit', '--quiet', '-m', 'base');
  for (const branch of REMOTE_BRANCHES) {
    gitIn(work, 'checkout', '--quiet', '-b', branch, 'main');
    const revision = /(\d+\.\d+)/.exec(branch)?.[1] ?? '15.0';
    write(work, 'sys/conf/newvers.sh', `TYPE="FreeBSD"\nREVISION="${revision}"\nBRANCH="${branch}"\n`);
    gitIn(work, 'add', '-A');
    gitIn(work, 'commit', '--quiet', '-m', `branch ${branch}`);
  }
  gitIn(work, 'tag', '-a', '-m', 'release 15.0', 'release/15.0.0', 'releng/15.0');
  gitIn(dir, 'clone', '--quiet', '--bare', work, bare);
  let counter = 0;
  return {
    dir,
    bare,
    url: `file://${bare}`,
    work,
    advance(branch: string): string {
      gitIn(work, 'checkout', '--quiet', branch);
      counter += 1;
      write(work, 'usr.sbin/bhyve/pci_passthru.c', `/* passthru, change ${counter} */\n`);
      gitIn(work, 'commit', '--quiet', '-am', `change ${counter}`);
      gitIn(work, 'push', '--quiet', bare, branch);
      return gitIn(work, 'rev-parse', 'HEAD').trim();
    },
  };
}

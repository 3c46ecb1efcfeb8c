import { statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { LocalHost } from './local.js';
import { RootedHost } from './rooted.js';
import { SnapshotHost } from './snapshot.js';
import type { Host } from './types.js';

/**
 * Resolve `--host <spec>` (and `--root DIR`) to a Host:
 *   local (default) | ssh://[user@]host[:port] | path to a snapshot JSON file.
 */
export async function openHost(spec: string | undefined, root?: string): Promise<Host> {
  if (root !== undefined) checkRoot(root);
  const s = spec ?? 'local';
  let host: Host;
  if (s === 'local') host = new LocalHost();
  else if (s.startsWith('ssh://')) {
    const { SshHost } = await import('./ssh.js');
    host = await SshHost.connect(s);
  } else if (/^[a-z]+:\/\//.test(s)) {
    throw new UsageError(
      `unsupported host spec: ${s}`,
      'use local, ssh://[user@]host[:port] or a snapshot file path',
    );
  } else host = SnapshotHost.load(s);
  if (root !== undefined)
    return new RootedHost(host, new LocalHost(), root, host.kind === 'snapshot' ? host : undefined);
  return host;
}

/** `--root DIR` must name an existing directory: an unset shell variable must not mean the real root. */
function checkRoot(root: string): void {
  if (root.trim() === '')
    throw new UsageError('--root is empty', 'give the directory to act under, e.g. --root /tmp/image');
  let kind: 'dir' | 'other' | 'none' = 'none';
  try {
    kind = statSync(root).isDirectory() ? 'dir' : 'other';
  } catch {
    kind = 'none';
  }
  if (kind === 'other')
    throw new UsageError(`--root ${root}: not a directory`, 'give the directory to act under, not a file');
  if (kind === 'none')
    throw new UsageError(
      `--root ${root}: no such directory`,
      'create it first (mkdir -p), or check the path',
    );
}

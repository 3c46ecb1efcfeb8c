import { keyedLines } from '../conf/views.js';
import type { Snapshot } from '../host/snapshot-format.js';
import type { RawProbe } from './collect.js';

const SECRET_KEY = /password|secret|_key$/i;

/** Files whose sh-style assignments are redacted (config files, not logs). */
function isConfigFile(path: string): boolean {
  return path.endsWith('.conf') || path.endsWith('.local') || path.includes('/loader.conf');
}

/**
 * Drop the values of keys that look secret (`*password*`, `*secret*`, `*_key`), keeping the line shape so
 * the file still parses: `vnc_password="hunter2"` becomes `vnc_password=""`.
 */
export function redactConfig(text: string): { text: string; redacted: string[] } {
  const redacted: string[] = [];
  const lines = text.split('\n');
  for (const a of keyedLines(text)) {
    if (!SECRET_KEY.test(a.key)) continue;
    const i = a.line - 1;
    const line = lines[i];
    if (line === undefined) continue;
    const m = /^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\+?=)(["']?)/.exec(line);
    if (!m) continue;
    const q = m[2] ?? '';
    lines[i] = `${m[1]}${q}${q}`;
    redacted.push(a.key);
  }
  return { text: lines.join('\n'), redacted };
}

/** A snapshot of one probe pass (the recorder behind `bhyve-gpu snapshot`). */
export function toSnapshot(
  raw: RawProbe,
  meta: { hostname: string; capturedAt: string; description?: string },
  options: { redact: boolean },
): { snapshot: Snapshot; redacted: string[] } {
  const redacted: string[] = [];
  const snapshot: Snapshot = {
    format: 'bhyve-gpu-snapshot',
    version: 1,
    capturedAt: meta.capturedAt,
    hostname: meta.hostname,
    ...(meta.description ? { description: meta.description } : {}),
    commands: [],
    files: {},
    missing: [],
  };
  for (const c of raw.commands) {
    if (c.result)
      snapshot.commands.push({
        argv: c.argv,
        exitCode: c.result.exitCode,
        stdout: c.result.stdout,
        stderr: c.result.stderr,
      });
    else if (c.reason === 'command not found')
      snapshot.commands.push({
        argv: c.argv,
        exitCode: 127,
        stdout: '',
        stderr: `${c.argv[0]}: not found\n`,
      });
  }
  for (const f of raw.files) {
    if (f.state === 'missing') snapshot.missing.push(f.path);
    if (f.state !== 'ok' || f.text === undefined) continue;
    if (options.redact && isConfigFile(f.path)) {
      const r = redactConfig(f.text);
      snapshot.files[f.path] = r.text;
      redacted.push(...r.redacted.map((k) => `${f.path}: ${k}`));
    } else snapshot.files[f.path] = f.text;
  }
  for (const [dir, names] of raw.dirs) {
    if (names === undefined) continue;
    if (names.length === 0) snapshot.missing.push(`${dir}/`);
    else if (dir === '/dev/vmm') for (const n of names) snapshot.files[`${dir}/${n}`] = '';
  }
  return { snapshot, redacted };
}

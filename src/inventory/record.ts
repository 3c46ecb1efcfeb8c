import { keyedLines } from '../conf/views.js';
import type { Snapshot } from '../host/snapshot-format.js';
import type { RawProbe } from './collect.js';
import { NetworkRedactor } from './redact-network.js';

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
  // Network identities: one redactor for every text, so a value reads the same everywhere.
  const net = options.redact ? new NetworkRedactor() : undefined;
  if (net) {
    net.setHostname(meta.hostname);
    for (const c of raw.commands) {
      net.learn(c.argv.join(' '));
      if (c.result) net.learn(`${c.result.stdout}\n${c.result.stderr}`);
    }
    for (const f of raw.files) net.learn(`${f.path}\n${f.text ?? ''}`);
    for (const [dir, names] of raw.dirs) net.learn(`${dir}\n${(names ?? []).join('\n')}`);
  }
  const r = (text: string): string => (net ? net.redact(text) : text);
  const snapshot: Snapshot = {
    format: 'bhyve-gpu-snapshot',
    version: 1,
    capturedAt: meta.capturedAt,
    hostname: r(meta.hostname),
    ...(meta.description ? { description: meta.description } : {}),
    commands: [],
    files: {},
    missing: [],
  };
  for (const c of raw.commands) {
    const argv = c.argv.map(r);
    if (c.result)
      snapshot.commands.push({
        argv,
        exitCode: c.result.exitCode,
        stdout: r(c.result.stdout),
        stderr: r(c.result.stderr),
      });
    else if (c.reason === 'command not found')
      snapshot.commands.push({
        argv,
        exitCode: 127,
        stdout: '',
        stderr: `${c.argv[0]}: not found\n`,
      });
  }
  for (const f of raw.files) {
    const path = r(f.path);
    if (f.state === 'missing') snapshot.missing.push(path);
    if (f.state !== 'ok' || f.text === undefined) continue;
    if (options.redact && isConfigFile(f.path)) {
      const secrets = redactConfig(f.text);
      snapshot.files[path] = r(secrets.text);
      redacted.push(...secrets.redacted.map((k) => `${path}: ${k}`));
    } else snapshot.files[path] = r(f.text);
  }
  for (const [dir, names] of raw.dirs) {
    if (names === undefined) continue;
    if (names.length === 0) snapshot.missing.push(`${r(dir)}/`);
    else if (dir === '/dev/vmm') for (const n of names) snapshot.files[`${dir}/${r(n)}`] = '';
  }
  if (net) {
    const n = net.counts();
    const parts = [
      n.ipv4 ? `${n.ipv4} IPv4 address${n.ipv4 === 1 ? '' : 'es'}` : '',
      n.ipv6 ? `${n.ipv6} IPv6 address${n.ipv6 === 1 ? '' : 'es'}` : '',
      n.mac ? `${n.mac} MAC address${n.mac === 1 ? '' : 'es'}` : '',
      n.hostname ? 'the hostname' : '',
      n.domain ? 'the domain' : '',
    ].filter(Boolean);
    if (parts.length)
      redacted.push(`network identities: ${parts.join(', ')} (the same placeholder everywhere)`);
  }
  return { snapshot, redacted };
}

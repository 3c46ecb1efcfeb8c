import { ParseError } from '../errors.js';
import { jsonErrorOffset, lineColumn } from './json-position.js';

/** A captured command: matched by exact argv. */
export interface SnapshotCommand {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A captured file: text, binary (base64), or a symbolic link. */
export type SnapshotFile = string | { base64: string } | { link: string };

export interface Snapshot {
  format: 'bhyve-gpu-snapshot';
  version: 1;
  capturedAt: string;
  hostname: string;
  /** Free text: what this host is (examples and bug reports). */
  description?: string;
  commands: SnapshotCommand[];
  files: Record<string, SnapshotFile>;
  /** Paths that were looked for and did not exist (so "missing" differs from "not captured"). */
  missing: string[];
}

function fail(source: string, field: string, message: string): never {
  throw new ParseError(
    `invalid snapshot: field "${field}" ${message}`,
    { file: source },
    'docs/snapshot-format.md describes the format; `bhyve-gpu snapshot -o FILE` records a valid one',
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validate parsed JSON as a snapshot. The schema is checked by hand (not zod) because snapshots are loaded
 * on the CLI's cold-start path; every error names the offending field.
 */
export function validateSnapshot(data: unknown, source = 'snapshot'): Snapshot {
  if (!isRecord(data)) fail(source, '(root)', 'must be a JSON object');
  if (data.format !== 'bhyve-gpu-snapshot') fail(source, 'format', 'must be "bhyve-gpu-snapshot"');
  if (data.version !== 1) fail(source, 'version', `must be 1 (got ${JSON.stringify(data.version)})`);
  if (typeof data.capturedAt !== 'string' || Number.isNaN(Date.parse(data.capturedAt)))
    fail(source, 'capturedAt', 'must be an ISO date-time string');
  if (typeof data.hostname !== 'string') fail(source, 'hostname', 'must be a string');
  if (data.description !== undefined && typeof data.description !== 'string')
    fail(source, 'description', 'must be a string');
  if (!Array.isArray(data.commands)) fail(source, 'commands', 'must be an array');
  const commands: SnapshotCommand[] = data.commands.map((c: unknown, i: number) => {
    const f = `commands[${i}]`;
    if (!isRecord(c)) fail(source, f, 'must be an object');
    if (!Array.isArray(c.argv) || c.argv.length === 0 || !c.argv.every((a) => typeof a === 'string'))
      fail(source, `${f}.argv`, 'must be a non-empty array of strings');
    if (typeof c.exitCode !== 'number' || !Number.isInteger(c.exitCode))
      fail(source, `${f}.exitCode`, 'must be an integer');
    if (typeof c.stdout !== 'string') fail(source, `${f}.stdout`, 'must be a string');
    if (c.stderr !== undefined && typeof c.stderr !== 'string')
      fail(source, `${f}.stderr`, 'must be a string');
    return {
      argv: c.argv as string[],
      exitCode: c.exitCode,
      stdout: c.stdout,
      stderr: (c.stderr as string) ?? '',
    };
  });
  const filesRaw = data.files ?? {};
  if (!isRecord(filesRaw)) fail(source, 'files', 'must be an object mapping paths to contents');
  const files: Record<string, SnapshotFile> = {};
  for (const [path, v] of Object.entries(filesRaw)) {
    const f = `files["${path}"]`;
    if (!path.startsWith('/')) fail(source, f, 'must be keyed by an absolute path');
    if (typeof v === 'string') files[path] = v;
    else if (isRecord(v) && typeof v.base64 === 'string') files[path] = { base64: v.base64 };
    else if (isRecord(v) && typeof v.link === 'string') files[path] = { link: v.link };
    else fail(source, f, 'must be a string, {"base64": "..."} or {"link": "..."}');
  }
  const missingRaw = data.missing ?? [];
  if (!Array.isArray(missingRaw) || !missingRaw.every((m) => typeof m === 'string'))
    fail(source, 'missing', 'must be an array of paths');
  const snap: Snapshot = {
    format: 'bhyve-gpu-snapshot',
    version: 1,
    capturedAt: data.capturedAt,
    hostname: data.hostname,
    commands,
    files,
    missing: missingRaw as string[],
  };
  if (typeof data.description === 'string') snap.description = data.description;
  return snap;
}

/** Parse snapshot JSON text; a JSON syntax error is reported with its line and column. */
export function parseSnapshot(text: string, source = 'snapshot'): Snapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const at = jsonErrorOffset(text) ?? 0;
    const { line, column } = lineColumn(text, at);
    // Never echo raw bytes of a binary file to the terminal: only printable ASCII is shown as is.
    if (/[\u0000-\u0008\u000e-\u001f]|\ufffd/.test(text.slice(0, 4096)))
      throw new ParseError(
        'looks binary, not a snapshot (a snapshot is one JSON document)',
        { file: source },
        'pass a snapshot written by `bhyve-gpu snapshot -o FILE` (docs/snapshot-format.md)',
      );
    const near = text
      .slice(at, at + 12)
      .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    throw new ParseError(
      `not valid JSON (column ${column}: "${near}")`,
      { file: source, line },
      'a snapshot is one JSON document (docs/snapshot-format.md)',
    );
  }
  return validateSnapshot(data, source);
}

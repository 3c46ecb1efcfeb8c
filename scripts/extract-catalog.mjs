#!/usr/bin/env node
// Extract the message catalogs that `diagnose` classifies from source checkouts (run by hand, not by the
// build). Writes message templates (text with printf-style placeholders, source file, level, the checkout's
// commit or release), never source code, to src/diagnose/catalog/<source>.json, and prints what changed
// against the catalog already there (new and removed templates), so a refresh shows what to classify.
//
//   node scripts/extract-catalog.mjs --nvidia DIR [--nvidia-rev REV] \
//        --freebsd DIR [--freebsd-rev REV] --vm-bhyve DIR [--vm-bhyve-rev REV] [--out DIR] [--check]
//
//   --nvidia    a checkout of NVIDIA/open-gpu-kernel-modules (kernel-open/, src/nvidia/arch/nvalloc/unix/)
//   --freebsd   a checkout of freebsd-src (usr.sbin/bhyve, sys/amd64/vmm, sys/dev/pci); a partial tree holding
//               just those files works too
//   --vm-bhyve  a checkout of vm-bhyve (lib/)
//   --*-rev     the commit / release recorded in the catalog; read with `git rev-parse HEAD` when DIR is a
//               git work tree and no value is given
//   --check     write nothing; exit 1 when the catalog would change
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

// ---------------------------------------------------------------------------------------------------------
// C: call sites, argument splitting, string literals

/** Remove comments, keeping string and char literals and line breaks (so offsets keep their lines). */
function stripComments(src) {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      const start = i;
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
      out += src.slice(start, i + 1);
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const body = src.slice(i, end < 0 ? src.length : end + 2);
      out += body.replace(/[^\n]/g, ' ');
      i = end < 0 ? src.length : end + 1;
    } else out += c;
  }
  return out;
}

/** The argument texts of the call whose '(' is at `open`, or undefined when unbalanced. */
function callArgs(src, open) {
  const args = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        args.push(src.slice(start, i).trim());
        return args;
      }
    } else if (c === ',' && depth === 1) {
      args.push(src.slice(start, i).trim());
      start = i + 1;
    }
  }
  return undefined;
}

const ESCAPES = { n: '\n', t: '\t', r: '', '"': '"', "'": "'", '\\': '\\', 0: '' };

/**
 * The format string of one argument: adjacent literals joined; a macro between literals (NvP64_fmt, KERN_ERR,
 * __FILE__) becomes a `%s` placeholder, except the printk level macros, which are dropped. Undefined when
 * the argument holds no literal.
 */
function formatOf(arg) {
  let text = '';
  let sawLiteral = false;
  const re = /"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_]*)/g;
  for (let m = re.exec(arg); m !== null; m = re.exec(arg)) {
    if (m[1] !== undefined) {
      sawLiteral = true;
      text += m[1].replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e) =>
        e.length === 3 ? String.fromCharCode(Number.parseInt(e.slice(1), 16)) : (ESCAPES[e] ?? e),
      );
    } else if (/^KERN_|^NV_PRINTF_ADD_PREFIX$/.test(m[2])) {
      // a printk level or a prefix macro: not part of the text
    } else if (sawLiteral || /_fmt$|^NvP64|^NV_PRI|^PRI/.test(m[2])) text += '%s';
  }
  return sawLiteral ? text : undefined;
}

function lineOf(src, offset) {
  let n = 1;
  for (let i = 0; i < offset; i++) if (src.charCodeAt(i) === 10) n++;
  return n;
}

/**
 * Call specifications: name, the argument holding the level (or a fixed level), the argument holding the
 * format, the prefix the message is printed with.
 */
const NVIDIA_CALLS = [
  { name: 'nv_printf', levelArg: 0, fmtArg: 1 },
  { name: 'NV_DEV_PRINTF', levelArg: 0, fmtArg: 2, prefix: 'NVRM: GPU %04x:%02x:%02x.%x: ' },
  { name: 'NV_DEV_PRINTF_STATUS', levelArg: 0, fmtArg: 3, prefix: 'NVRM: GPU %04x:%02x:%02x.%x: ' },
  { name: 'NV_DMA_DEV_PRINTF', levelArg: 0, fmtArg: 2, prefix: 'NVRM: %s: ' },
  { name: 'NV_PRINTF', levelArg: 0, fmtArg: 1, prefix: 'NVRM: %s: ' },
  { name: 'NV_DRM_DEV_LOG_ERR', level: 'error', fmtArg: 1, prefix: '[nvidia-drm] [GPU ID 0x%08x] ' },
  { name: 'NV_DRM_DEV_LOG_WARN', level: 'warning', fmtArg: 1, prefix: '[nvidia-drm] [GPU ID 0x%08x] ' },
  { name: 'NV_DRM_LOG_ERR', level: 'error', fmtArg: 0, prefix: '[nvidia-drm] ' },
  { name: 'printk', levelArg: 0, fmtArg: 0 },
  { name: 'pr_err', level: 'error', fmtArg: 0 },
  { name: 'pr_warn', level: 'warning', fmtArg: 0 },
  { name: 'UVM_ERR_PRINT', level: 'error', fmtArg: 0, prefix: 'nvidia-uvm: %s(): ' },
  { name: 'UVM_ERR_PRINT_RL', level: 'error', fmtArg: 0, prefix: 'nvidia-uvm: %s(): ' },
  { name: 'UVM_ERR_PRINT_NV_STATUS', level: 'error', fmtArg: 0, prefix: 'nvidia-uvm: %s(): ' },
];

const FREEBSD_CALLS = [
  { name: 'errx', level: 'fatal', fmtArg: 1, prefix: 'bhyve: ' },
  { name: 'err', level: 'fatal', fmtArg: 1, prefix: 'bhyve: ', suffix: ': %s' },
  { name: 'warnx', level: 'warning', fmtArg: 0, prefix: 'bhyve: ' },
  { name: 'warn', level: 'warning', fmtArg: 0, prefix: 'bhyve: ', suffix: ': %s' },
  { name: 'EPRINTLN', level: 'error', fmtArg: 0 },
  { name: 'fprintf', level: 'error', fmtArg: 1, needArg0: 'stderr' },
  { name: 'printf', level: 'info', fmtArg: 0 },
  { name: 'device_printf', level: 'info', fmtArg: 1, prefix: '%s: ' },
  { name: 'panic', level: 'fatal', fmtArg: 0, prefix: 'panic: ' },
  { name: 'assert', level: 'assert', fmtArg: -1 },
];

/**
 * Kernel sources (sys/): printf, device_printf and pci_printf have no level of their own; a message is kept
 * when its text says something failed or is unusable (boot information is left out), and one printed only
 * under `if (bootverbose)` is left out too (a normal boot does not show it).
 */
const KERNEL_CALLS = [
  { name: 'printf', level: 'kernel', fmtArg: 0 },
  { name: 'device_printf', level: 'kernel', fmtArg: 1, prefix: '%s: ' },
  { name: 'pci_printf', level: 'kernel', fmtArg: 1, prefix: 'pci%d:%d:%d:%d: ' },
  { name: 'log', levelArg: 0, fmtArg: 1 },
  { name: 'panic', level: 'fatal', fmtArg: 0, prefix: 'panic: ' },
];

const KERNEL_FAILURE =
  /fail|error|\bERR\b|_ERR\b|unable|cannot|can't|\bcant\b|couldn't|could not|not support|unsupported|not available|does not|disabled|invalid|insufficient|corrupt|unexpected|unknown|mismatch|clamped|too many|not (?:\w+ )?aligned|backward|timeout|(?<!de)FAULT|hw\.vmm\./i;
const KERNEL_ERROR =
  /fail|error|\bERR\b|_ERR\b|unable|cannot|can't|\bcant\b|couldn't|could not|invalid|corrupt|(?<!de)FAULT/i;

function levelOf(spec, args) {
  if (spec.level === 'kernel') {
    const fmt = formatOf(args[spec.fmtArg] ?? '') ?? '';
    if (!KERNEL_FAILURE.test(fmt)) return 'info';
    return KERNEL_ERROR.test(fmt) ? 'error' : 'warning';
  }
  if (spec.level) return spec.level;
  if (spec.name === 'log') {
    const a = args[0] ?? '';
    if (/LOG_(EMERG|ALERT|CRIT|ERR)\b/.test(a)) return 'error';
    if (/LOG_WARNING\b/.test(a)) return 'warning';
    return undefined;
  }
  const a = args[spec.levelArg] ?? '';
  if (/NV_DBG_ERRORS|LEVEL_ERROR|KERN_ERR|KERN_CRIT|KERN_ALERT|KERN_EMERG/.test(a)) return 'error';
  if (/NV_DBG_WARNINGS|LEVEL_WARNING|KERN_WARNING/.test(a)) return 'warning';
  return undefined;
}

function extractC(file, src, calls) {
  const out = [];
  const clean = stripComments(src);
  const names = calls.map((c) => c.name).join('|');
  const re = new RegExp(`(?<![A-Za-z0-9_>.])(${names})\\s*\\(`, 'g');
  for (let m = re.exec(clean); m !== null; m = re.exec(clean)) {
    const spec = calls.find((c) => c.name === m[1]);
    const args = callArgs(clean, m.index + m[0].length - 1);
    if (!spec || !args) continue;
    if (spec.needArg0 && args[0] !== spec.needArg0) continue;
    if (/if\s*\(\s*bootverbose\s*\)\s*\{?\s*$/.test(clean.slice(Math.max(0, m.index - 80), m.index)))
      continue;
    const level = levelOf(spec, args);
    if (!level || level === 'info') continue;
    let text;
    if (spec.fmtArg === -1) {
      const expr = (args[0] ?? '').replace(/\s+/g, ' ');
      if (!expr) continue;
      text = `Assertion failed: (${expr}), function %s, file %s, line %d.`;
    } else {
      const fmt = formatOf(args[spec.fmtArg] ?? '');
      if (fmt === undefined || fmt.replace(/%[-#0-9.lzhjt]*[a-zA-Z%]|\s/g, '').length < 4) continue;
      text = `${spec.prefix ?? ''}${fmt.replace(/\n+$/, '')}${spec.suffix ?? ''}`;
      if (spec.name === 'printk' && !/^NVRM|^nvidia|^\[nvidia/.test(text)) text = text.trimStart();
    }
    out.push({ text, level, call: spec.name, file, line: lineOf(clean, m.index) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// vm-bhyve (sh): util::err / util::err_inline / util::warn / util::log

function shellText(s) {
  return s
    .replace(/(?<!\\)\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$\([^)]*\)/g, '%s')
    .replace(/\\(["$`\\])/g, '$1');
}

function extractShell(file, src) {
  const out = [];
  const lines = src.split('\n');
  lines.forEach((line, i) => {
    const re =
      /util::(err_inline|err|warn|log_and_write|log)\s+((?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s;&|]+)(?:\s+(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s;&|]+))*)/g;
    for (let m = re.exec(line); m !== null; m = re.exec(line)) {
      const words = [...m[2].matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s;&|]+)/g)].map(
        (w) => w[1] ?? w[2] ?? w[3] ?? '',
      );
      let msg;
      let level;
      let prefix = '';
      if (m[1] === 'err' || m[1] === 'err_inline') {
        msg = words[0];
        level = 'error';
        prefix = m[1] === 'err' ? 'vm: ERROR: ' : '';
      } else if (m[1] === 'warn') {
        msg = words[0];
        level = 'warning';
        prefix = 'vm: WARNING: ';
      } else {
        // util::log TYPE [GUEST] MESSAGE...: only guest log lines that say something failed
        msg = words[words.length - 1];
        if (!msg || !/fail|fatal|error|unable|not |unsupport|invalid|missing|cannot|can't/i.test(msg))
          continue;
        level = /fatal|fail|error|unable|cannot|can't/i.test(msg) ? 'error' : 'warning';
      }
      if (!msg) continue;
      const text = `${prefix}${shellText(msg)}`;
      if (text.replace(/%s|\s/g, '').length < 6) continue;
      out.push({ text, level, call: `util::${m[1]}`, file, line: i + 1 });
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------

function walk(dir, keep) {
  const files = [];
  if (!existsSync(dir)) return files;
  if (statSync(dir).isFile()) return keep(dir) ? [dir] : [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files.push(...walk(p, keep));
    else if (keep(p)) files.push(p);
  }
  return files;
}

function revision(dir, given) {
  if (given) return given;
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * A partial tree read through a file index holds excerpts whose first line names the file and the commit it
 * was read at (`/* excerpt of OWNER/REPO PATH @ COMMIT ...`): path -> commit for each such file, or
 * undefined when the tree is a plain checkout (every file at one commit).
 */
function excerptRevisions(dir, paths, keep) {
  const revs = {};
  for (const sub of paths)
    for (const f of walk(join(dir, sub), keep)) {
      const head = readFileSync(f, 'latin1').slice(0, 300);
      const m = /^\/\* excerpt of \S+ (\S+) @ ([0-9a-f]{40})\b/.exec(head);
      if (m) revs[relative(dir, f)] = m[2];
    }
  return Object.keys(revs).length > 0 ? revs : undefined;
}

/** The JSON text as biome formats it (2 spaces, objects expanded, short arrays on one line, lineWidth). */
const LINE_WIDTH = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8')).formatter?.lineWidth ?? 80;

function formatJson(value) {
  const flat = (v) => {
    if (Array.isArray(v)) {
      const parts = v.map(flat);
      return parts.every((p) => p !== undefined) ? `[${parts.join(', ')}]` : undefined;
    }
    if (v !== null && typeof v === 'object') return Object.keys(v).length === 0 ? '{}' : undefined;
    return JSON.stringify(v);
  };
  const fmt = (v, indent, lead) => {
    const pad = '  '.repeat(indent);
    if (Array.isArray(v)) {
      const one = flat(v);
      if (one !== undefined && lead.length + one.length <= LINE_WIDTH) return one;
      const inner = '  '.repeat(indent + 1);
      return `[\n${v.map((x) => `${inner}${fmt(x, indent + 1, inner)}`).join(',\n')}\n${pad}]`;
    }
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 0) return '{}';
      const inner = '  '.repeat(indent + 1);
      const lines = keys.map((k) => {
        const head = `${inner}${JSON.stringify(k)}: `;
        return `${head}${fmt(v[k], indent + 1, head)}`;
      });
      return `{\n${lines.join(',\n')}\n${pad}}`;
    }
    return JSON.stringify(v);
  };
  return `${fmt(value, 0, '')}\n`;
}

function entryId(source, text) {
  return `${source}.${createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
}

function dedupe(source, raw) {
  const byId = new Map();
  for (const e of raw) {
    const id = entryId(source, e.text);
    const seen = byId.get(id);
    if (seen) {
      if (!seen.files.includes(e.file)) seen.files.push(e.file);
    } else byId.set(id, { id, text: e.text, level: e.level, call: e.call, files: [e.file] });
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

const SOURCES = {
  nvidia: {
    repository: 'https://github.com/NVIDIA/open-gpu-kernel-modules',
    paths: ['kernel-open', 'src/nvidia/arch/nvalloc/unix'],
    extract(dir) {
      const raw = [];
      for (const sub of this.paths)
        for (const f of walk(join(dir, sub), (p) => p.endsWith('.c') || p.endsWith('.h')))
          raw.push(...extractC(relative(dir, f), readFileSync(f, 'latin1'), NVIDIA_CALLS));
      return raw;
    },
    release(dir) {
      const v = join(dir, 'version.mk');
      if (!existsSync(v)) return undefined;
      return /NVIDIA_VERSION\s*=\s*(\S+)/.exec(readFileSync(v, 'utf8'))?.[1];
    },
  },
  freebsd: {
    repository: 'https://github.com/freebsd/freebsd-src',
    paths: [
      'usr.sbin/bhyve/pci_emul.c',
      'usr.sbin/bhyve/pci_passthru.c',
      'usr.sbin/bhyve/bhyverun.c',
      'usr.sbin/bhyve/amd64/bhyverun_machdep.c',
      'usr.sbin/bhyve/mem.c',
      'usr.sbin/bhyve/bootrom.c',
      'sys/amd64/vmm',
      'sys/dev/vmm',
      'sys/dev/pci/pci.c',
    ],
    extract(dir) {
      const raw = [];
      for (const sub of this.paths)
        for (const f of walk(join(dir, sub), (p) => p.endsWith('.c')))
          raw.push(
            ...extractC(
              relative(dir, f),
              readFileSync(f, 'latin1'),
              relative(dir, f).startsWith('sys/') ? KERNEL_CALLS : FREEBSD_CALLS,
            ),
          );
      return raw;
    },
    release() {
      return undefined;
    },
    fileRevisions(dir) {
      return excerptRevisions(dir, this.paths, (p) => p.endsWith('.c'));
    },
  },
  'vm-bhyve': {
    repository: 'https://github.com/churchers/vm-bhyve',
    paths: ['lib'],
    extract(dir) {
      const raw = [];
      for (const f of walk(join(dir, 'lib'), () => true))
        raw.push(...extractShell(relative(dir, f), readFileSync(f, 'utf8')));
      return raw;
    },
    release() {
      return undefined;
    },
  },
};

function parseArgs(argv) {
  const opts = { out: join(root, 'src', 'diagnose', 'catalog'), check: false, dirs: {}, revs: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--out') opts.out = resolve(value());
    else if (a === '--check') opts.check = true;
    else if (a.endsWith('-rev') && a.slice(2, -4) in SOURCES) opts.revs[a.slice(2, -4)] = value();
    else if (a.slice(2) in SOURCES) opts.dirs[a.slice(2)] = resolve(value());
    else throw new Error(`unknown argument ${a} (see the header of scripts/extract-catalog.mjs)`);
  }
  if (Object.keys(opts.dirs).length === 0)
    throw new Error('name at least one checkout: --nvidia DIR, --freebsd DIR, --vm-bhyve DIR');
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  let changed = false;
  for (const [source, dir] of Object.entries(opts.dirs)) {
    const spec = SOURCES[source];
    if (!existsSync(dir)) throw new Error(`${dir}: no such directory`);
    const entries = dedupe(source, spec.extract(dir));
    const files = spec.fileRevisions?.(dir);
    const catalog = {
      source,
      origin: {
        repository: spec.repository,
        commit: files && !opts.revs[source] ? 'per file' : revision(dir, opts.revs[source]),
        ...(spec.release(dir) ? { release: spec.release(dir) } : {}),
        paths: spec.paths,
        ...(files
          ? {
              note: 'excerpts of the message calls of each file, read through the GitHub file index; files names the commit each file was read at',
              files,
            }
          : {}),
      },
      extractedBy: 'scripts/extract-catalog.mjs',
      entries,
    };
    const path = join(opts.out, `${source}.json`);
    const before = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { entries: [] };
    const old = new Set(before.entries.map((e) => e.id));
    const now = new Set(entries.map((e) => e.id));
    const added = entries.filter((e) => !old.has(e.id));
    const removed = before.entries.filter((e) => !now.has(e.id));
    console.log(
      `${source}: ${entries.length} templates from ${catalog.origin.commit}${catalog.origin.release ? ` (${catalog.origin.release})` : ''}; ${added.length} new, ${removed.length} gone`,
    );
    for (const e of added) console.log(`  + ${e.id} ${JSON.stringify(e.text.split('\n')[0])}`);
    for (const e of removed) console.log(`  - ${e.id} ${JSON.stringify(e.text.split('\n')[0])}`);
    const text = formatJson(catalog);
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
    changed = true;
    if (!opts.check) {
      writeFileSync(`${path}.tmp`, text);
      renameSync(`${path}.tmp`, path);
    }
  }
  if (opts.check && changed) process.exitCode = 1;
  else if (!opts.check)
    console.log('classify every new template in src/diagnose/catalog/classification.json (see docs)');
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  try {
    main();
  } catch (e) {
    console.error(`extract-catalog: ${e.message}`);
    process.exitCode = 2;
  }
}

/** The call specifications by kind (the catalog tests rebuild source trees from the checked-in catalogs). */
const CALLS = { nvidia: NVIDIA_CALLS, bhyve: FREEBSD_CALLS, kernel: KERNEL_CALLS };

export { CALLS, formatJson };

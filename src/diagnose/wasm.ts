/**
 * Just enough of a WebAssembly assembler for the prefilter kernel (src/diagnose/prefilter.ts). Functions
 * are written in the flat form of the WebAssembly text format, one instruction per line (`;;` comments,
 * `$name` labels on block/loop/if and in br/br_if, locals and functions by name, `offset=N` on loads and
 * stores, constants by name). Keeping the kernel as text here, instead of a binary built by a toolchain,
 * means no build step and no checked-in blob. Opcodes are those of the core and SIMD binary format.
 */

import { setFlagsFromString } from 'node:v8';

/**
 * V8 compiles WebAssembly lazily, each function on its first call, with its baseline compiler (Liftoff),
 * and moves hot functions to its optimising compiler (TurboFan) later, in the background; a running call
 * stays in the code it started with. The kernel is a few hundred instructions that run over every byte
 * of the input, so the first scan in a process spent much of its time in baseline code. The kernel module
 * is therefore compiled at once and optimised (a few milliseconds): these are V8's own flags (`node
 * --v8-options`), set for the compilation of this module only and set back to V8's defaults right after.
 */
const OPTIMISED = '--no-liftoff --no-wasm-lazy-compilation';
const DEFAULTS = '--liftoff --wasm-lazy-compilation';

export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function sleb(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Instructions without immediates. */
const PLAIN: Record<string, number[]> = {
  else: [0x05],
  end: [0x0b],
  return: [0x0f],
  select: [0x1b],
  'i32.eqz': [0x45],
  'i32.eq': [0x46],
  'i32.ne': [0x47],
  'i32.lt_u': [0x49],
  'i32.gt_u': [0x4b],
  'i32.le_u': [0x4d],
  'i32.ge_u': [0x4f],
  'i64.eqz': [0x50],
  'i64.eq': [0x51],
  'i64.ne': [0x52],
  'i32.clz': [0x67],
  'i32.ctz': [0x68],
  'i32.popcnt': [0x69],
  'i32.add': [0x6a],
  'i32.sub': [0x6b],
  'i32.mul': [0x6c],
  'i32.and': [0x71],
  'i32.or': [0x72],
  'i32.xor': [0x73],
  'i32.shl': [0x74],
  'i32.shr_u': [0x76],
  'i64.add': [0x7c],
  'i64.sub': [0x7d],
  'i64.mul': [0x7e],
  'i64.and': [0x83],
  'i64.or': [0x84],
  'i64.xor': [0x85],
  'i64.shl': [0x86],
  'i64.shr_u': [0x88],
  'i32.wrap_i64': [0xa7],
  'i64.extend_i32_u': [0xad],
  'i8x16.swizzle': [0xfd, 0x0e],
  'i8x16.splat': [0xfd, 0x0f],
  'i8x16.eq': [0xfd, 0x23],
  'i8x16.ne': [0xfd, 0x24],
  'v128.and': [0xfd, 0x4e],
  'v128.or': [0xfd, 0x50],
  'v128.xor': [0xfd, 0x51],
  'v128.any_true': [0xfd, 0x53],
  'i8x16.bitmask': [0xfd, 0x64],
  'i8x16.shr_u': [0xfd, 0x6d],
  'i16x8.shr_u': [0xfd, 0x8d, 0x01],
  'i8x16.relaxed_swizzle': [0xfd, 0x80, 0x02],
};

/** Loads and stores: opcode and natural alignment (log2). */
const MEMORY: Record<string, [number[], number]> = {
  'i32.load': [[0x28], 2],
  'i64.load': [[0x29], 3],
  'i32.load8_u': [[0x2d], 0],
  'i32.store': [[0x36], 2],
  'i64.store': [[0x37], 3],
  'v128.load': [[0xfd, 0x00], 4],
  'v128.store': [[0xfd, 0x0b], 4],
};

export interface WasmFunction {
  name: string;
  params: [string, number][];
  results: number[];
  locals: [string, number][];
  /** Flat text-format instructions, one per line. */
  code: string;
}

/** Encode one function body; `functions` names the module's functions (for call) and `constants` values. */
function encodeBody(
  f: WasmFunction,
  functions: string[],
  constants: Record<string, number | bigint>,
): number[] {
  const locals = new Map([...f.params, ...f.locals].map(([n], i) => [n, i]));
  const labels: (string | undefined)[] = [];
  const out: number[] = [];
  const value = (token: string | undefined, line: string): bigint => {
    if (token === undefined) throw new Error(`missing operand: ${line}`);
    if (token in constants) return BigInt(constants[token] as number | bigint);
    if (/^-?(0x[0-9a-f]+|[0-9]+)$/i.test(token)) return BigInt(token);
    throw new Error(`unknown constant ${token}: ${line}`);
  };
  for (const raw of f.code.split('\n')) {
    const line = raw.replace(/;;.*$/, '').trim();
    if (line === '') continue;
    const [name, ...args] = line.split(/\s+/) as [string, ...string[]];
    if (name === 'block' || name === 'loop' || name === 'if') {
      out.push({ block: 0x02, loop: 0x03, if: 0x04 }[name], 0x40);
      labels.push(args[0]);
    } else if (name === 'end') {
      if (labels.length === 0) throw new Error(`${f.name}: end without a block`);
      labels.pop();
      out.push(0x0b);
    } else if (name === 'br' || name === 'br_if') {
      const target = args[0] ?? '';
      const depth = labels.length - 1 - labels.lastIndexOf(target);
      if (!target.startsWith('$') || depth >= labels.length) throw new Error(`unknown label: ${line}`);
      out.push(name === 'br' ? 0x0c : 0x0d, ...uleb(depth));
    } else if (name.startsWith('local.')) {
      const index = locals.get(args[0] ?? '');
      const code = { 'local.get': 0x20, 'local.set': 0x21, 'local.tee': 0x22 }[name];
      if (index === undefined || code === undefined) throw new Error(`bad local access: ${line}`);
      out.push(code, ...uleb(index));
    } else if (name === 'call') {
      const index = functions.indexOf(args[0] ?? '');
      if (index < 0) throw new Error(`unknown function: ${line}`);
      out.push(0x10, ...uleb(index));
    } else if (name === 'i32.const') out.push(0x41, ...sleb(BigInt.asIntN(32, value(args[0], line))));
    else if (name === 'i64.const') out.push(0x42, ...sleb(BigInt.asIntN(64, value(args[0], line))));
    else if (name === 'i64x2.extract_lane') out.push(0xfd, 0x1d, Number(value(args[0], line)));
    else if (name === 'v128.const') {
      if (args.length !== 16) throw new Error(`v128.const needs 16 byte values: ${line}`);
      out.push(0xfd, 0x0c, ...args.map((a) => Number(value(a, line)) & 0xff));
    } else if (name in MEMORY) {
      const [code, align] = MEMORY[name] as [number[], number];
      const offset = args[0]?.startsWith('offset=') ? Number(value(args[0].slice(7), line)) : 0;
      out.push(...code, align, ...uleb(offset));
    } else if (name in PLAIN) out.push(...(PLAIN[name] as number[]));
    else throw new Error(`unknown instruction: ${line}`);
  }
  if (labels.length !== 0) throw new Error(`${f.name}: ${labels.length} block(s) left open`);
  return out;
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function utf8Name(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

/** A module exporting its memory ("memory", minPages pages) and every function. */
export function assemble(
  functions: WasmFunction[],
  constants: Record<string, number | bigint>,
  minPages: number,
): Uint8Array {
  const names = functions.map((f) => f.name);
  const types = functions.map((f) => [
    0x60,
    ...vec(f.params.map(([, t]) => [t])),
    ...vec(f.results.map((t) => [t])),
  ]);
  const code = functions.map((f) => {
    const body = [...vec(f.locals.map(([, t]) => [1, t])), ...encodeBody(f, names, constants), 0x0b];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(minPages)]])),
    ...section(
      7,
      vec([[...utf8Name('memory'), 0x02, 0], ...names.map((n, i) => [...utf8Name(n), 0x00, ...uleb(i)])]),
    ),
    ...section(10, vec(code)),
  ]);
}

/** The parts of the WebAssembly JS API used here (TypeScript's node types do not declare them). */
export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

function api(): WasmApi {
  return (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
}

/** Whether this engine accepts the module (its instructions and their types). */
export function validates(bytes: Uint8Array): boolean {
  return api().validate(bytes);
}

/** Let V8 versions that keep relaxed SIMD behind a flag (Node 20's) accept its instructions. */
export function enableRelaxedSimd(): void {
  if (/^11\.[0-3]\./.test(process.versions.v8)) setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/** A compiled module (WebAssembly.Module): it can be sent to a worker thread and instantiated there. */
export type WasmModule = object;

/** Modules compiled so far, by their bytes (compiling the kernel is most of the cost of an instance). */
const MODULES = new WeakMap<Uint8Array, WasmModule>();

/** Compile a module, once per byte array, optimised at once (see OPTIMISED). */
export function compile(bytes: Uint8Array): WasmModule {
  let module = MODULES.get(bytes);
  if (module === undefined) {
    setFlagsFromString(OPTIMISED);
    try {
      module = new (api().Module)(bytes);
    } finally {
      setFlagsFromString(DEFAULTS);
    }
    MODULES.set(bytes, module);
  }
  return module;
}

/** Instantiate a compiled module that imports nothing; returns its exports. */
export function instantiate(module: WasmModule): Record<string, unknown> {
  return new (api().Instance)(module, {}).exports;
}

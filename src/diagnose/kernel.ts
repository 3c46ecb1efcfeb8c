import { assemble, enableRelaxedSimd, I32, I64, V128, validates } from './wasm.js';

/**
 * The prefilter's WebAssembly kernel (see prefilter.ts for what it does and docs/knowledge-base.md,
 * "Speed"): its memory layout, and its functions in the flat form of the WebAssembly text format,
 * assembled by wasm.ts when first needed.
 */

/** 64-bit multiplicative hash constant (2^64 / golden ratio, odd). */
const HASH = 0x9e3779b97f4a7c15n;
/**
 * The fingerprint bitmap has 2^HASH_BITS bits (64 KiB): with ~700 fingerprints, a position that holds none
 * passes with a chance of about 1 in 750, so few lines pass without an anchor.
 */
const HASH_BITS = 19;

/** The bitmap index of a fingerprint, as the kernel computes it from the bytes in the log. */
export function fingerprintHash(bytes: Uint8Array): number {
  let word = 0n;
  for (let k = bytes.length - 1; k >= 0; k--) word = (word << 8n) | BigInt(bytes[k] as number);
  word = BigInt.asUintN(64, word << BigInt(64 - 8 * bytes.length));
  return Number(BigInt.asUintN(64, word * HASH) >> BigInt(64 - HASH_BITS));
}

// Memory layout (byte offsets).
/** The window tables: per window byte, a low-nibble and a high-nibble table of bucket bits (16 bytes each). */
export const TABLES = 0;
export const WINDOW = 3;
export const STATE = 128;
/** Fingerprint lengths at most (find hashes the word at a window once per length). */
export const MAX_LENGTHS = 8;
/** 16 bytes: find's buckets at each position of the block whose windows it tests. */
export const LANES = STATE + 48;
/** 17 masks of 16 bytes: mask n keeps the first n bytes of a vector. */
export const MASKS = 384;
/** 16 newlines, then 16 bytes of 15 (a nibble mask): find loads them rather than splatting constants. */
export const SPLATS = 672;
export const BITMAP = 1024;
export const SLOTS = BITMAP + (1 << (HASH_BITS - 3)) + 64512;
export const SLOT_COUNT = 16384;
/** The table of seen lines is emptied when this many slots are used (open addressing stays short). */
export const SLOT_LIMIT = SLOT_COUNT / 2;
export const ARENA = SLOTS + SLOT_COUNT * 16;
export const ARENA_SIZE = 1 << 20;
// (page aligned: reads into it are plain page copies; the gap leaves the arena room to be read past)
export const INPUT = ARENA + ARENA_SIZE + 65536;
/** Lines longer than this are handed on each time (not kept in the table). */
const MAX_LINE = 512;
/** Zero bytes kept after the input: the kernel reads up to 16 bytes past a position. */
export const PAD = 32;
export const PAGE = 65536;
/** Bytes per kernel call at most (each call zero-pads its end; the calls end at newlines). */
export const STEP = 1 << 16;
/** The input area: bytes are read (or copied) there and scanned in place. */
export const INPUT_CAPACITY = 2 << 20;

const CONSTANTS = {
  HASH,
  HASH_SHIFT: 64 - HASH_BITS,
  TABLES,
  STATE,
  BITMAP,
  LANES,
  MASKS,
  SPLATS,
  SLOTS,
  SLOT_MASK: SLOT_COUNT - 1,
  MAX_LINE,
};

/**
 * hash_line(p, len): hash of the bytes p[0..len), never 0 (0 marks an empty slot). 16 bytes at a time: the
 * chunks are folded into one vector (rotated by a byte before each, so their order counts), the last one
 * read as the 16 bytes that end the line (a shorter line masked to its length), then the two halves mixed.
 * Equal lines give equal hashes; the table compares the bytes of lines whose hashes are equal.
 */
const HASH_LINE = `
  local.get len
  i32.const 16
  i32.le_u
  if
    local.get p
    v128.load
    local.get len
    i32.const 4
    i32.shl
    v128.load offset=MASKS
    v128.and
    local.set acc
  else
    local.get p
    local.get len
    i32.add
    i32.const 16
    i32.sub
    local.set end
    v128.const 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
    local.set acc
    loop $chunks
      local.get acc
      v128.const 15 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14
      i8x16.swizzle
      local.get p
      v128.load
      v128.xor
      local.set acc
      local.get p
      i32.const 16
      i32.add
      local.tee p
      local.get end
      i32.lt_u
      br_if $chunks
    end
    local.get acc
    v128.const 15 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14
    i8x16.swizzle
    local.get end
    v128.load
    v128.xor
    local.set acc
  end
  local.get acc
  i64x2.extract_lane 0
  local.get acc
  i64x2.extract_lane 1
  i64.const HASH
  i64.mul
  i64.xor
  local.get len
  i64.extend_i32_u
  i64.xor
  i64.const HASH
  i64.mul
  i64.const 32
  i64.shr_u
  i32.wrap_i64
  i32.const 1
  i32.or
`;

/**
 * dmesg_key(p): where the key of the line at p starts: after "[", blanks, digits "." digits "]" and one
 * optional blank (what stripPrefix removes as a dmesg timestamp), after a syslog timestamp (syslog_key),
 * else p. A line ends at a newline or the
 * zero padding, so the scan stops by itself.
 */
const DMESG_KEY = `
  local.get p
  i32.load8_u
  i32.const 91 ;; [
  i32.ne
  if
    local.get p
    call syslog_key
    return
  end
  local.get p
  i32.const 1
  i32.add
  call blanks
  local.set k
  ;; digits "." digits "]"
  local.get k
  call digits
  local.tee d
  local.get k
  i32.eq
  if
    local.get p
    return
  end
  local.get d
  i32.load8_u
  i32.const 46 ;; .
  i32.ne
  if
    local.get p
    return
  end
  local.get d
  i32.const 1
  i32.add
  local.tee k
  call digits
  local.tee d
  local.get k
  i32.eq
  if
    local.get p
    return
  end
  local.get d
  i32.load8_u
  i32.const 93 ;; ]
  i32.ne
  if
    local.get p
    return
  end
  ;; after "]" and one blank if there is one
  local.get d
  i32.const 1
  i32.add
  local.tee d
  local.get d
  i32.load8_u
  i32.const 32
  i32.eq
  i32.add
`;

/**
 * syslog_key(p): where the key of the line at p starts: after a syslog / journal / vm-bhyve timestamp
 * "Mmm dd hh:mm:ss" (a capital, two small letters, blanks, one or two digits, a blank, the time), else p.
 * What stripPrefix removes with it (host, program, pid, or the colon of vm-bhyve's log) stays in the key:
 * lines whose keys are equal give the same text.
 */
const SYSLOG_KEY = `
  local.get p
  i32.load8_u offset=3
  i32.const 32
  i32.ne
  if ;; most lines: no blank after three letters
    local.get p
    return
  end
  local.get p
  i32.const 65 ;; A-Z
  i32.const 90
  call within
  local.get p
  i32.const 1
  i32.add
  i32.const 97 ;; a-z
  i32.const 122
  call within
  i32.and
  local.get p
  i32.const 2
  i32.add
  i32.const 97
  i32.const 122
  call within
  i32.and
  local.get p
  i32.load8_u offset=3
  i32.const 32
  i32.eq
  i32.and
  i32.eqz
  if
    local.get p
    return
  end
  local.get p
  i32.const 3
  i32.add
  call blanks
  local.set k
  ;; one or two digits of the day, then " hh:mm:ss"
  local.get k
  call digits
  local.tee d
  local.get k
  i32.sub
  i32.const 1
  i32.sub
  i32.const 1
  i32.gt_u
  if
    local.get p
    return
  end
  local.get d
  i32.load8_u
  i32.const 32
  i32.eq
  local.get d
  i32.const 1
  i32.add
  call two_digits
  i32.and
  local.get d
  i32.load8_u offset=3
  i32.const 58 ;; :
  i32.eq
  i32.and
  local.get d
  i32.const 4
  i32.add
  call two_digits
  i32.and
  local.get d
  i32.load8_u offset=6
  i32.const 58
  i32.eq
  i32.and
  local.get d
  i32.const 7
  i32.add
  call two_digits
  i32.and
  if
    local.get d
    i32.const 9
    i32.add
    return
  end
  local.get p
`;

/** within(p, lo, hi): 1 when the byte at p is in lo..hi. */
const WITHIN = `
  local.get p
  i32.load8_u
  local.get lo
  i32.sub
  local.get hi
  local.get lo
  i32.sub
  i32.le_u
`;

/** two_digits(p): 1 when the bytes at p and p+1 are ASCII digits. */
const TWO_DIGITS = `
  local.get p
  i32.const 48
  i32.const 57
  call within
  local.get p
  i32.const 1
  i32.add
  i32.const 48
  i32.const 57
  call within
  i32.and
`;

/**
 * A function body skipping bytes from p: returns the first position at or after p whose byte `stop`
 * (instructions taking the byte and leaving non-zero) says ends the run.
 */
function skipUntil(stop: string): string {
  return `
  block $done
    loop $more
      local.get p
      i32.load8_u${stop}
      br_if $done
      local.get p
      i32.const 1
      i32.add
      local.set p
      br $more
    end
  end
  local.get p
`;
}

/** blanks(p): the first position at or after p that holds no blank. */
const BLANKS = skipUntil(`
      i32.const 32
      i32.ne`);

/** digits(p): the first position at or after p that holds no ASCII digit. */
const DIGITS = skipUntil(`
      i32.const 48
      i32.sub
      i32.const 9
      i32.gt_u`);

/** same(a, b, len): 1 when a[0..len) and b[0..len) hold the same bytes (16 at a time). */
const SAME = `
  local.get len
  i32.const 16
  i32.le_u
  if
    local.get a
    v128.load
    local.get b
    v128.load
    v128.xor
    local.get len
    i32.const 4
    i32.shl
    v128.load offset=MASKS
    v128.and
    v128.any_true
    i32.eqz
    return
  end
  block $tail
    loop $chunks
      local.get k
      i32.const 16
      i32.add
      local.get len
      i32.gt_u
      br_if $tail
      local.get a
      local.get k
      i32.add
      v128.load
      local.get b
      local.get k
      i32.add
      v128.load
      v128.xor
      v128.any_true
      if
        i32.const 0
        return
      end
      local.get k
      i32.const 16
      i32.add
      local.set k
      br $chunks
    end
  end
  ;; the 16 bytes that end both (overlapping what was compared)
  local.get a
  local.get len
  i32.add
  i32.const 16
  i32.sub
  v128.load
  local.get b
  local.get len
  i32.add
  i32.const 16
  i32.sub
  v128.load
  v128.xor
  v128.any_true
  i32.eqz
`;

/** Text for find: the buckets that allow window byte j, from the vector of those bytes in local v. */
function lookup(j: number): string {
  return `
  local.get lo${j}
  local.get v
  local.get m4
  v128.and
  i8x16.swizzle
  local.get hi${j}
  local.get v
  i32.const 4
  i16x8.shr_u
  local.get m4
  v128.and
  i8x16.swizzle
  v128.and`;
}

/**
 * For find, with v the 16 bytes at i: the buckets whose window fits the bytes at each of the 16 positions
 * (window byte j is the byte at position + j), left on the stack; v is then scratch.
 */
const WINDOW_BUCKETS = Array.from({ length: WINDOW }, (_, j) =>
  j === 0
    ? lookup(0)
    : `
  local.get i
  v128.load offset=${j}
  local.set v${lookup(j)}
  v128.and`,
).join('');

/**
 * For find: count the newlines in mask nl. Where a line starts is not followed block by block: find looks
 * for it only at a candidate (LINE_START).
 */
const COUNT_NEWLINES = `
  local.get line
  local.get nl
  i32.popcnt
  i32.add
  local.set line`;

/** For find: go on past the 16 bytes at i, which hold no candidate. */
const NEXT_BLOCK = `${COUNT_NEWLINES}
  local.get i
  i32.const 16
  i32.add
  local.set i`;

/**
 * For find, at a candidate q in the block at i (nl: that block's newlines before q): where q's line starts,
 * after the last newline before q, in this block or in one before it, but not before ls (the start of the
 * line the call began in); left in ls. Blocks before are read back 16 bytes at a time: a line is short.
 */
const LINE_START = `
  block $start
    block $found
      local.get nl
      br_if $found
      loop $back
        local.get i
        local.get ls
        i32.le_u
        br_if $start
        local.get i
        i32.const 16
        i32.sub
        local.tee i
        v128.load
        local.get nlv
        i8x16.eq
        i8x16.bitmask
        local.tee nl
        i32.eqz
        br_if $back
      end
    end
    ;; after the last newline of nl's block (at i), or ls if that is later
    local.get i
    i32.const 32
    local.get nl
    i32.clz
    i32.sub
    i32.add
    local.tee nl
    local.get ls
    local.get nl
    local.get ls
    i32.gt_u
    select
    local.set ls
  end`;

/**
 * What the kernel is assembled for (prefilter.ts kernelShape): the fingerprint lengths of a plan, longest
 * first, and per length the buckets (bits) that hold fingerprints of that length.
 */
export interface KernelShape {
  lengths: number[];
  buckets: number[];
}

/** One fingerprint length's test, for find: 1 in the low bit when the word at q hashes into the bitmap. */
function hashTest(length: number): string {
  return `
            local.get w${
              length === 8
                ? ''
                : `
            i64.const ${64 - 8 * length}
            i64.shl`
            }
            i64.const HASH
            i64.mul
            i64.const HASH_SHIFT
            i64.shr_u
            i32.wrap_i64
            local.tee h
            i32.const 3
            i32.shr_u
            i32.load8_u offset=BITMAP
            local.get h
            i32.const 7
            i32.and
            i32.shr_u
            i32.const 1
            i32.and`;
}

/**
 * For find, with w the 8 bytes at q: whether the word of a fingerprint length there hashes into the
 * bitmap; branches to $cand when one does. Written out per length (the kernel is assembled per plan
 * shape): the first (longest) length always, each other one only where q's buckets (LANES) include a
 * bucket holding fingerprints of that length, so the few short anchors cost a hash only in their bucket.
 */
function fingerprintTest(shape: KernelShape): string {
  return shape.lengths
    .map((length, k) => {
      const mask = shape.buckets[k] ?? 0xff;
      if (k === 0 || mask === 0xff)
        return `${hashTest(length)}
            br_if $cand`;
      return `
            block $skip${k}
              local.get q
              local.get i
              i32.sub
              i32.load8_u offset=LANES
              i32.const ${mask}
              i32.and
              i32.eqz
              br_if $skip${k}${hashTest(length)}
              br_if $cand
            end`;
    })
    .join('');
}

/**
 * find(i, end): the first position q in [i, end) where a fingerprint may start: the WINDOW bytes there fit
 * a bucket (the window tables) and the fingerprint-long word there hashes into the bitmap, for one of the
 * fingerprint lengths. Returns q, or end when there is none. Counts the newlines on the way: STATE+8 holds
 * the newlines before the line of q, STATE+4 where that line starts (both read at entry, written at exit).
 * No calls inside, so the tables stay in registers.
 */
function findCode(shape: KernelShape): string {
  const FINGERPRINT_TEST = fingerprintTest(shape);
  return `
  i32.const TABLES
  v128.load offset=0
  local.set lo0
  i32.const TABLES
  v128.load offset=16
  local.set hi0
  i32.const TABLES
  v128.load offset=32
  local.set lo1
  i32.const TABLES
  v128.load offset=48
  local.set hi1
  i32.const TABLES
  v128.load offset=64
  local.set lo2
  i32.const TABLES
  v128.load offset=80
  local.set hi2
  i32.const SPLATS
  v128.load offset=0
  local.set nlv
  i32.const SPLATS
  v128.load offset=16
  local.set m4
  i32.const STATE
  i32.load offset=4
  local.set ls
  i32.const STATE
  i32.load offset=8
  local.set line
  block $none
    loop $outer
      block $hit
        loop $fast
          local.get i
          local.get end
          i32.ge_u
          br_if $none
          ;; nl: the newlines of the 16 bytes at i
          local.get i
          v128.load
          local.tee v
          local.get nlv
          i8x16.eq
          i8x16.bitmask
          local.set nl
          ;; the buckets whose window fits the bytes at each of the 16 positions (a nibble table per byte)
  ${WINDOW_BUCKETS}
          local.tee v
          v128.any_true
          br_if $hit
          ;; no window in these 16 bytes: count their newlines
  ${NEXT_BLOCK}
          br $fast
        end
      end
      ;; some window fits in the 16 bytes at i (v: the buckets at each position)
      i32.const LANES
      local.get v
      v128.store
      local.get v
      v128.const 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
      i8x16.eq
      i8x16.bitmask
      i32.const 0xffff
      i32.xor
      local.set rm
      block $nohit
        block $cand
          loop $hits
            local.get rm
            i32.eqz
            br_if $nohit
            ;; the word at q, shifted to keep each fingerprint length in turn, hashed, tested in the bitmap
            local.get i
            local.get rm
            i32.ctz
            i32.add
            local.tee q
            i64.load
            local.set w
            ${FINGERPRINT_TEST}
            local.get rm
            local.get rm
            i32.const 1
            i32.sub
            i32.and
            local.set rm
            br $hits
          end
        end
        ;; a candidate at q: count the newlines before it in its block, find where its line starts
        local.get nl
        i32.const 1
        local.get q
        local.get i
        i32.sub
        i32.shl
        i32.const 1
        i32.sub
        i32.and
        local.set nl
  ${COUNT_NEWLINES}
  ${LINE_START}
        i32.const STATE
        local.get line
        i32.store offset=8
        i32.const STATE
        local.get ls
        i32.store offset=4
        local.get q
        return
      end
      ;; no fingerprint in these 16 bytes
  ${NEXT_BLOCK}
      br $outer
    end
  end
  i32.const STATE
  local.get ls
  i32.store offset=4
  i32.const STATE
  local.get line
  i32.store offset=8
  local.get end
`;
}

/**
 * scan(end): goes on from the state (STATE+0 position, +4 start of its line, +8 newlines so far) up to
 * end. Returns 0 at the end, or 1 at a new candidate line: STATE+12 its start, +16 its end (the newline or
 * end), +20 the newlines before it, +24 its hash, +28 the free table slot for it (-1: too long to keep),
 * +32 where its key starts. A candidate line seen before is only counted in its table slot.
 */
const SCAN = `
  i32.const 10
  i8x16.splat
  local.set nlv
  i32.const STATE
  i32.load offset=0
  local.set i
  loop $lines
    local.get i
    local.get end
    call find
    local.tee q
    local.get end
    i32.ge_u
    if
      i32.const 0
      return
    end
    i32.const STATE
    i32.load offset=4
    local.set ls
    i32.const STATE
    i32.load offset=8
    local.set line
    ;; the line ends at the next newline after q (or end)
    local.get q
    local.set e
    block $found
      loop $eol
        local.get e
        local.get end
        i32.ge_u
        br_if $found
        local.get e
        v128.load
        local.get nlv
        i8x16.eq
        i8x16.bitmask
        local.tee m
        if
          local.get e
          local.get m
          i32.ctz
          i32.add
          local.set e
          br $found
        end
        local.get e
        i32.const 16
        i32.add
        local.set e
        br $eol
      end
    end
    local.get e
    local.get end
    local.get e
    local.get end
    i32.lt_u
    select
    local.set e
    ;; the key of the line: after a dmesg or syslog timestamp (the same message under another timestamp
    ;; gives the same findings)
    ;; (most lines have neither: no call unless the line starts with "[" or a capital letter)
    local.get ls
    local.set ks
    local.get ls
    i32.load8_u
    local.tee m
    i32.const 91 ;; [
    i32.eq
    local.get m
    i32.const 65 ;; A-Z
    i32.sub
    i32.const 25
    i32.le_u
    i32.or
    if
      local.get ls
      call dmesg_key
      local.set ks
    end
    ;; seen before? (open addressing over 16-byte slots: hash, length, arena address, repeats)
    i32.const -1
    local.set slot
    local.get e
    local.get ks
    i32.sub
    local.tee len
    i32.const MAX_LINE
    i32.le_u
    if
      local.get ks
      local.get len
      call hash_line
      local.tee h
      i32.const SLOT_MASK
      i32.and
      local.set idx
      block $miss
        loop $probe
          local.get idx
          i32.const 4
          i32.shl
          i32.const SLOTS
          i32.add
          local.tee m
          i32.load offset=0
          local.tee q
          i32.eqz
          br_if $miss
          block $next
            local.get q
            local.get h
            i32.ne
            br_if $next
            local.get m
            i32.load offset=4
            local.get len
            i32.ne
            br_if $next
            local.get m
            i32.load offset=8
            local.get ks
            local.get len
            call same
            i32.eqz
            br_if $next
            ;; a repeat: count it, go on after its newline
            local.get m
            local.get m
            i32.load offset=12
            i32.const 1
            i32.add
            i32.store offset=12
            i32.const STATE
            local.get line
            local.get e
            local.get end
            i32.lt_u
            i32.add
            i32.store offset=8
            local.get e
            i32.const 1
            i32.add
            local.set i
            i32.const STATE
            local.get i
            i32.store offset=4
            br $lines
          end
          local.get idx
          i32.const 1
          i32.add
          i32.const SLOT_MASK
          i32.and
          local.set idx
          br $probe
        end
      end
      local.get idx
      local.set slot
    end
  end
  ;; a new line: report it and stop
  i32.const STATE
  local.get ls
  i32.store offset=12
  i32.const STATE
  local.get e
  i32.store offset=16
  i32.const STATE
  local.get line
  i32.store offset=20
  i32.const STATE
  local.get h
  i32.store offset=24
  i32.const STATE
  local.get slot
  i32.store offset=28
  i32.const STATE
  local.get ks
  i32.store offset=32
  local.get e
  i32.const 1
  i32.add
  local.set i
  i32.const STATE
  local.get i
  i32.store offset=0
  i32.const STATE
  local.get i
  i32.store offset=4
  i32.const STATE
  local.get line
  local.get e
  local.get end
  i32.lt_u
  i32.add
  i32.store offset=8
  i32.const 1
`;

/** Kernel modules assembled so far, by their shape. */
const compiled = new Map<string, Uint8Array>();

/**
 * The kernel module's bytes for a plan's shape (assembled once per shape: see fingerprintTest). find's
 * table lookups use i8x16.relaxed_swizzle where the engine has it: its indices are nibbles (0..15), for
 * which it gives what i8x16.swizzle gives, without the extra instruction swizzle needs on x86 to zero
 * lanes for indices of 16 and more. Node 20's V8 has relaxed SIMD behind a flag (enabled for it; from V8
 * 11.4 on it is standard); where it is not there, the kernel is the same with i8x16.swizzle.
 */
export function kernel(shape: KernelShape): Uint8Array {
  const key = `${shape.lengths.join(',')}/${shape.buckets.join(',')}`;
  let bytes = compiled.get(key);
  if (bytes !== undefined) return bytes;
  const relaxed = assembleKernel(true, shape);
  if (!validates(relaxed)) enableRelaxedSimd();
  bytes = validates(relaxed) ? relaxed : assembleKernel(false, shape);
  compiled.set(key, bytes);
  return bytes;
}

/** The kernel module for a plan's shape, with find's lookups as i8x16.relaxed_swizzle or as i8x16.swizzle. */
export function assembleKernel(relaxed: boolean, shape: KernelShape): Uint8Array {
  const code = findCode(shape);
  const find = relaxed ? code.replaceAll('i8x16.swizzle', 'i8x16.relaxed_swizzle') : code;
  return assemble(
    [
      {
        name: 'scan',
        params: [['end', I32]],
        results: [I32],
        locals: [
          ...['i', 'ls', 'line', 'q', 'e', 'h', 'm', 'len', 'slot', 'idx', 'ks'].map(
            (n) => [n, I32] as [string, number],
          ),
          ['nlv', V128],
        ],
        code: SCAN,
      },
      {
        name: 'find',
        params: [
          ['i', I32],
          ['end', I32],
        ],
        results: [I32],
        locals: [
          ...['ls', 'line', 'nl', 'rm', 'q', 'h'].map((n) => [n, I32] as [string, number]),
          ['w', I64],
          ...['v', 'lo0', 'hi0', 'lo1', 'hi1', 'lo2', 'hi2', 'nlv', 'm4'].map(
            (n) => [n, V128] as [string, number],
          ),
        ],
        code: find,
      },
      {
        name: 'hash_line',
        params: [
          ['p', I32],
          ['len', I32],
        ],
        results: [I32],
        locals: [
          ['end', I32],
          ['acc', V128],
        ],
        code: HASH_LINE,
      },
      {
        name: 'dmesg_key',
        params: [['p', I32]],
        results: [I32],
        locals: [
          ['k', I32],
          ['d', I32],
        ],
        code: DMESG_KEY,
      },
      {
        name: 'syslog_key',
        params: [['p', I32]],
        results: [I32],
        locals: [
          ['k', I32],
          ['d', I32],
        ],
        code: SYSLOG_KEY,
      },
      {
        name: 'within',
        params: [
          ['p', I32],
          ['lo', I32],
          ['hi', I32],
        ],
        results: [I32],
        locals: [],
        code: WITHIN,
      },
      {
        name: 'two_digits',
        params: [['p', I32]],
        results: [I32],
        locals: [],
        code: TWO_DIGITS,
      },
      {
        name: 'blanks',
        params: [['p', I32]],
        results: [I32],
        locals: [],
        code: BLANKS,
      },
      {
        name: 'digits',
        params: [['p', I32]],
        results: [I32],
        locals: [],
        code: DIGITS,
      },
      {
        name: 'same',
        params: [
          ['a', I32],
          ['b', I32],
          ['len', I32],
        ],
        results: [I32],
        locals: [['k', I32]],
        code: SAME,
      },
    ],
    CONSTANTS,
    Math.ceil((INPUT + INPUT_CAPACITY + PAD) / PAGE),
  );
}

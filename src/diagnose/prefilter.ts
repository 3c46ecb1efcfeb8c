import { assemble, I32, I64, instantiate, V128, type WasmMemory } from './wasm.js';

/**
 * The first level of the matcher: one pass over each chunk's raw bytes that counts its lines and hands on
 * only the lines that may hold an anchor (a literal some signature needs, src/diagnose/anchors.ts), each
 * distinct line once. Everything else in a log is never decoded.
 *
 * How (a WebAssembly SIMD kernel, written below in the WebAssembly text format):
 * - Every anchor gets a fingerprint: 8 bytes of it (4 or 1 for short anchors) starting at a byte of a small
 *   start set R, chosen to be rare in logs (planPrefilter).
 * - The kernel reads 16 bytes at a time: one compare finds the newlines (counted), two table lookups
 *   (nibble masks) find the bytes of R. At each byte of R it hashes the fingerprint-long word there and
 *   tests the hash in a bitmap of the fingerprints' hashes. A line holding an anchor holds its fingerprint,
 *   so it always passes; a line that passes without an anchor is dropped by the exact second level.
 * - A passing line is looked up in a table of the lines already handed on (hash, length, bytes). A repeat
 *   is only counted there; a new line stops the kernel and goes to the caller, which decides whether it is
 *   kept in the table. So a log that repeats a message costs one decode and one regex run per distinct line.
 */

/**
 * Printable ASCII from the most to the least frequent in GPU passthrough logs, and the share of each in
 * 1/10000 of all bytes (dmesg, journal, lspci, bhyve and vm-bhyve logs: the byte counts of the project
 * corpus). The start set is chosen to be rare by these numbers.
 */
const BYTE_ORDER =
  ' 0e-iroatn:sd1l.fm2pcu3,vb4=gI/SC8A6MPRED5h9x[]NTV7yGUFBk_()wLH|O+X>z<\\#*KQY"WJ@\'q!$~`Zj%&;?{}^';
const BYTE_SHARE = [
  1801, 647, 444, 407, 309, 300, 285, 273, 266, 236, 233, 208, 193, 171, 158, 152, 152, 151, 147, 142, 136,
  128, 110, 109, 95, 95, 93, 92, 90, 89, 88, 85, 84, 82, 81, 81, 80, 80, 73, 70, 66, 65, 64, 63, 63, 62, 62,
  60, 54, 53, 53, 42, 41, 40, 38, 36, 33, 30, 29, 29, 25, 24, 23, 22, 21, 21, 16, 13, 13, 12, 12, 10, 9, 8, 8,
  8, 6, 6, 5, 5, 5, 5, 5, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1,
];

const SHARE = Float64Array.from({ length: 256 }, (_, byte) => {
  const rank = byte < 128 ? BYTE_ORDER.indexOf(String.fromCharCode(byte)) : -1;
  return rank < 0 ? 1e-5 : (BYTE_SHARE[rank] as number) / 10000;
});

/** Estimated share of a byte among log bytes (control and non-ASCII bytes: very rare). */
export function byteShare(byte: number): number {
  return SHARE[byte] as number;
}

export interface Fingerprint {
  /** The anchor it stands for. */
  anchor: string;
  /** Where the fingerprint starts in the anchor's bytes. */
  at: number;
  /** Its bytes: 8 (or 4 or 1) bytes of the anchor, starting at a byte of the start set. */
  bytes: Buffer;
  /** Its index in the kernel's bitmap (fingerprintHash). */
  hash: number;
}

export interface PrefilterPlan {
  /** The start set R. */
  starts: number[];
  /** Fingerprint length by start byte (all fingerprints that start with a byte have the same length). */
  lengths: Map<number, number>;
  fingerprints: Fingerprint[];
}

interface Option {
  at: number;
  length: number;
}

/** Where an anchor's fingerprint may start: 8 bytes where it has them, else 4, else 1 (anchors under 4). */
function optionsOf(anchor: string, bytes: Buffer): Option[] {
  if (bytes.length === 0) throw new Error('an anchor is empty');
  if (bytes.includes(10)) throw new Error(`anchor ${JSON.stringify(anchor)} holds a newline`);
  const out: Option[] = [];
  const min = bytes.length >= 4 ? 4 : 1;
  for (let at = 0; at + min <= bytes.length; at++) {
    if ((bytes[at] as number) >= 128) continue;
    out.push({ at, length: at + 8 <= bytes.length ? 8 : min });
  }
  if (out.length === 0) throw new Error(`anchor ${JSON.stringify(anchor)} has no ASCII byte to start from`);
  return out;
}

const LOG_SHARE = Float64Array.from({ length: 256 }, (_, b) => Math.log(byteShare(b)));

/** Sum of log shares of the bytes: lower is rarer. */
function rarity(bytes: Buffer, at: number, length: number): number {
  let score = 0;
  for (let k = 0; k < length; k++) score += LOG_SHARE[bytes[at + k] as number] as number;
  return score;
}

/**
 * A start set holding a member of every set in `needs`: greedily by the byte that serves most of the
 * sets left per share of log bytes (a weighted set cover), then dropping bytes the others make redundant,
 * most frequent first.
 */
function cover(needs: Set<number>[]): Set<number> {
  const starts = new Set<number>();
  let open = needs;
  while (open.length > 0) {
    const gain = new Map<number, number>();
    for (const set of open) for (const b of set) gain.set(b, (gain.get(b) ?? 0) + 1);
    let pick = -1;
    let pickScore = -1;
    for (const [b, g] of gain) {
      const score = g / byteShare(b);
      if (score > pickScore || (score === pickScore && b < pick)) {
        pick = b;
        pickScore = score;
      }
    }
    starts.add(pick);
    open = open.filter((set) => !set.has(pick));
  }
  for (const b of [...starts].sort((x, y) => byteShare(y) - byteShare(x) || x - y)) {
    starts.delete(b);
    if (needs.some((set) => ![...set].some((x) => starts.has(x)))) starts.add(b);
  }
  return starts;
}

/**
 * Choose the start set, the fingerprint length of each start byte and one fingerprint per anchor.
 * - The start set must hold a start byte of every anchor (one with 8 bytes after it, where the anchor is
 *   long enough). It is grown greedily by the byte that serves most
 *   of the anchors left per share of log bytes (a weighted set cover), then bytes that the others make
 *   redundant are dropped, most frequent first: the kernel stops on few positions.
 * - A start byte's fingerprints are 8 bytes long, unless an anchor that has no 8-byte option needs it (then
 *   4, or 1): such an anchor takes the start byte already shortened, else the one fewest anchors need.
 * - Each anchor then takes its longest fingerprint (as long as its start byte's length), of the rarest
 *   bytes.
 */
export function planPrefilter(anchors: string[]): PrefilterPlan {
  const encoded = [...new Set(anchors)].map((anchor) => {
    const bytes = Buffer.from(anchor, 'utf8');
    return { anchor, bytes, options: optionsOf(anchor, bytes) };
  });
  // Anchors of 8 bytes or more are covered by their 8-byte options only.
  const startBytes = encoded.map(({ bytes, options }) => {
    const longest = Math.max(...options.map((o) => o.length));
    return new Set(options.filter((o) => o.length === longest).map((o) => bytes[o.at] as number));
  });
  const starts = cover(startBytes);
  const usable = encoded.map(({ bytes, options }) =>
    options.filter((o) => starts.has(bytes[o.at] as number)),
  );
  const lengths = new Map([...starts].map((b) => [b, 8]));
  const needs = new Map<number, number>();
  for (const [i, { bytes }] of encoded.entries())
    for (const b of new Set((usable[i] as Option[]).map((o) => bytes[o.at] as number)))
      needs.set(b, (needs.get(b) ?? 0) + 1);
  for (const [i, { bytes }] of encoded.entries()) {
    const options = usable[i] as Option[];
    if (options.some((o) => o.length === 8)) continue;
    const length = Math.max(...options.map((o) => o.length));
    const fits = options.filter((o) => o.length === length);
    const shortened = fits.find((o) => (lengths.get(bytes[o.at] as number) as number) <= length);
    const chosen =
      shortened ??
      [...fits].sort(
        (x, y) => (needs.get(bytes[x.at] as number) ?? 0) - (needs.get(bytes[y.at] as number) ?? 0),
      )[0];
    const b = bytes[(chosen as Option).at] as number;
    lengths.set(b, Math.min(lengths.get(b) as number, length));
  }
  const fingerprints = encoded.map(({ anchor, bytes }, i) => {
    let best: Option | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const o of usable[i] as Option[]) {
      // the kernel hashes as many bytes as the start byte's length: the option must have them
      const length = lengths.get(bytes[o.at] as number) as number;
      if (o.length < length) continue;
      const score = rarity(bytes, o.at, length);
      if (best === undefined || length > best.length || (length === best.length && score < bestScore)) {
        best = { at: o.at, length };
        bestScore = score;
      }
    }
    const o = best as Option;
    const fingerprint = Buffer.from(bytes.subarray(o.at, o.at + o.length));
    return { anchor, at: o.at, bytes: fingerprint, hash: fingerprintHash(fingerprint) };
  });
  return { starts: [...starts].sort((a, b) => a - b), lengths, fingerprints };
}

/** 64-bit multiplicative hash constant (2^64 / golden ratio, odd). */
const HASH = 0x9e3779b97f4a7c15n;
/** The fingerprint bitmap has 2^HASH_BITS bits. */
const HASH_BITS = 16;

/** The bitmap index of a fingerprint, as the kernel computes it from the bytes in the log. */
export function fingerprintHash(bytes: Uint8Array): number {
  let word = 0n;
  for (let k = bytes.length - 1; k >= 0; k--) word = (word << 8n) | BigInt(bytes[k] as number);
  word = BigInt.asUintN(64, word << BigInt(64 - 8 * bytes.length));
  return Number(BigInt.asUintN(64, word * HASH) >> BigInt(64 - HASH_BITS));
}

// Memory layout (byte offsets).
const LO = 0;
const HI = 16;
const STATE = 64;
const SHIFT = 128;
const BITMAP = 512;
const SLOTS = 16384;
const SLOT_COUNT = 16384;
/** The table of seen lines is emptied when this many slots are used (open addressing stays short). */
const SLOT_LIMIT = SLOT_COUNT / 2;
const ARENA = SLOTS + SLOT_COUNT * 16;
const ARENA_SIZE = 1 << 20;
// (page aligned: reads into it are plain page copies; the gap leaves the arena room to be read past)
const INPUT = ARENA + ARENA_SIZE + 65536;
/** Lines longer than this are handed on each time (not kept in the table). */
const MAX_LINE = 512;
/** Zero bytes kept after the input: the kernel reads up to 16 bytes past a position. */
const PAD = 32;
const PAGE = 65536;
/** Bytes per kernel call (see scanInput). */
const STEP = 1 << 16;
/** The input area: bytes are read (or copied) there and scanned in place. */
export const INPUT_CAPACITY = 2 << 20;

const CONSTANTS = {
  HASH,
  HASH_SHIFT: 64 - HASH_BITS,
  LO,
  HI,
  STATE,
  SHIFT,
  BITMAP,
  SLOTS,
  SLOT_MASK: SLOT_COUNT - 1,
  MAX_LINE,
};

/** hash_line(p, len): hash of the bytes p[0..len), never 0 (0 marks an empty slot). */
const HASH_LINE = `
  local.get p
  local.get len
  i32.add
  local.set end
  local.get len
  i64.extend_i32_u
  local.set acc
  block $tail
    loop $words
      local.get p
      i32.const 8
      i32.add
      local.get end
      i32.gt_u
      br_if $tail
      local.get acc
      local.get p
      i64.load
      i64.xor
      i64.const HASH
      i64.mul
      local.tee acc
      local.get acc
      i64.const 29
      i64.shr_u
      i64.xor
      local.set acc
      local.get p
      i32.const 8
      i32.add
      local.set p
      br $words
    end
  end
  local.get end
  local.get p
  i32.sub
  local.tee rem
  if ;; the last 1..7 bytes, masked
    local.get acc
    local.get p
    i64.load
    i64.const 1
    local.get rem
    i32.const 3
    i32.shl
    i64.extend_i32_u
    i64.shl
    i64.const 1
    i64.sub
    i64.and
    i64.xor
    i64.const HASH
    i64.mul
    local.set acc
  end
  local.get acc
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
  local.set k
  block $blanks_done
    loop $blanks
      local.get k
      i32.load8_u
      i32.const 32
      i32.ne
      br_if $blanks_done
      local.get k
      i32.const 1
      i32.add
      local.set k
      br $blanks
    end
  end
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
  local.set k
  block $blanks_done
    loop $blanks
      local.get k
      i32.load8_u
      i32.const 32
      i32.ne
      br_if $blanks_done
      local.get k
      i32.const 1
      i32.add
      local.set k
      br $blanks
    end
  end
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

/** digits(p): the first position at or after p that holds no ASCII digit. */
const DIGITS = `
  block $done
    loop $more
      local.get p
      i32.load8_u
      i32.const 48
      i32.sub
      i32.const 9
      i32.gt_u
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

/** same(a, b, len): 1 when a[0..len) and b[0..len) hold the same bytes. */
const SAME = `
  block $tail
    loop $words
      local.get k
      i32.const 8
      i32.add
      local.get len
      i32.gt_u
      br_if $tail
      local.get a
      local.get k
      i32.add
      i64.load
      local.get b
      local.get k
      i32.add
      i64.load
      i64.ne
      if
        i32.const 0
        return
      end
      local.get k
      i32.const 8
      i32.add
      local.set k
      br $words
    end
  end
  local.get len
  local.get k
  i32.sub
  local.tee len ;; now the bytes left, 0..7
  i32.eqz
  if
    i32.const 1
    return
  end
  local.get a
  local.get k
  i32.add
  i64.load
  local.get b
  local.get k
  i32.add
  i64.load
  i64.xor
  i64.const 64 ;; keep the low len bytes only
  local.get len
  i32.const 3
  i32.shl
  i64.extend_i32_u
  i64.sub
  i64.shl
  i64.eqz
`;

/**
 * scan(end): goes on from the state (STATE+0 position, +4 start of its line, +8 newlines so far) up to
 * end. Returns 0 at the end, or 1 at a new candidate line: STATE+12 its start, +16 its end (the newline or
 * end), +20 the newlines before it, +24 its hash, +28 the free table slot for it (-1: too long to keep).
 */
const SCAN = `
  i32.const LO
  v128.load
  local.set lo
  i32.const HI
  v128.load
  local.set hi
  i32.const 10
  i8x16.splat
  local.set nlv
  i32.const 15
  i8x16.splat
  local.set m4
  i32.const STATE
  i32.load offset=0
  local.set i
  i32.const STATE
  i32.load offset=4
  local.set ls
  i32.const STATE
  i32.load offset=8
  local.set line
  block $done
    loop $blocks
      local.get i
      local.get end
      i32.ge_u
      br_if $done
      ;; nl: newlines of the 16 bytes at i; rm: their bytes in the start set (LO[low nibble] & HI[high nibble])
      local.get i
      v128.load
      local.tee v
      local.get nlv
      i8x16.eq
      i8x16.bitmask
      local.set nl
      local.get lo
      local.get v
      local.get m4
      v128.and
      i8x16.swizzle
      local.get hi
      local.get v
      i32.const 4
      i8x16.shr_u
      i8x16.swizzle
      v128.and
      v128.const 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
      i8x16.ne
      i8x16.bitmask
      local.set rm
      block $nohit
        block $cand
          loop $hits
            local.get rm
            i32.eqz
            br_if $nohit
            ;; the word at q, shifted to keep the fingerprint length of its first byte, hashed
            local.get i
            local.get rm
            i32.ctz
            i32.add
            local.tee q
            i64.load
            local.get q
            i32.load8_u
            i32.load8_u offset=SHIFT
            i64.extend_i32_u
            i64.shl
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
            i32.and
            br_if $cand
            local.get rm
            local.get rm
            i32.const 1
            i32.sub
            i32.and
            local.set rm
            br $hits
          end
        end
        ;; a candidate at q: its line starts after the last newline before q
        local.get nl
        i32.const 1
        local.get q
        local.get i
        i32.sub
        i32.shl
        i32.const 1
        i32.sub
        i32.and
        local.tee below
        if
          local.get line
          local.get below
          i32.popcnt
          i32.add
          local.set line
          local.get i
          i32.const 32
          local.get below
          i32.clz
          i32.sub
          i32.add
          local.set ls
        end
        ;; and ends at the next newline (or end)
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
        ;; the key of the line: the line after a dmesg timestamp "[ 12.345678] " (the same message under
        ;; another timestamp gives the same findings)
        local.get ls
        call dmesg_key
        local.set ks
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
                local.get line
                local.get e
                local.get end
                i32.lt_u
                i32.add
                local.set line
                local.get e
                i32.const 1
                i32.add
                local.tee i
                local.set ls
                br $blocks
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
        local.get line
        local.get e
        local.get end
        i32.lt_u
        i32.add
        local.set line
        local.get e
        i32.const 1
        i32.add
        local.tee i
        local.set ls
        i32.const STATE
        local.get i
        i32.store offset=0
        i32.const STATE
        local.get ls
        i32.store offset=4
        i32.const STATE
        local.get line
        i32.store offset=8
        i32.const 1
        return
      end
      ;; no candidate in these 16 bytes
      local.get nl
      if
        local.get line
        local.get nl
        i32.popcnt
        i32.add
        local.set line
        local.get i
        i32.const 32
        local.get nl
        i32.clz
        i32.sub
        i32.add
        local.set ls
      end
      local.get i
      i32.const 16
      i32.add
      local.set i
      br $blocks
    end
  end
  i32.const STATE
  local.get i
  i32.store offset=0
  i32.const STATE
  local.get ls
  i32.store offset=4
  i32.const STATE
  local.get line
  i32.store offset=8
  i32.const 0
`;

let compiled: Uint8Array | undefined;

function kernel(): Uint8Array {
  compiled ??= assemble(
    [
      {
        name: 'scan',
        params: [['end', I32]],
        results: [I32],
        locals: [
          ...['i', 'ls', 'line', 'nl', 'rm', 'q', 'e', 'h', 'm', 'below', 'len', 'slot', 'idx', 'ks'].map(
            (n) => [n, I32] as [string, number],
          ),
          ...['v', 'lo', 'hi', 'nlv', 'm4'].map((n) => [n, V128] as [string, number]),
        ],
        code: SCAN,
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
          ['acc', I64],
          ['rem', I32],
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
  return compiled;
}

/** What the caller does with the candidate lines. */
export interface LineSink<T> {
  /**
   * A candidate line not seen before (buffer offsets; lineIndex counts newlines from the scan's start).
   * Returns what to remember for its repeats, or undefined to have each repeat handed on again.
   */
  line(start: number, end: number, lineIndex: number): T | undefined;
  /** `count` more lines identical to a remembered one. */
  repeats(entry: T, count: number): void;
}

const PLANS = new WeakMap<string[], PrefilterPlan>();
const FINDERS = new WeakMap<string[], AnchorFinder>();

/** The kernel with its tables for one anchor set, and its table of seen lines. */
export class Prefilter<T> {
  readonly plan: PrefilterPlan;
  /** The exact second level over the same fingerprints (see AnchorFinder). */
  readonly finder: AnchorFinder;
  private readonly memory: WasmMemory;
  private readonly scanFn: (end: number) => number;
  private readonly mem: Uint8Array;
  private readonly state: Uint32Array;
  /** Remembered entries by slot, and the slots in use. */
  private readonly kept: (T | undefined)[] = new Array(SLOT_COUNT);
  private readonly used: number[] = [];
  /** The slots as words: hash, length, arena address, repeats. */
  private readonly slots: Uint32Array;
  private arenaUsed = 0;
  private readonly tail = new Uint8Array(PAD);

  /** `anchors` is kept as the key of the plan made for it: pass the same array to reuse the plan. */
  constructor(anchors: string[]) {
    let plan = PLANS.get(anchors);
    if (plan === undefined) {
      plan = planPrefilter(anchors);
      PLANS.set(anchors, plan);
    }
    this.plan = plan;
    let finder = FINDERS.get(anchors);
    if (finder === undefined) {
      finder = new AnchorFinder(plan, anchors);
      FINDERS.set(anchors, finder);
    }
    this.finder = finder;
    const exports = instantiate(kernel());
    this.memory = exports.memory as WasmMemory;
    this.scanFn = exports.scan as (end: number) => number;
    this.mem = new Uint8Array(this.memory.buffer);
    this.state = new Uint32Array(this.memory.buffer, STATE, 9);
    this.slots = new Uint32Array(this.memory.buffer, SLOTS, SLOT_COUNT * 4);
    const mem = this.mem;
    for (const b of this.plan.starts) {
      mem[LO + (b & 15)] = (mem[LO + (b & 15)] as number) | (1 << (b >> 4));
      mem[HI + (b >> 4)] = 1 << (b >> 4);
    }
    for (const [b, length] of this.plan.lengths) mem[SHIFT + b] = 64 - 8 * length;
    for (const { hash: h } of this.plan.fingerprints) {
      mem[BITMAP + (h >> 3)] = (mem[BITMAP + (h >> 3)] as number) | (1 << (h & 7));
    }
  }

  /** The input area, INPUT_CAPACITY bytes: fill it and call scanInput, without copying. */
  input(): Buffer {
    return Buffer.from(this.memory.buffer, INPUT, INPUT_CAPACITY);
  }

  /**
   * Scan input()[0..len) (whole lines; the last may lack its newline): new candidate lines go to sink.line
   * in order (offsets into input()), repeats of remembered ones are counted (see flush). Returns the
   * newlines.
   */
  scanInput(len: number, sink: LineSink<T>, before = 0): number {
    if (len > INPUT_CAPACITY) throw new RangeError(`scanInput: ${len} bytes exceed the input area`);
    const state = this.state;
    state[2] = 0;
    // In steps that end at a newline: the engine compiles the kernel in tiers and switches to the
    // optimised code between calls, so short calls pick it up early in a run.
    for (let from = 0; from < len; ) {
      let to = len;
      if (len - from > STEP) {
        const nl = this.mem.lastIndexOf(10, INPUT + from + STEP - 1);
        if (nl >= INPUT + from) to = nl + 1 - INPUT;
      }
      this.step(from, to, sink, before);
      from = to;
    }
    return state[2] as number;
  }

  /** Run the kernel over input()[from..to), whole lines, counting on from the newlines before. */
  private step(from: number, to: number, sink: LineSink<T>, before: number): void {
    const state = this.state;
    // The kernel reads a little past the end: zeros there, and what was there put back after.
    const tail = this.tail;
    tail.set(this.mem.subarray(INPUT + to, INPUT + to + PAD));
    this.mem.fill(0, INPUT + to, INPUT + to + PAD);
    state[0] = INPUT + from;
    state[1] = INPUT + from;
    while (this.scanFn(INPUT + to) === 1) {
      const ls = state[3] as number;
      const le = state[4] as number;
      const entry = sink.line(ls - INPUT, le - INPUT, before + (state[5] as number));
      const slot = state[7] as number;
      if (entry !== undefined && slot !== 0xffffffff)
        this.keep(entry, slot, state[6] as number, state[8] as number, le, sink);
    }
    this.mem.set(tail, INPUT + to);
  }

  /**
   * Scan buf[start..end) by copying it into the input area, in windows that end at a newline where one
   * is (a line longer than the input area is scanned in pieces). Offsets given to the sink are into
   * input(). Returns the newlines.
   */
  scan(buf: Uint8Array, start: number, end: number, sink: LineSink<T>): number {
    let newlines = 0;
    let from = start;
    while (from < end) {
      let to = end;
      if (to - from > INPUT_CAPACITY) {
        const nl = buf.lastIndexOf(10, from + INPUT_CAPACITY - 1);
        to = nl >= from ? nl + 1 : from + INPUT_CAPACITY;
      }
      this.mem.set(buf.subarray(from, to), INPUT);
      newlines += this.scanInput(to - from, sink, newlines);
      from = to;
    }
    return newlines;
  }

  private keep(entry: T, slot: number, hash: number, start: number, end: number, sink: LineSink<T>): void {
    const len = end - start;
    let at = slot;
    if (this.used.length >= SLOT_LIMIT || this.arenaUsed + len + 8 > ARENA_SIZE) {
      this.flush(sink);
      this.mem.fill(0, SLOTS, SLOTS + SLOT_COUNT * 16);
      for (const u of this.used) this.kept[u] = undefined;
      this.used.length = 0;
      this.arenaUsed = 0;
      at = hash & (SLOT_COUNT - 1);
    }
    const words = this.slots;
    words[at * 4] = hash;
    words[at * 4 + 1] = len;
    words[at * 4 + 2] = ARENA + this.arenaUsed;
    words[at * 4 + 3] = 0;
    this.mem.copyWithin(ARENA + this.arenaUsed, start, end);
    this.arenaUsed += (len + 7) & ~7;
    this.kept[at] = entry;
    this.used.push(at);
  }

  /** Hand the repeats counted since the last flush to the sink. */
  flush(sink: LineSink<T>): void {
    const counts = this.slots;
    for (const slot of this.used) {
      const n = counts[slot * 4 + 3] as number;
      if (n > 0) {
        sink.repeats(this.kept[slot] as T, n);
        counts[slot * 4 + 3] = 0;
      }
    }
  }
}

/** A 32-bit hash of buf[at..at+length) (FNV-1a), for the exact second level. */
function bytesKey(buf: Uint8Array, at: number, length: number): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < length; k++) h = Math.imul(h ^ (buf[at + k] as number), 0x01000193);
  return h >>> 0;
}

/**
 * The exact second level: which anchors a line holds, found through the same fingerprints (every anchor
 * holds its fingerprint at a known offset): at each start byte of the line, the fingerprint-long bytes
 * there name the fingerprints to check, and each is confirmed by comparing its whole anchor in place.
 */
export class AnchorFinder {
  private readonly lengths = new Uint8Array(256);
  /** Fingerprints' first two bytes (one byte: all pairs), a cheap test before the hash. */
  private readonly pairs = new Uint8Array(65536);
  private readonly index = new Map<number, { at: number; bytes: Buffer; anchor: number }[]>();

  /** `anchors` in the order the caller numbers them. */
  constructor(plan: PrefilterPlan, anchors: string[]) {
    for (const [b, length] of plan.lengths) this.lengths[b] = length;
    const number = new Map(anchors.map((a, i) => [a, i]));
    for (const fp of plan.fingerprints) {
      const first = fp.bytes[0] as number;
      if (fp.bytes.length === 1) for (let b = 0; b < 256; b++) this.pairs[first | (b << 8)] = 1;
      else this.pairs[first | ((fp.bytes[1] as number) << 8)] = 1;
      const key = bytesKey(fp.bytes, 0, fp.bytes.length);
      const list = this.index.get(key) ?? [];
      list.push({
        at: fp.at,
        bytes: Buffer.from(fp.anchor, 'utf8'),
        anchor: number.get(fp.anchor) as number,
      });
      this.index.set(key, list);
    }
  }

  /** Calls found(anchor number) for each anchor occurrence in buf[start..end) (an anchor may repeat). */
  find(buf: Buffer, start: number, end: number, found: (anchor: number) => void): void {
    const { lengths, pairs } = this;
    for (let q = start; q < end; q++) {
      const first = buf[q] as number;
      const length = lengths[first] as number;
      if (length === 0 || q + length > end || pairs[first | ((buf[q + 1] ?? 0) << 8)] === 0) continue;
      const list = this.index.get(bytesKey(buf, q, length));
      if (list === undefined) continue;
      for (const c of list) {
        const from = q - c.at;
        const bytes = c.bytes;
        if (from < start || from + bytes.length > end) continue;
        let k = 0;
        while (k < bytes.length && buf[from + k] === bytes[k]) k++;
        if (k === bytes.length) found(c.anchor);
      }
    }
  }
}

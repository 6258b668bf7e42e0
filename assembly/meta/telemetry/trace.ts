// W3C trace context (https://www.w3.org/TR/trace-context/): the `traceparent` value read from a
// request (Dubbo attachment, Thrift THeader header) and the one written on it, and the random
// ids of new traces and spans.
import { randomFill, nowNanos } from "../../abi/host";

/** "00-" + 32 hex + "-" + 16 hex + "-" + 2 hex. */
export const TRACEPARENT_LENGTH = 55;

export class TraceContext {
  traceHi: u64 = 0;
  traceLo: u64 = 0;
  spanId: u64 = 0;
  flags: u32 = 0;
  get sampled(): bool { return (this.flags & 1) != 0; }
}

/**
 * Parses a traceparent header into `out`; false when it is absent or invalid (then a new trace
 * starts). Versions above 00 are read by their first four fields, as the spec asks.
 */
export function parseTraceparent(s: string | null, out: TraceContext): bool {
  if (s == null) return false;
  const v = changetype<string>(s);
  const n = v.length;
  if (n < TRACEPARENT_LENGTH) return false;
  const version = hexByte(v, 0);
  if (version < 0 || version == 0xff) return false;
  if (version == 0 && n != TRACEPARENT_LENGTH) return false;
  if (n > TRACEPARENT_LENGTH && v.charCodeAt(TRACEPARENT_LENGTH) != 0x2d) return false;
  if (v.charCodeAt(2) != 0x2d || v.charCodeAt(35) != 0x2d || v.charCodeAt(52) != 0x2d) return false;
  if (!hex64(v, 3) ) return false;
  const hi = parsed;
  if (!hex64(v, 19)) return false;
  const lo = parsed;
  if (!hex64(v, 36)) return false;
  const span = parsed;
  const flags = hexByte(v, 53);
  if (flags < 0 || (hi == 0 && lo == 0) || span == 0) return false;
  out.traceHi = hi; out.traceLo = lo; out.spanId = span; out.flags = <u32>flags;
  return true;
}

// The callers checked the length: characters are read straight from the string's UTF-16 units.
let parsed: u64 = 0;
function hex64(s: string, at: i32): bool {
  const p = changetype<usize>(s) + (<usize>at << 1);
  let v: u64 = 0;
  for (let i = 0; i < 16; i++) {
    const d = hexDigit(<i32>load<u16>(p + (<usize>i << 1)));
    if (d < 0) return false;
    v = (v << 4) | <u64>d;
  }
  parsed = v;
  return true;
}
function hexByte(s: string, at: i32): i32 {
  const p = changetype<usize>(s) + (<usize>at << 1);
  const a = hexDigit(<i32>load<u16>(p)), b = hexDigit(<i32>load<u16>(p, 2));
  return a < 0 || b < 0 ? -1 : (a << 4) | b;
}
/** Lowercase only: the spec forbids uppercase hex in traceparent. */
function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * The traceparent written on forwarded requests: one string of fixed length whose characters are
 * overwritten in place for each request, so propagation allocates nothing. Only the encoder reads
 * it, right after it is written (the codec copies it into the frame).
 */
export class TraceparentText {
  readonly text: string;
  constructor() {
    // Built at run time: a literal would live in static data, shared with equal literals.
    this.text = "00-" + "0".repeat(32) + "-" + "0".repeat(16) + "-00";
  }
  set(traceHi: u64, traceLo: u64, spanId: u64, flags: u32): string {
    const p = changetype<usize>(this.text);
    putHex(p, 3, traceHi, 16);
    putHex(p, 19, traceLo, 16);
    putHex(p, 36, spanId, 16);
    putHex(p, 53, <u64>flags, 2);
    return this.text;
  }
}

const HEX = "0123456789abcdef";
function putHex(p: usize, at: i32, v: u64, digits: i32): void {
  for (let i = digits - 1; i >= 0; i--) {
    store<u16>(p + (<usize>(at + i) << 1), HEX.charCodeAt(<i32>(v & 0xf)));
    v >>= 4;
  }
}

/** Writes `digits` lowercase hex digits of v as UTF-8 at p (for log text). */
export function hexAscii(p: usize, v: u64, digits: i32): void {
  for (let i = digits - 1; i >= 0; i--) {
    store<u8>(p + <usize>i, <u8>HEX.charCodeAt(<i32>(v & 0xf)));
    v >>= 4;
  }
}

// xorshift128+, seeded from the host's random source on first use (ids must differ across
// workers and restarts; speed matters, secrecy does not).
let s0: u64 = 0;
let s1: u64 = 0;
const SEED: usize = memory.data(16);

export function randomU64(): u64 {
  if (s0 == 0 && s1 == 0) seed();
  let x = s0;
  const y = s1;
  s0 = y;
  x ^= x << 23;
  s1 = x ^ y ^ (x >> 17) ^ (y >> 26);
  return s1 + y;
}

function seed(): void {
  if (!randomFill(SEED, 16)) {
    const t = nowNanos();
    store<u64>(SEED, t ^ 0x9e3779b97f4a7c15);
    store<u64>(SEED, (t >> 7) ^ 0xbf58476d1ce4e5b9, 8);
  }
  s0 = load<u64>(SEED);
  s1 = load<u64>(SEED, 8);
  if (s0 == 0 && s1 == 0) s1 = 1;
}

/** A non-zero random id. */
export function randomId(): u64 {
  let v = randomU64();
  while (v == 0) v = randomU64();
  return v;
}

/** True with probability percent/100. */
export function sampled(percent: f64): bool {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  return <f64>(randomU64() >> 11) * (1.0 / 9007199254740992.0) * 100.0 < percent;
}

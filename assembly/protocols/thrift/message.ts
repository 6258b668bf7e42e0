// The Thrift message header (name, type, seqid) in each protocol encoding. Results go to
// module-level scratch so decoding allocates nothing unless a rule wants the name as a string.
import {
  MALFORMED, P_COMPACT, P_BINARY_NONSTRICT, BINARY_VERSION_1, COMPACT_PROTOCOL_ID,
  byteAt, i32At, readVarint, varintValue, skipBytes,
} from "./wire";

export let headType: i32 = 0;
export let headSeqid: u32 = 0;
export let headNameAt: i32 = 0;
export let headNameLen: i32 = 0;

/**
 * Parse the message header at p in protocol `proto`. Returns the position of the argument (or
 * result) struct, or `short` when the bytes end first, or MALFORMED.
 */
export function parseMessageHead(base: usize, p: i32, end: i32, proto: i32, maxName: i32, short: i32): i32 {
  if (proto == P_COMPACT) {
    if (p + 2 > end) return short;
    if (byteAt(base, p) != COMPACT_PROTOCOL_ID) return MALFORMED;
    const tv = byteAt(base, p + 1);
    if ((tv & 0x1f) != 1) return MALFORMED; // compact version 1
    headType = <i32>(tv >> 5);
    p = readVarint(base, p + 2, end, 5, short); if (p < 0) return p;
    headSeqid = <u32>varintValue;
    p = readVarint(base, p, end, 5, short); if (p < 0) return p;
    if (varintValue > <u64>maxName) return MALFORMED;
    headNameLen = <i32>varintValue;
    headNameAt = p;
    return checkType(skipBytes(p, headNameLen, end, short));
  }
  if (proto == P_BINARY_NONSTRICT) {
    if (p + 4 > end) return short;
    const n = i32At(base, p);
    if (n < 0 || n > maxName) return MALFORMED;
    headNameAt = p + 4; headNameLen = n;
    const q = skipBytes(p + 4, n, end, short); if (q < 0) return q;
    if (q + 5 > end) return short;
    headType = <i32>byteAt(base, q);
    headSeqid = <u32>i32At(base, q + 1);
    return checkType(q + 5);
  }
  // Strict binary: version word carries the type.
  if (p + 8 > end) return short;
  const w = <u32>i32At(base, p);
  if ((w & 0xffff0000) != BINARY_VERSION_1) return MALFORMED;
  headType = <i32>(w & 0xff);
  const n = i32At(base, p + 4);
  if (n < 0 || n > maxName) return MALFORMED;
  headNameAt = p + 8; headNameLen = n;
  const q = skipBytes(p + 8, n, end, short); if (q < 0) return q;
  if (q + 4 > end) return short;
  headSeqid = <u32>i32At(base, q);
  return checkType(q + 4);
}

@inline function checkType(q: i32): i32 {
  if (q < 0) return q;
  return headType >= 1 && headType <= 4 ? q : MALFORMED;
}

/**
 * A REPLY's result struct holds field 0 (success) or a declared exception (id >= 1): peek at the
 * first field header only. Returns true for a declared exception.
 */
export function replyCarriesException(base: usize, p: i32, end: i32, proto: i32): bool {
  if (p >= end) return false;
  const h = byteAt(base, p);
  if (proto == P_COMPACT) {
    if ((h & 0x0f) == 0) return false;        // STOP: void success
    if ((h >> 4) != 0) return true;           // short form: id = delta from 0 >= 1
    const q = readVarint(base, p + 1, end, 3, MALFORMED);
    return q > 0 && varintValue != 0;         // long form: zigzag id, 0 only for success
  }
  if (h == 0 || p + 3 > end) return false;
  return (load<u8>(base + <usize>p + 1) | load<u8>(base + <usize>p + 2)) != 0;
}


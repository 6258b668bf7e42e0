// Struct skippers: the only way to find where an unframed Thrift message ends. They build
// nothing, read every length through a bounds check, and refuse nesting deeper than MAX_DEPTH.
// Every element takes at least one byte, so loops are bounded by the bytes available.
import { NEED_MORE, MALFORMED, MAX_DEPTH, byteAt, i32At, readVarint, varintValue, skipBytes } from "./wire";

// TBinaryProtocol type ids.
const B_STOP: u32 = 0, B_BOOL: u32 = 2, B_BYTE: u32 = 3, B_DOUBLE: u32 = 4, B_I16: u32 = 6,
  B_I32: u32 = 8, B_I64: u32 = 10, B_STRING: u32 = 11, B_STRUCT: u32 = 12, B_MAP: u32 = 13,
  B_SET: u32 = 14, B_LIST: u32 = 15, B_UUID: u32 = 16;

function binaryFixedSize(t: u32): i32 {
  switch (t) {
    case B_BOOL: case B_BYTE: return 1;
    case B_I16: return 2;
    case B_I32: return 4;
    case B_DOUBLE: case B_I64: return 8;
    case B_UUID: return 16;
    default: return 0;
  }
}

/** Skip one binary-protocol value of type t at p. Returns the position after it or a status. */
export function skipBinary(base: usize, p: i32, end: i32, t: u32, depth: i32, short: i32): i32 {
  if (depth > MAX_DEPTH) return MALFORMED;
  const fixed = binaryFixedSize(t);
  if (fixed > 0) return skipBytes(p, fixed, end, short);
  switch (t) {
    case B_STRING: {
      if (p + 4 > end) return short;
      return skipBytes(p + 4, i32At(base, p), end, short);
    }
    case B_STRUCT: {
      // Field headers: type byte, i16 id; STOP ends the struct. Each field eats >= 3 bytes.
      while (true) {
        if (p >= end) return short;
        const ft = byteAt(base, p);
        if (ft == B_STOP) return p + 1;
        if (p + 3 > end) return short;
        p = skipBinary(base, p + 3, end, ft, depth + 1, short);
        if (p < 0) return p;
      }
    }
    case B_MAP: {
      if (p + 6 > end) return short;
      const kt = byteAt(base, p), vt = byteAt(base, p + 1);
      const n = i32At(base, p + 2);
      if (n < 0) return MALFORMED;
      p += 6;
      const kf = binaryFixedSize(kt), vf = binaryFixedSize(vt);
      if (kf > 0 && vf > 0) return skipBytes(p, <i64>n * <i64>(kf + vf), end, short);
      for (let i = 0; i < n; i++) {
        p = skipBinary(base, p, end, kt, depth + 1, short); if (p < 0) return p;
        p = skipBinary(base, p, end, vt, depth + 1, short); if (p < 0) return p;
      }
      return p;
    }
    case B_SET: case B_LIST: {
      if (p + 5 > end) return short;
      const et = byteAt(base, p);
      const n = i32At(base, p + 1);
      if (n < 0) return MALFORMED;
      p += 5;
      const ef = binaryFixedSize(et);
      if (ef > 0) return skipBytes(p, <i64>n * <i64>ef, end, short);
      for (let i = 0; i < n; i++) {
        p = skipBinary(base, p, end, et, depth + 1, short); if (p < 0) return p;
      }
      return p;
    }
    default:
      return MALFORMED; // VOID, STOP or an unknown type inside a value
  }
}

// TCompactProtocol type ids (field and element types).
const C_STOP: u32 = 0, C_TRUE: u32 = 1, C_FALSE: u32 = 2, C_BYTE: u32 = 3, C_I16: u32 = 4,
  C_I32: u32 = 5, C_I64: u32 = 6, C_DOUBLE: u32 = 7, C_BINARY: u32 = 8, C_LIST: u32 = 9,
  C_SET: u32 = 10, C_MAP: u32 = 11, C_STRUCT: u32 = 12, C_UUID: u32 = 13;

/**
 * Skip one compact-protocol value. `inField` tells booleans apart: as a field they live in the
 * field header (no bytes), as a container element they take one byte.
 */
export function skipCompact(base: usize, p: i32, end: i32, t: u32, inField: bool, depth: i32, short: i32): i32 {
  if (depth > MAX_DEPTH) return MALFORMED;
  switch (t) {
    case C_TRUE: case C_FALSE: return inField ? p : skipBytes(p, 1, end, short);
    case C_BYTE: return skipBytes(p, 1, end, short);
    case C_I16: return readVarint(base, p, end, 3, short);
    case C_I32: return readVarint(base, p, end, 5, short);
    case C_I64: return readVarint(base, p, end, 10, short);
    case C_DOUBLE: return skipBytes(p, 8, end, short);
    case C_UUID: return skipBytes(p, 16, end, short);
    case C_BINARY: {
      p = readVarint(base, p, end, 5, short); if (p < 0) return p;
      return skipBytes(p, <i64>varintValue, end, short);
    }
    case C_STRUCT: {
      while (true) {
        if (p >= end) return short;
        const h = byteAt(base, p++);
        const ft = h & 0x0f;
        if (ft == C_STOP) return h == 0 ? p : MALFORMED;
        if ((h >> 4) == 0) { p = readVarint(base, p, end, 3, short); if (p < 0) return p; } // long-form field id
        p = skipCompact(base, p, end, ft, true, depth + 1, short);
        if (p < 0) return p;
      }
    }
    case C_LIST: case C_SET: {
      if (p >= end) return short;
      const h = byteAt(base, p++);
      const et = h & 0x0f;
      let n: u64 = <u64>(h >> 4);
      if (n == 15) { p = readVarint(base, p, end, 5, short); if (p < 0) return p; n = varintValue; }
      if (n > <u64>(end - p)) return n > 0x7fffffff ? MALFORMED : short; // every element is >= 1 byte
      for (let i: u64 = 0; i < n; i++) {
        p = skipCompact(base, p, end, et, false, depth + 1, short); if (p < 0) return p;
      }
      return p;
    }
    case C_MAP: {
      p = readVarint(base, p, end, 5, short); if (p < 0) return p;
      const n = varintValue;
      if (n == 0) return p;
      if (p >= end) return short;
      const kv = byteAt(base, p++);
      if (n > <u64>(end - p)) return n > 0x7fffffff ? MALFORMED : short;
      for (let i: u64 = 0; i < n; i++) {
        p = skipCompact(base, p, end, kv >> 4, false, depth + 1, short); if (p < 0) return p;
        p = skipCompact(base, p, end, kv & 0x0f, false, depth + 1, short); if (p < 0) return p;
      }
      return p;
    }
    default:
      return MALFORMED;
  }
}

export const BINARY_STRUCT: u32 = B_STRUCT;
export const COMPACT_STRUCT: u32 = C_STRUCT;

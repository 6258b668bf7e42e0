// A resumable struct scan for unframed Thrift: the only transport whose message end is found by
// walking the struct. The recursive skippers in skip.ts restart from the message's first byte
// whenever more bytes arrive, so a message dripped in small pieces cost O(n^2). This scan keeps
// an explicit stack in the connection's Metadata (codecState) and continues where it stopped:
// every step consumes at least one byte or moves one frame, so the total work is O(n).
// Values are consumed whole or not at all, so a pause never splits a primitive.
import { CodecState } from "../../meta/metadata";
import { NEED_MORE, MALFORMED, MAX_DEPTH, byteAt, i32At, readVarint, varintValue, skipBytes } from "./wire";

const K_VALUE: u8 = 1, K_STRUCT: u8 = 2, K_LIST: u8 = 3, K_MAP: u8 = 4;
// Every container holds at most one pending value above it.
const STACK = 2 * (MAX_DEPTH + 2);

// Type ids (TBinaryProtocol / TCompactProtocol).
const B_STOP: u32 = 0, B_STRING: u32 = 11, B_STRUCT: u32 = 12, B_MAP: u32 = 13, B_SET: u32 = 14, B_LIST: u32 = 15;
const C_TRUE: u32 = 1, C_FALSE: u32 = 2, C_BYTE: u32 = 3, C_I16: u32 = 4, C_I32: u32 = 5, C_I64: u32 = 6,
  C_DOUBLE: u32 = 7, C_BINARY: u32 = 8, C_LIST: u32 = 9, C_SET: u32 = 10, C_MAP: u32 = 11, C_STRUCT: u32 = 12, C_UUID: u32 = 13;

function binaryFixedSize(t: u32): i32 {
  switch (t) {
    case 2: case 3: return 1;   // bool, byte
    case 6: return 2;           // i16
    case 8: return 4;           // i32
    case 4: case 10: return 8;  // double, i64
    case 16: return 16;         // uuid
    default: return 0;
  }
}

export class StructScan extends CodecState {
  /** Offset (from the frame's first byte) of the next unread byte. */
  pos: i32 = 0;
  private sp: i32 = 0;
  private kind: StaticArray<u8> = new StaticArray<u8>(STACK);
  private t1: StaticArray<u8> = new StaticArray<u8>(STACK);
  private t2: StaticArray<u8> = new StaticArray<u8>(STACK);
  /** VALUE: 1 when a compact bool lives in its field header; MAP: 1 when the key is done. */
  private flag: StaticArray<u8> = new StaticArray<u8>(STACK);
  private depth: StaticArray<i32> = new StaticArray<i32>(STACK);
  private count: StaticArray<u64> = new StaticArray<u64>(STACK);
  private compact: bool = false;
  active: bool = false;

  /** Begin scanning the message struct that starts at `pos`. */
  start(pos: i32, compact: bool): void {
    this.pos = pos;
    this.compact = compact;
    this.sp = 0;
    this.push(K_STRUCT, 0, 0, 0);
    this.active = true;
  }

  private push(kind: u8, t: u32, depth: i32, flag: u8): void {
    const i = this.sp++;
    unchecked(this.kind[i] = kind); unchecked(this.t1[i] = <u8>t); unchecked(this.depth[i] = depth);
    unchecked(this.flag[i] = flag); unchecked(this.count[i] = 0);
  }

  /** Continue over [base, base+end): the struct's end offset, NEED_MORE (state kept) or MALFORMED. */
  run(base: usize, end: i32): i32 {
    while (this.sp > 0) {
      const top = this.sp - 1;
      const r = this.compact ? this.stepCompact(base, end, top) : this.stepBinary(base, end, top);
      if (r < 0) return r;
    }
    this.active = false;
    return this.pos;
  }

  private stepBinary(base: usize, end: i32, top: i32): i32 {
    const p = this.pos;
    const d = unchecked(this.depth[top]);
    switch (unchecked(this.kind[top])) {
      case K_VALUE: {
        if (d > MAX_DEPTH) return MALFORMED;
        const t = <u32>unchecked(this.t1[top]);
        const fixed = binaryFixedSize(t);
        if (fixed > 0) return this.take(skipBytes(p, fixed, end, NEED_MORE));
        if (t == B_STRING) {
          if (p + 4 > end) return NEED_MORE;
          return this.take(skipBytes(p + 4, i32At(base, p), end, NEED_MORE));
        }
        if (t == B_STRUCT) { unchecked(this.kind[top] = K_STRUCT); return 0; }
        if (t == B_LIST || t == B_SET) {
          if (p + 5 > end) return NEED_MORE;
          const n = i32At(base, p + 1);
          if (n < 0) return MALFORMED;
          this.become(top, K_LIST, byteAt(base, p), 0, <u64>n);
          this.pos = p + 5;
          return 0;
        }
        if (t == B_MAP) {
          if (p + 6 > end) return NEED_MORE;
          const n = i32At(base, p + 2);
          if (n < 0) return MALFORMED;
          this.become(top, K_MAP, byteAt(base, p), byteAt(base, p + 1), <u64>n);
          this.pos = p + 6;
          return 0;
        }
        return MALFORMED; // VOID, STOP or an unknown type inside a value
      }
      case K_STRUCT: {
        if (p >= end) return NEED_MORE;
        const ft = byteAt(base, p);
        if (ft == B_STOP) { this.pos = p + 1; this.sp--; return 0; }
        if (p + 3 > end) return NEED_MORE;
        this.pos = p + 3;
        this.push(K_VALUE, ft, d + 1, 0);
        return 0;
      }
      case K_LIST: {
        const n = unchecked(this.count[top]);
        if (n == 0) { this.sp--; return 0; }
        const et = <u32>unchecked(this.t1[top]);
        const ef = binaryFixedSize(et);
        if (ef > 0) { const r = this.take(skipBytes(p, <i64>n * <i64>ef, end, NEED_MORE)); return r; }
        unchecked(this.count[top] = n - 1);
        this.push(K_VALUE, et, d + 1, 0);
        return 0;
      }
      default: { // K_MAP
        const n = unchecked(this.count[top]);
        if (n == 0) { this.sp--; return 0; }
        const kt = <u32>unchecked(this.t1[top]), vt = <u32>unchecked(this.t2[top]);
        const kf = binaryFixedSize(kt), vf = binaryFixedSize(vt);
        if (kf > 0 && vf > 0) return this.take(skipBytes(p, <i64>n * <i64>(kf + vf), end, NEED_MORE));
        return this.mapEntry(top, kt, vt, d, 0);
      }
    }
  }

  private stepCompact(base: usize, end: i32, top: i32): i32 {
    const p = this.pos;
    const d = unchecked(this.depth[top]);
    switch (unchecked(this.kind[top])) {
      case K_VALUE: {
        if (d > MAX_DEPTH) return MALFORMED;
        const t = <u32>unchecked(this.t1[top]);
        switch (t) {
          case C_TRUE: case C_FALSE:
            if (unchecked(this.flag[top]) != 0) { this.sp--; return 0; } // the value was in the field header
            return this.take(skipBytes(p, 1, end, NEED_MORE));
          case C_BYTE: return this.take(skipBytes(p, 1, end, NEED_MORE));
          case C_I16: return this.take(readVarint(base, p, end, 3, NEED_MORE));
          case C_I32: return this.take(readVarint(base, p, end, 5, NEED_MORE));
          case C_I64: return this.take(readVarint(base, p, end, 10, NEED_MORE));
          case C_DOUBLE: return this.take(skipBytes(p, 8, end, NEED_MORE));
          case C_UUID: return this.take(skipBytes(p, 16, end, NEED_MORE));
          case C_BINARY: {
            const q = readVarint(base, p, end, 5, NEED_MORE);
            if (q < 0) return q;
            return this.take(skipBytes(q, <i64>varintValue, end, NEED_MORE));
          }
          case C_STRUCT: unchecked(this.kind[top] = K_STRUCT); return 0;
          case C_LIST: case C_SET: {
            if (p >= end) return NEED_MORE;
            const h = byteAt(base, p);
            let q = p + 1;
            let n: u64 = <u64>(h >> 4);
            if (n == 15) { q = readVarint(base, q, end, 5, NEED_MORE); if (q < 0) return q; n = varintValue; }
            if (n > 0x7fffffff) return MALFORMED;
            this.become(top, K_LIST, h & 0x0f, 0, n);
            this.pos = q;
            return 0;
          }
          case C_MAP: {
            const q = readVarint(base, p, end, 5, NEED_MORE);
            if (q < 0) return q;
            const n = varintValue;
            if (n == 0) { this.pos = q; this.sp--; return 0; }
            if (q >= end) return NEED_MORE;
            if (n > 0x7fffffff) return MALFORMED;
            const kv = byteAt(base, q);
            this.become(top, K_MAP, kv >> 4, kv & 0x0f, n);
            this.pos = q + 1;
            return 0;
          }
          default: return MALFORMED;
        }
      }
      case K_STRUCT: {
        if (p >= end) return NEED_MORE;
        const h = byteAt(base, p);
        const ft = h & 0x0f;
        if (ft == 0) { if (h != 0) return MALFORMED; this.pos = p + 1; this.sp--; return 0; }
        let q = p + 1;
        if ((h >> 4) == 0) { q = readVarint(base, q, end, 3, NEED_MORE); if (q < 0) return q; } // long-form field id
        this.pos = q;
        this.push(K_VALUE, ft, d + 1, 1);
        return 0;
      }
      case K_LIST: {
        const n = unchecked(this.count[top]);
        if (n == 0) { this.sp--; return 0; }
        unchecked(this.count[top] = n - 1);
        this.push(K_VALUE, <u32>unchecked(this.t1[top]), d + 1, 0);
        return 0;
      }
      default: { // K_MAP
        const n = unchecked(this.count[top]);
        if (n == 0) { this.sp--; return 0; }
        return this.mapEntry(top, <u32>unchecked(this.t1[top]), <u32>unchecked(this.t2[top]), d, 0);
      }
    }
  }

  /** Next half of a map entry: the key, then the value (which completes the entry). */
  private mapEntry(top: i32, kt: u32, vt: u32, d: i32, inField: u8): i32 {
    if (unchecked(this.flag[top]) == 0) {
      unchecked(this.flag[top] = 1);
      this.push(K_VALUE, kt, d + 1, inField);
    } else {
      unchecked(this.flag[top] = 0);
      unchecked(this.count[top] = unchecked(this.count[top]) - 1);
      this.push(K_VALUE, vt, d + 1, inField);
    }
    return 0;
  }

  private become(i: i32, kind: u8, t1: u32, t2: u32, n: u64): void {
    unchecked(this.kind[i] = kind); unchecked(this.t1[i] = <u8>t1); unchecked(this.t2[i] = <u8>t2);
    unchecked(this.count[i] = n); unchecked(this.flag[i] = 0);
  }

  /** A whole value was consumed up to q (or q is a status): pop its frame. */
  private take(q: i32): i32 {
    if (q < 0) return q;
    this.pos = q;
    this.sp--;
    return 0;
  }
}

// A Hessian 2.0 reader that skips values without building them, and reads the strings and maps
// a Dubbo frame's routing keys live in. Every read is bounds-checked: a broken value sets
// `error` and returns false/null instead of trapping.
import { u8At, u16be, u32be } from "../../meta/bytes";
import { Utf8Cache } from "../../meta/utf8-cache";

const MAX_DEPTH = 64;

// What each tag starts (skipValue): K_FIXED values are TAG_SIZE[tag] bytes long, tag included.
const K_UNKNOWN = 0, K_FIXED = 1, K_STRING = 2, K_INT = 3, K_BINARY = 4, K_LIST_TYPED_VAR = 5, K_LIST_VAR = 6,
  K_LIST_TYPED_FIXED = 7, K_LIST_FIXED = 8, K_LIST_TYPED_SHORT = 9, K_LIST_SHORT = 10, K_MAP = 11, K_MAP_TYPED = 12,
  K_CLASS_DEF = 13, K_OBJECT = 14, K_OBJECT_SHORT = 15, K_REF = 16;
const TAG_KIND: usize = memory.data(256);
const TAG_SIZE: usize = memory.data(256);
function kinds(from: i32, to: i32, kind: i32, size: i32 = 0): void {
  for (let t = from; t <= to; t++) { store<u8>(TAG_KIND + <usize>t, <u8>kind); store<u8>(TAG_SIZE + <usize>t, <u8>size); }
}
kinds(0x4e, 0x4e, K_FIXED, 1); kinds(0x54, 0x54, K_FIXED, 1); kinds(0x46, 0x46, K_FIXED, 1); // null, true, false
kinds(0x80, 0xd7, K_INT); kinds(0x49, 0x49, K_INT);                                           // ints
kinds(0xd8, 0xef, K_FIXED, 1); kinds(0xf0, 0xff, K_FIXED, 2); kinds(0x38, 0x3f, K_FIXED, 3);    // longs
kinds(0x59, 0x59, K_FIXED, 5); kinds(0x4c, 0x4c, K_FIXED, 9);
kinds(0x5b, 0x5c, K_FIXED, 1); kinds(0x5d, 0x5d, K_FIXED, 2); kinds(0x5e, 0x5e, K_FIXED, 3);    // doubles
kinds(0x5f, 0x5f, K_FIXED, 5); kinds(0x44, 0x44, K_FIXED, 9);
kinds(0x4a, 0x4a, K_FIXED, 9); kinds(0x4b, 0x4b, K_FIXED, 5);                                  // dates
kinds(0x00, 0x1f, K_STRING); kinds(0x30, 0x33, K_STRING); kinds(0x53, 0x53, K_STRING); kinds(0x52, 0x52, K_STRING);
// binary: 'A' (0x41) non-final chunks, each followed by more binary, ending in 'B' or a short form
kinds(0x20, 0x2f, K_BINARY); kinds(0x34, 0x37, K_BINARY); kinds(0x41, 0x42, K_BINARY);
kinds(0x55, 0x55, K_LIST_TYPED_VAR); kinds(0x57, 0x57, K_LIST_VAR); kinds(0x56, 0x56, K_LIST_TYPED_FIXED);
kinds(0x58, 0x58, K_LIST_FIXED); kinds(0x70, 0x77, K_LIST_TYPED_SHORT); kinds(0x78, 0x7f, K_LIST_SHORT);
kinds(0x48, 0x48, K_MAP); kinds(0x4d, 0x4d, K_MAP_TYPED); kinds(0x43, 0x43, K_CLASS_DEF);
kinds(0x4f, 0x4f, K_OBJECT); kinds(0x60, 0x6f, K_OBJECT_SHORT); kinds(0x51, 0x51, K_REF);

export class HessianReader {
  p: usize = 0;
  end: usize = 0;
  error: string = "";
  /** Field counts of class definitions seen in this frame (objects refer to them by index). */
  private classFields: i32[] = [];
  // Last string read as a byte range (no allocation): see readStringRange.
  strStart: usize = 0;
  strBytes: i32 = 0;
  strChunked: bool = false;
  /** Decoded strings, reused while the frames repeat them. */
  private strings: Utf8Cache = new Utf8Cache();

  reset(p: usize, end: usize): void {
    this.p = p; this.end = end; this.error = "";
    // Setting an array's length always calls the allocator's capacity check: only when needed.
    if (this.classFields.length != 0) this.classFields.length = 0;
  }

  @inline remaining(): i32 { return <i32>(this.end - this.p); }

  private fail(why: string): bool {
    if (this.error.length == 0) this.error = why;
    return false;
  }

  @inline private need(n: i32): bool {
    if (<i32>(this.end - this.p) < n) return this.fail("truncated hessian value");
    return true;
  }

  peek(): i32 { return this.p < this.end ? <i32>u8At(this.p) : -1; }

  /** Reads an int in any Hessian int encoding. */
  readInt(): i64 {
    if (!this.need(1)) return 0;
    const t = <i32>u8At(this.p);
    if (t >= 0x80 && t <= 0xbf) { this.p += 1; return <i64>(t - 0x90); }
    if (t >= 0xc0 && t <= 0xcf) { if (!this.need(2)) return 0; const v = ((t - 0xc8) << 8) | <i32>u8At(this.p + 1); this.p += 2; return <i64>v; }
    if (t >= 0xd0 && t <= 0xd7) { if (!this.need(3)) return 0; const v = ((t - 0xd4) << 16) | (<i32>u8At(this.p + 1) << 8) | <i32>u8At(this.p + 2); this.p += 3; return <i64>v; }
    if (t == 0x49) { if (!this.need(5)) return 0; const v = <i32>u32be(this.p + 1); this.p += 5; return <i64>v; }
    this.fail("expected int");
    return 0;
  }

  /**
   * Reads a string's extent: afterwards [strStart, strStart+strBytes) holds its UTF-8 bytes when
   * it was one chunk. Returns false for null (`N`, with no error) or on error.
   */
  readStringRange(): bool {
    if (!this.need(1)) return false;
    const t = <i32>u8At(this.p);
    if (t <= 0x1f) { // the common case: one short chunk
      this.p += 1;
      const start = this.p;
      if (!this.skipUtf8Chars(t)) return false;
      this.strChunked = false;
      this.strStart = start;
      this.strBytes = <i32>(this.p - start);
      return true;
    }
    if (t == 0x4e) { this.p += 1; return false; }
    this.strChunked = false;
    let first = true;
    let start: usize = 0;
    let total = 0;
    while (true) {
      if (!this.need(1)) return false;
      const tag = <i32>u8At(this.p);
      let chars = 0;
      let final = true;
      if (tag >= 0x00 && tag <= 0x1f) { chars = tag; this.p += 1; }
      else if (tag >= 0x30 && tag <= 0x33) { if (!this.need(2)) return false; chars = ((tag - 0x30) << 8) | <i32>u8At(this.p + 1); this.p += 2; }
      else if (tag == 0x53 || tag == 0x52) { if (!this.need(3)) return false; chars = <i32>u16be(this.p + 1); this.p += 3; final = tag == 0x53; }
      else return this.fail(first ? "expected string" : "expected string chunk");
      if (first) start = this.p; else this.strChunked = true;
      const before = this.p;
      if (!this.skipUtf8Chars(chars)) return false;
      total += <i32>(this.p - before);
      first = false;
      if (final) break;
    }
    this.strStart = start;
    this.strBytes = this.strChunked ? 0 : total;
    return true;
  }

  /** Reads a string value (allocates). null for Hessian null or error (check `error`). */
  readString(): string | null {
    const at = this.p;
    if (!this.readStringRange()) return null;
    if (!this.strChunked) return this.strings.get(this.strStart, this.strBytes);
    // Rare: a chunked string. Re-walk and join the chunks.
    const end = this.p;
    this.p = at;
    let s = "";
    while (this.p < end) {
      const tag = <i32>u8At(this.p);
      let chars = 0;
      if (tag <= 0x1f) { chars = tag; this.p += 1; }
      else if (tag >= 0x30 && tag <= 0x33) { chars = ((tag - 0x30) << 8) | <i32>u8At(this.p + 1); this.p += 2; }
      else { chars = <i32>u16be(this.p + 1); this.p += 3; }
      const from = this.p;
      this.skipUtf8Chars(chars);
      s += String.UTF8.decodeUnsafe(from, this.p - from, false);
    }
    return s;
  }

  /**
   * Hessian string lengths count UTF-16 units; the bytes are UTF-8 (or CESU-8 surrogates). Most
   * strings are ASCII, so `chars` bytes are checked first, eight at a time (a short string with
   * one masked load, which may read past it but not past the frame); otherwise byte by byte.
   */
  @inline private skipUtf8Chars(chars: i32): bool {
    const p = this.p;
    const avail = <i32>(this.end - p);
    if (avail >= chars) {
      if (chars >= 8) {
        const n = <usize>chars;
        let acc: u64 = load<u64>(p + n - 8);
        for (let i: usize = 0; i + 8 <= n; i += 8) acc |= load<u64>(p + i);
        if ((acc & 0x8080808080808080) == 0) { this.p = p + n; return true; }
      } else if (avail >= 8) {
        const mask = ((<u64>1 << (<u64>chars << 3)) - 1) & 0x8080808080808080;
        if ((load<u64>(p) & mask) == 0) { this.p = p + <usize>chars; return true; }
      }
    }
    return this.skipUtf8Slow(chars);
  }

  private skipUtf8Slow(chars: i32): bool {
    let p = this.p;
    const end = this.end;
    let n = 0;
    while (n < chars) {
      // ASCII runs go 8 bytes at a time.
      if (chars - n >= 8 && <i32>(end - p) >= 8 && (load<u64>(p) & 0x8080808080808080) == 0) { p += 8; n += 8; continue; }
      if (p >= end) { this.p = p; return this.fail("truncated hessian string"); }
      const b = <i32>u8At(p);
      let w = 1, units = 1;
      if (b >= 0xf0) { w = 4; units = 2; } else if (b >= 0xe0) w = 3; else if (b >= 0xc0) w = 2;
      if (<i32>(end - p) < w) { this.p = p; return this.fail("truncated hessian string"); }
      p += w;
      n += units;
    }
    this.p = p;
    return true;
  }

  /** A type in a typed list/map/class: a string or an int reference. */
  skipType(): bool {
    const t = this.peek();
    if (t < 0) return this.fail("truncated hessian type");
    if ((t >= 0x00 && t <= 0x1f) || (t >= 0x30 && t <= 0x33) || t == 0x53 || t == 0x52) {
      this.readStringRange();
      return this.error.length == 0;
    }
    this.readInt();
    return this.error.length == 0;
  }

  /** Skips one complete value of any type: one table lookup by tag, then a jump (br_table). */
  skipValue(depth: i32 = 0): bool {
    if (depth > MAX_DEPTH) return this.fail("hessian value nested too deep");
    if (this.p >= this.end) return this.fail("truncated hessian value");
    const t = <i32>u8At(this.p);
    const k = <i32>load<u8>(TAG_KIND + <usize>t);
    switch (k) {
      case K_FIXED: return this.skip(<i32>load<u8>(TAG_SIZE + <usize>t));
      case K_STRING: { this.readStringRange(); return this.error.length == 0; }
      case K_INT: { this.readInt(); return this.error.length == 0; }
      case K_BINARY: return this.skipBinary();
      // lists
      case K_LIST_TYPED_VAR: { this.p += 1; if (!this.skipType()) return false; return this.skipUntilEnd(depth, 1); }       // 'U'
      case K_LIST_VAR: { this.p += 1; return this.skipUntilEnd(depth, 1); }                                                   // 'W'
      case K_LIST_TYPED_FIXED: { this.p += 1; if (!this.skipType()) return false; return this.skipCount(depth, this.readInt()); } // 'V'
      case K_LIST_FIXED: { this.p += 1; return this.skipCount(depth, this.readInt()); }                                      // 'X'
      case K_LIST_TYPED_SHORT: { this.p += 1; if (!this.skipType()) return false; return this.skipCount(depth, <i64>(t - 0x70)); }
      case K_LIST_SHORT: { this.p += 1; return this.skipCount(depth, <i64>(t - 0x78)); }
      // maps
      case K_MAP: { this.p += 1; return this.skipUntilEnd(depth, 2); }
      case K_MAP_TYPED: { this.p += 1; if (!this.skipType()) return false; return this.skipUntilEnd(depth, 2); }
      // class definition, then the value that follows it
      case K_CLASS_DEF: {
        this.p += 1;
        if (!this.readStringRange()) return this.fail("bad class name");
        const n = this.readInt();
        if (this.error.length > 0 || n < 0 || n > 65535) return this.fail("bad class field count");
        for (let i: i64 = 0; i < n; i++) { if (!this.readStringRange()) return this.fail("bad class field name"); }
        this.classFields.push(<i32>n);
        return this.skipValue(depth + 1);
      }
      // objects
      case K_OBJECT: { this.p += 1; const ref = this.readInt(); return this.skipObject(depth, ref); }
      case K_OBJECT_SHORT: { this.p += 1; return this.skipObject(depth, <i64>(t - 0x60)); }
      // reference to an earlier value
      case K_REF: { this.p += 1; this.readInt(); return this.error.length == 0; }
      default: return this.fail("unknown hessian tag 0x" + t.toString(16));
    }
  }

  /**
   * Binary ::= 'A' len16 bytes binary | 'B' len16 bytes | [x20-x2f] bytes | [x34-x37] len8 bytes.
   * Java's hessian-lite cuts a byte[] into 'A' chunks sized by its 4 KiB buffer and ends with
   * whichever form fits the rest. (0x62 is an object of the third class, not Hessian 1's 'b'.)
   */
  private skipBinary(): bool {
    while (true) {
      if (!this.need(1)) return false;
      const t = <i32>u8At(this.p);
      if (t >= 0x20 && t <= 0x2f) return this.skip(1 + (t - 0x20));
      if (t >= 0x34 && t <= 0x37) { if (!this.need(2)) return false; return this.skip(2 + (((t - 0x34) << 8) | <i32>u8At(this.p + 1))); }
      if (t != 0x41 && t != 0x42) return this.fail("expected binary chunk");
      if (!this.need(3)) return false;
      if (!this.skip(3 + <i32>u16be(this.p + 1))) return false;
      if (t == 0x42) return true;
    }
  }

  private skip(n: i32): bool {
    if (!this.need(n)) return false;
    this.p += n;
    return true;
  }

  private skipCount(depth: i32, n: i64): bool {
    if (this.error.length > 0) return false;
    if (n < 0 || n > <i64>this.remaining()) return this.fail("bad hessian list length");
    for (let i: i64 = 0; i < n; i++) if (!this.skipValue(depth + 1)) return false;
    return true;
  }

  /** Skips values (or key/value pairs) up to and including the end marker 'Z'. */
  private skipUntilEnd(depth: i32, per: i32): bool {
    while (true) {
      if (!this.need(1)) return false;
      if (u8At(this.p) == 0x5a) { this.p += 1; return true; }
      for (let i = 0; i < per; i++) if (!this.skipValue(depth + 1)) return false;
    }
  }

  private skipObject(depth: i32, ref: i64): bool {
    if (this.error.length > 0) return false;
    if (ref < 0 || ref >= <i64>this.classFields.length) return this.fail("object refers to an unknown class definition");
    return this.skipCount(depth, <i64>this.classFields[<i32>ref]);
  }
}

/** Number of arguments in a JVM parameter descriptor such as `Ljava/lang/String;I[J`. */
export function countJvmParams(p: usize, len: i32): i32 {
  let n = 0;
  let i = 0;
  while (i < len) {
    let c = <i32>u8At(p + <usize>i);
    while (c == 0x5b && i + 1 < len) { i++; c = <i32>u8At(p + <usize>i); } // '[' array prefixes
    if (c == 0x4c) { // 'L' ... ';'
      while (i < len && u8At(p + <usize>i) != 0x3b) i++;
      if (i >= len) return -1;
    }
    i++;
    n++;
  }
  return n;
}

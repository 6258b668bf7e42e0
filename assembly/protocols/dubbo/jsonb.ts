// fastjson2's binary JSON (JSONB), the body format of Dubbo serialization id 23: a reader that
// steps over values without building them and reads the strings routing keys live in, and the
// few writers a mutation or an error reply needs. Every read is bounds-checked: a broken value
// sets `error` and returns false instead of trapping. Type bytes (fastjson2's JSONB.Constants):
//   0xf0-0xff, 0x00-0x2f int -16..47 | 0x30-0x3f int, 1 more byte | 0x40-0x47 int, 2 more | 0x48 int32
//   0x49-0x78 Latin-1 string of 0-47 bytes | 0x79 Latin-1, 0x7a UTF-8, 0x7b UTF-16, 0x7c UTF-16LE,
//   0x7d UTF-16BE, 0x7e GB18030: int length, bytes | 0x7f symbol: int, or string + int
//   0x90 char: int | 0x91 binary: int length, bytes | 0x92 typed: type (int, symbol, or string +
//   int), value | 0x93 reference: string path | 0x94-0xa3 array of 0-15 | 0xa4 array: int count
//   0xa5 object end | 0xa6 object: (name value)* 0xa5 | 0xa7 local time: 3 bytes, int nanos
//   0xa8 local date-time: 7 bytes, int | 0xa9 local date: 4 | 0xaa zoned: 7, int, string zone
//   0xab millis: 8 | 0xac seconds: 4 | 0xad minutes: 4 | 0xae instant: long seconds, int nanos
//   0xaf null | 0xb0 false | 0xb1 true | 0xb2 0.0 | 0xb3 1.0 | 0xb4 double as long | 0xb5 double: 8
//   0xb6 float as int | 0xb7 float: 4 | 0xb8 decimal as long | 0xb9 decimal: int scale, integer
//   0xba big integer as long | 0xbb big integer: int length, bytes | 0xbc int16 | 0xbd int8
//   0xbe int64: 8 | 0xbf int64 as int32: 4 | 0xc0-0xc7 long, 2 more | 0xc8-0xd7 long, 1 more
//   0xd8-0xef long -8..15 | 0x80-0x8f unused.
import { ByteBuf, u8At, u16be, u32be, u64be } from "../../meta/bytes";
import { Utf8Cache } from "../../meta/utf8-cache";

const MAX_DEPTH = 64;

export const JSONB_NULL: u32 = 0xaf;
export const JSONB_OBJECT: u32 = 0xa6;
export const JSONB_OBJECT_END: u32 = 0xa5;

/** String kinds of readStringRange (strKind). */
export const STR_LATIN1 = 1;
export const STR_UTF8 = 2;
export const STR_UTF16BE = 3;
export const STR_UTF16LE = 4;
export const STR_OTHER = 5; // GB18030: stepped over, never decoded
export const STR_UTF16 = 6; // Java's UTF_16: a byte-order mark, else big-endian

export class JsonbReader {
  p: usize = 0;
  end: usize = 0;
  error: string = "";
  strStart: usize = 0;
  strBytes: i32 = 0;
  strKind: i32 = 0;
  /** Decoded UTF-8/ASCII strings, reused while the frames repeat them. */
  private strings: Utf8Cache = new Utf8Cache();

  reset(p: usize, end: usize): void { this.p = p; this.end = end; this.error = ""; }

  peek(): i32 { return this.p < this.end ? <i32>u8At(this.p) : -1; }

  private fail(why: string): bool {
    if (this.error.length == 0) this.error = why;
    return false;
  }

  private need(n: i64): bool {
    if (n < 0 || <i64>(this.end - this.p) < n) return this.fail("truncated jsonb value");
    return true;
  }

  private skip(n: i64): bool {
    if (!this.need(n)) return false;
    this.p += <usize>n;
    return true;
  }

  /** Is `t` the first byte of an int32 (the form lengths, counts and symbols take)? */
  static isInt32(t: i32): bool { return t >= 0xf0 || t <= 0x48; }

  static isString(t: i32): bool { return t >= 0x49 && t <= 0x7e; }

  /** Reads an int in any of JSONB's int32 or int64 forms. */
  readInt(): i64 {
    if (!this.need(1)) return 0;
    const t = <i32>u8At(this.p);
    if (t >= 0xf0 || t <= 0x2f) { this.p += 1; return <i64><i8>t; }
    if (t >= 0x30 && t <= 0x3f) { if (!this.need(2)) return 0; const v = ((t - 0x38) << 8) | <i32>u8At(this.p + 1); this.p += 2; return <i64>v; }
    if (t >= 0x40 && t <= 0x47) { if (!this.need(3)) return 0; const v = ((t - 0x44) << 16) | <i32>u16be(this.p + 1); this.p += 3; return <i64>v; }
    if (t == 0x48 || t == 0xbf) { if (!this.need(5)) return 0; const v = <i32>u32be(this.p + 1); this.p += 5; return <i64>v; }
    if (t >= 0xd8 && t <= 0xef) { this.p += 1; return <i64>(t - 0xe0); }
    if (t >= 0xc8 && t <= 0xd7) { if (!this.need(2)) return 0; const v = ((t - 0xd0) << 8) | <i32>u8At(this.p + 1); this.p += 2; return <i64>v; }
    if (t >= 0xc0 && t <= 0xc7) { if (!this.need(3)) return 0; const v = ((t - 0xc4) << 16) | <i32>u16be(this.p + 1); this.p += 3; return <i64>v; }
    if (t == 0xbe) { if (!this.need(9)) return 0; const v = <i64>u64be(this.p + 1); this.p += 9; return v; }
    if (t == 0xbd) { if (!this.need(2)) return 0; const v = <i64><i8>u8At(this.p + 1); this.p += 2; return v; }
    if (t == 0xbc) { if (!this.need(3)) return 0; const v = <i64><i16>u16be(this.p + 1); this.p += 3; return v; }
    this.fail("expected int");
    return 0;
  }

  /** A length or count: an int32 form, 0 or more. */
  private readLength(): i64 {
    const t = this.peek();
    if (t < 0 || !JsonbReader.isInt32(t)) { this.fail(t < 0 ? "truncated jsonb value" : "expected length"); return -1; }
    const n = this.readInt();
    if (this.error.length > 0) return -1;
    if (n < 0) { this.fail("negative jsonb length"); return -1; }
    return n;
  }

  /**
   * Reads a string's extent: [strStart, strStart+strBytes) in encoding strKind. Returns false for
   * null (0xaf, no error) or on error.
   */
  readStringRange(): bool {
    if (!this.need(1)) return false;
    const t = <i32>u8At(this.p);
    if (t == 0xaf) { this.p += 1; return false; }
    if (t >= 0x49 && t <= 0x78) {
      this.p += 1;
      this.strStart = this.p; this.strBytes = t - 0x49; this.strKind = STR_LATIN1;
      return this.skip(this.strBytes);
    }
    if (t < 0x79 || t > 0x7e) return this.fail("expected string");
    this.p += 1;
    const n = this.readLength();
    if (n < 0) return false;
    if (n > 0x7fffffff) return this.fail("jsonb string too long");
    this.strStart = this.p; this.strBytes = <i32>n;
    this.strKind = t == 0x79 ? STR_LATIN1 : t == 0x7a ? STR_UTF8 : t == 0x7b ? STR_UTF16 : t == 0x7d ? STR_UTF16BE : t == 0x7c ? STR_UTF16LE : STR_OTHER;
    return this.skip(n);
  }

  /** The string just read by readStringRange, decoded (UTF-8 and ASCII ones from a cache of recent strings); null if it is GB18030. */
  decodeRange(): string | null {
    const p = this.strStart, n = this.strBytes;
    if (this.strKind == STR_UTF8) return this.strings.get(p, n);
    if (this.strKind == STR_LATIN1) {
      let ascii = true;
      for (let i = 0; i < n; i++) if (u8At(p + <usize>i) >= 0x80) { ascii = false; break; }
      if (ascii) return this.strings.get(p, n);
      let s = "";
      for (let i = 0; i < n; i++) s += String.fromCharCode(<i32>u8At(p + <usize>i));
      return s;
    }
    if (this.strKind == STR_UTF16BE || this.strKind == STR_UTF16LE || this.strKind == STR_UTF16) {
      // fastjson2 reads 0x7b with Java's UTF_16 charset: a byte-order mark decides, else big-endian.
      let be = this.strKind != STR_UTF16LE;
      let i = 0;
      if (this.strKind == STR_UTF16 && n >= 2) {
        const m = (<i32>u8At(p) << 8) | <i32>u8At(p + 1);
        if (m == 0xfeff) i = 2; else if (m == 0xfffe) { be = false; i = 2; }
      }
      let s = "";
      for (; i + 1 < n; i += 2) {
        const a = <i32>u8At(p + <usize>i), b = <i32>u8At(p + <usize>i + 1);
        s += String.fromCharCode(be ? (a << 8) | b : (b << 8) | a);
      }
      return s;
    }
    return null;
  }

  /** Reads a string value (allocates). null for JSONB null or error (check `error`). */
  readString(): string | null {
    if (!this.readStringRange()) return null;
    const s = this.decodeRange();
    if (s == null) this.fail("GB18030 strings are not decoded");
    return s;
  }

  /** A symbol (after its 0x7f): an int referring to an earlier one, or a string and its int. */
  private skipSymbol(): bool {
    const t = this.peek();
    if (t < 0) return this.fail("truncated jsonb value");
    if (!JsonbReader.isInt32(t)) { this.readStringRange(); if (this.error.length > 0) return false; }
    this.readInt();
    return this.error.length == 0;
  }

  /** A type name after 0x92: an int (earlier type), a symbol, or a string and its symbol int. */
  private skipTypeName(): bool {
    const t = this.peek();
    if (t < 0) return this.fail("truncated jsonb value");
    if (t == 0x7f) { this.p += 1; return this.skipSymbol(); }
    return this.skipSymbol();
  }

  /** Skips a typed-value prefix (0x92 type) if there is one: the value follows. */
  skipTypePrefix(): bool {
    if (this.peek() != 0x92) return true;
    this.p += 1;
    return this.skipTypeName();
  }

  /** Skips one complete value of any type. */
  skipValue(depth: i32 = 0): bool {
    if (depth > MAX_DEPTH) return this.fail("jsonb value nested too deep");
    if (!this.need(1)) return false;
    const t = <i32>u8At(this.p);
    // ints and longs of every width, int8, int16
    if (t >= 0xf0 || t <= 0x48 || (t >= 0xbc && t <= 0xef)) { this.readInt(); return this.error.length == 0; }
    if (t >= 0x49 && t <= 0x7e) { this.readStringRange(); return this.error.length == 0; }
    if (t == 0x7f) { this.p += 1; return this.skipSymbol(); }
    if (t >= 0xaf && t <= 0xb3) return this.skip(1);
    this.p += 1;
    switch (t) {
      case 0x90: this.readInt(); return this.error.length == 0;                        // char
      case 0x91: case 0xbb: { const n = this.readLength(); return n >= 0 && this.skip(n); } // binary, big integer
      case 0x92: return this.skipTypeName() && this.skipValue(depth + 1);               // typed value
      case 0x93: this.readStringRange(); return this.error.length == 0;                 // reference path
      case 0xa4: return this.skipCount(depth, this.readLength());
      case 0xa6: return this.skipObject(depth);
      case 0xa7: return this.skip(3) && this.skipInt();
      case 0xa8: return this.skip(7) && this.skipInt();
      case 0xa9: return this.skip(4);
      case 0xaa: if (!this.skip(7) || !this.skipInt()) return false; this.readStringRange(); return this.error.length == 0;
      case 0xab: case 0xb5: return this.skip(8);
      case 0xac: case 0xad: case 0xb7: return this.skip(4);
      case 0xae: return this.skipInt() && this.skipInt();
      case 0xb4: case 0xb6: case 0xb8: case 0xba: return this.skipInt();
      case 0xb9: return this.skipInt() && this.skipValue(depth + 1);                    // scale, unscaled
      default: break;
    }
    if (t >= 0x94 && t <= 0xa3) return this.skipCount(depth, <i64>(t - 0x94));
    this.p -= 1;
    return this.fail("unknown jsonb type 0x" + t.toString(16));
  }

  private skipInt(): bool { this.readInt(); return this.error.length == 0; }

  private skipCount(depth: i32, n: i64): bool {
    if (this.error.length > 0 || n < 0) return this.fail("bad jsonb array length");
    if (n > <i64>(this.end - this.p)) return this.fail("bad jsonb array length");
    for (let i: i64 = 0; i < n; i++) if (!this.skipValue(depth + 1)) return false;
    return true;
  }

  /** After 0xa6: name/value pairs up to and including 0xa5. */
  private skipObject(depth: i32): bool {
    while (true) {
      if (!this.need(1)) return false;
      if (u8At(this.p) == JSONB_OBJECT_END) { this.p += 1; return true; }
      if (!this.skipValue(depth + 1) || !this.skipValue(depth + 1)) return false;
    }
  }
}

/** A JSONB int32 in its shortest form. */
export function writeJsonbInt(out: ByteBuf, v: i32): void {
  if (v >= -16 && v <= 47) out.writeU8(<u32>(v & 0xff));
  else if (v >= -2048 && v <= 2047) { out.writeU8(<u32>(0x38 + (v >> 8))); out.writeU8(<u32>(v & 0xff)); }
  else if (v >= -262144 && v <= 262143) { out.writeU8(<u32>(0x44 + (v >> 16))); out.writeU16BE(<u32>(v & 0xffff)); }
  else { out.writeU8(0x48); out.writeU32BE(<u32>v); }
}

/** A JSONB string as fastjson2 writes one: Latin-1 forms for ASCII, UTF-8 otherwise. */
export function writeJsonbString(out: ByteBuf, s: string): void {
  let ascii = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) { ascii = false; break; }
  const n = String.UTF8.byteLength(s, false);
  if (ascii && n <= 47) out.writeU8(<u32>(0x49 + n));
  else { out.writeU8(ascii ? 0x79 : 0x7a); writeJsonbInt(out, n); }
  out.writeUtf8(s);
}

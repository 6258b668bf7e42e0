// Protobuf writing for the messages this module sends (OTLP export requests, RLS requests):
// fields are appended to a ByteBuf in place, strings encoded straight into it, so a span or a
// log record costs no allocation. Nested messages whose size is not known up front are written
// into a scratch ByteBuf and appended with their length.
import { ByteBuf } from "../bytes";

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;

export function varintSize(v: u64): i32 {
  let n = 1;
  while (v >= 0x80) { v >>= 7; n++; }
  return n;
}

export function writeVarint(b: ByteBuf, v: u64): void {
  if (v < 0x80) { b.writeU8(<u32>v); return; }
  b.ensure(10);
  let p = b.ptr + <usize>b.len;
  const start = p;
  while (v >= 0x80) { store<u8>(p++, <u8>((v & 0x7f) | 0x80)); v >>= 7; }
  store<u8>(p++, <u8>v);
  b.len += <i32>(p - start);
}

@inline export function writeTag(b: ByteBuf, field: u32, wire: u32): void { writeVarint(b, <u64>((field << 3) | wire)); }

export function writeUint(b: ByteBuf, field: u32, v: u64): void { writeTag(b, field, WIRE_VARINT); writeVarint(b, v); }

export function writeFixed64(b: ByteBuf, field: u32, v: u64): void {
  writeTag(b, field, WIRE_FIXED64);
  b.ensure(8);
  store<u64>(b.ptr + <usize>b.len, v); // protobuf fixed64 is little-endian, as wasm memory is
  b.len += 8;
}

export function writeFixed32(b: ByteBuf, field: u32, v: u32): void {
  writeTag(b, field, 5);
  b.ensure(4);
  store<u32>(b.ptr + <usize>b.len, v);
  b.len += 4;
}

export function writeBytes(b: ByteBuf, field: u32, ptr: usize, len: i32): void {
  writeTag(b, field, WIRE_LEN);
  writeVarint(b, <u64>len);
  b.writeBytes(ptr, len);
}

export function writeString(b: ByteBuf, field: u32, s: string): void {
  writeTag(b, field, WIRE_LEN);
  writeVarint(b, <u64>String.UTF8.byteLength(s, false));
  b.writeUtf8(s);
}

/** A nested message already written into `inner`. */
export function writeMessage(b: ByteBuf, field: u32, inner: ByteBuf): void { writeBytes(b, field, inner.ptr, inner.len); }

/** Big-endian id bytes (trace and span ids are written as their hex reads). */
export function writeIdField(b: ByteBuf, field: u32, hi: u64, lo: u64, bytes: i32): void {
  writeTag(b, field, WIRE_LEN);
  writeVarint(b, <u64>bytes);
  if (bytes == 16) b.writeU64BE(hi);
  b.writeU64BE(lo);
}

// OTLP KeyValue{key = 1, value = 2: AnyValue{string_value = 1, bool_value = 2, int_value = 3}}.
// Sizes are computed first, so the pair is written in one pass.

export function writeAttrString(b: ByteBuf, field: u32, key: string, value: string): void {
  const k = String.UTF8.byteLength(key, false), v = String.UTF8.byteLength(value, false);
  const any = 1 + varintSize(<u64>v) + v;
  writeTag(b, field, WIRE_LEN);
  writeVarint(b, <u64>(1 + varintSize(<u64>k) + k + 1 + varintSize(<u64>any) + any));
  writeString(b, 1, key);
  writeTag(b, 2, WIRE_LEN); writeVarint(b, <u64>any);
  writeString(b, 1, value);
}

export function writeAttrInt(b: ByteBuf, field: u32, key: string, value: i64): void {
  const k = String.UTF8.byteLength(key, false);
  const any = 1 + varintSize(<u64>value);
  writeTag(b, field, WIRE_LEN);
  writeVarint(b, <u64>(1 + varintSize(<u64>k) + k + 1 + varintSize(<u64>any) + any));
  writeString(b, 1, key);
  writeTag(b, 2, WIRE_LEN); writeVarint(b, <u64>any);
  writeUint(b, 3, <u64>value);
}

export function writeAttrBool(b: ByteBuf, field: u32, key: string, value: bool): void {
  const k = String.UTF8.byteLength(key, false);
  writeTag(b, field, WIRE_LEN);
  writeVarint(b, <u64>(1 + varintSize(<u64>k) + k + 1 + 1 + 2));
  writeString(b, 1, key);
  writeTag(b, 2, WIRE_LEN); writeVarint(b, 2);
  writeUint(b, 2, value ? 1 : 0);
}

// Attributes whose key (and often value) repeat on every item are encoded once and copied.

/** The encoded `key = 1` part of a KeyValue. */
export function keyField(key: string): ByteBuf {
  const b = new ByteBuf();
  writeString(b, 1, key);
  return b;
}

/** A whole KeyValue attribute (tag, length, key, string value), ready to copy into items. */
export function attrStringBlob(field: u32, key: string, value: string): ByteBuf {
  const b = new ByteBuf();
  writeAttrString(b, field, key, value);
  return b;
}

/** writeAttrInt with the key already encoded (keyField). */
export function writeAttrIntKey(b: ByteBuf, field: u32, key: ByteBuf, value: i64): void {
  const any = 1 + varintSize(<u64>value);
  writeTag(b, field, WIRE_LEN);
  writeVarint(b, <u64>(key.len + 1 + varintSize(<u64>any) + any));
  b.writeBytes(key.ptr, key.len);
  writeTag(b, 2, WIRE_LEN); writeVarint(b, <u64>any);
  writeUint(b, 3, <u64>value);
}

/** A string AnyValue (as a LogRecord body, field 5) whose UTF-8 bytes are in `text`. */
export function writeAnyString(b: ByteBuf, field: u32, text: ByteBuf): void {
  writeTag(b, field, WIRE_LEN);
  writeVarint(b, <u64>(1 + varintSize(<u64>text.len) + text.len));
  writeBytes(b, 1, text.ptr, text.len);
}

// Reading: just enough to find one varint field of a response (RLS overall_code, OTLP
// partial_success). A malformed message reads as "absent", never traps.

/** The value of varint field `field` at the top level of [p, p+len), or `absent`. */
export function readVarintField(p: usize, len: i32, field: u32, absent: u64): u64 {
  const end = p + <usize>len;
  while (p < end) {
    const key = readVarint(p, end); if (readPos == 0) return absent; p = readPos;
    const f = <u32>(key >> 3), wire = <u32>(key & 7);
    if (wire == WIRE_VARINT) {
      const v = readVarint(p, end); if (readPos == 0) return absent; p = readPos;
      if (f == field) return v;
    } else if (wire == WIRE_FIXED64) { p += 8; }
    else if (wire == 5) { p += 4; }
    else if (wire == WIRE_LEN) {
      const n = readVarint(p, end); if (readPos == 0 || n > <u64>(end - readPos)) return absent;
      lastLenAt = readPos; lastLen = <i32>n;
      p = readPos + <usize>n;
      if (f == field) return LEN_FOUND;
    } else return absent;
  }
  return absent;
}

/** Returned by readVarintField when `field` is a length-delimited one: see lastLenAt/lastLen. */
export const LEN_FOUND: u64 = 0xfffffffffffffffe;
export let lastLenAt: usize = 0;
export let lastLen: i32 = 0;

let readPos: usize = 0;
function readVarint(p: usize, end: usize): u64 {
  let v: u64 = 0;
  for (let shift: u64 = 0; shift < 64 && p < end; shift += 7) {
    const b = <u64>load<u8>(p++);
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) { readPos = p; return v; }
  }
  readPos = 0;
  return 0;
}

// Pointer writers for the per-request items (spans, log records): the caller reserves an upper
// bound once (ByteBuf.ensure) and writes without a bounds check per field.

@inline export function putVarint(p: usize, v: u64): usize {
  while (v >= 0x80) { store<u8>(p++, <u8>((v & 0x7f) | 0x80)); v >>= 7; }
  store<u8>(p++, <u8>v);
  return p;
}

@inline export function putTag(p: usize, field: u32, wire: u32): usize { return putVarint(p, <u64>((field << 3) | wire)); }

@inline export function putBytes(p: usize, src: usize, n: i32): usize { memory.copy(p, src, <usize>n); return p + <usize>n; }

@inline export function putBuf(p: usize, b: ByteBuf): usize { memory.copy(p, b.ptr, <usize>b.len); return p + <usize>b.len; }

/** A string field whose UTF-8 length `n` the caller computed. */
@inline export function putString(p: usize, field: u32, s: string, n: i32): usize {
  p = putTag(p, field, WIRE_LEN);
  p = putVarint(p, <u64>n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p, false);
  return p + <usize>n;
}

@inline export function putFixed64(p: usize, field: u32, v: u64): usize {
  p = putTag(p, field, WIRE_FIXED64);
  store<u64>(p, v);
  return p + 8;
}

/** An id as big-endian bytes (8 or 16). */
@inline export function putId(p: usize, field: u32, hi: u64, lo: u64, bytes: i32): usize {
  p = putTag(p, field, WIRE_LEN);
  store<u8>(p++, <u8>bytes);
  if (bytes == 16) { store<u64>(p, bswap<u64>(hi)); p += 8; }
  store<u64>(p, bswap<u64>(lo));
  return p + 8;
}

/** A KeyValue with an int value; `key` from keyField. */
@inline export function putAttrInt(p: usize, field: u32, key: ByteBuf, value: i64): usize {
  const any = 1 + varintSize(<u64>value);
  p = putTag(p, field, WIRE_LEN);
  p = putVarint(p, <u64>(key.len + 2 + any));
  p = putBuf(p, key);
  store<u8>(p++, 0x12); store<u8>(p++, <u8>any);
  store<u8>(p++, 0x18);
  return putVarint(p, <u64>value);
}

/** A KeyValue with a string value; `key` from keyField, `n` the value's UTF-8 length. */
export function putAttrString(p: usize, field: u32, key: ByteBuf, s: string, n: i32): usize {
  const any = 1 + varintSize(<u64>n) + n;
  p = putTag(p, field, WIRE_LEN);
  p = putVarint(p, <u64>(key.len + 1 + varintSize(<u64>any) + any));
  p = putBuf(p, key);
  store<u8>(p++, 0x12);
  p = putVarint(p, <u64>any);
  return putString(p, 1, s, n);
}

/** Room for a varint-framed field around `n` bytes of payload (tag + length + payload). */
@inline export function fieldBound(n: i32): i32 { return n + 16; }

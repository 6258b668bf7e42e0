// THeader: the Thrift transport with a place for key/value headers. Layout after the 4-byte
// frame length: magic 0x0FFF (u16), flags (u16), seqid (u32), header size in 4-byte words
// (u16), then the header: protocol id, transforms, info blocks (KEYVALUE / PKEYVALUE),
// zero padding; then the payload message.
import { ByteBuf, utf8String } from "../../meta/bytes";
import { Metadata } from "../../meta/metadata";
import { KeyValue, WantedKeys } from "../../meta/codec";
import {
  MALFORMED, INFO_KEYVALUE, INFO_PKEYVALUE, OFF_INFO_START, OFF_INFO_END, OFF_HEADER_END,
  byteAt, readVarint, varintValue, skipBytes,
} from "./wire";
import { writeVarint } from "./writer";

export const THEADER_FIXED = 14; // length + magic + flags + seqid + header words

/** Protocol id and transform count read by parseHeaderPrologue. */
export let prologueProtocol: i32 = 0;
export let prologueTransforms: i32 = 0;

/** Read protocol id and transforms at p; returns the first info block position or MALFORMED. */
export function parseHeaderPrologue(base: usize, p: i32, headerEnd: i32): i32 {
  p = readVarint(base, p, headerEnd, 5, MALFORMED); if (p < 0) return p;
  prologueProtocol = <i32>varintValue;
  p = readVarint(base, p, headerEnd, 5, MALFORMED); if (p < 0) return p;
  const n = varintValue;
  if (n > <u64>(headerEnd - p)) return MALFORMED;
  prologueTransforms = <i32>n;
  for (let i = 0; i < prologueTransforms; i++) {
    p = readVarint(base, p, headerEnd, 5, MALFORMED); if (p < 0) return p;
  }
  return p;
}

/** Does any rule want a key other than `method`? Only then are info headers turned into strings. */
export function wantsHeaders(wanted: WantedKeys): bool {
  if (wanted.all) return true;
  const n = wanted.keys.size;
  return n > (wanted.keys.has("method") ? 1 : 0);
}

/**
 * Walk the info blocks in [p, headerEnd). With `md`, wanted keys become attributes. Returns the
 * position where the blocks we understand end (padding or an unknown block), or MALFORMED.
 */
export function walkInfo(base: usize, p: i32, headerEnd: i32, md: Metadata | null, wanted: WantedKeys | null): i32 {
  while (p < headerEnd) {
    const at = p;
    p = readVarint(base, p, headerEnd, 5, MALFORMED); if (p < 0) return p;
    const id = varintValue;
    if (id != INFO_KEYVALUE && id != INFO_PKEYVALUE) return at; // padding (0) or unknown
    p = readVarint(base, p, headerEnd, 5, MALFORMED); if (p < 0) return p;
    const count = varintValue;
    if (count > <u64>((headerEnd - p) >> 1)) return MALFORMED; // each pair takes >= 2 bytes
    for (let i = 0; i < <i32>count; i++) {
      p = readVarint(base, p, headerEnd, 5, MALFORMED); if (p < 0) return p;
      const kAt = p, kLen = <i32>varintValue;
      p = skipBytes(p, kLen, headerEnd, MALFORMED); if (p < 0) return p;
      p = readVarint(base, p, headerEnd, 5, MALFORMED); if (p < 0) return p;
      const vAt = p, vLen = <i32>varintValue;
      p = skipBytes(p, vLen, headerEnd, MALFORMED); if (p < 0) return p;
      if (md != null && wanted != null) {
        const key = utf8String(base + <usize>kAt, kLen);
        if (wanted.has(key)) md.setAttribute(key, utf8String(base + <usize>vAt, vLen));
      }
    }
  }
  return p;
}

function inMutation(key: string, mutation: KeyValue[]): bool {
  for (let i = 0; i < mutation.length; i++) if (unchecked(mutation[i]).key == key) return true;
  return false;
}

function writeVarString(out: ByteBuf, s: string): void {
  writeVarint(out, <u32>String.UTF8.byteLength(s, false));
  out.writeUtf8(s);
}

/**
 * Re-emit the THeader frame at [base, base+len) with `mutation` set as KEYVALUE headers: pairs
 * with a mutated key are dropped from the existing blocks and a new block carries the values.
 * Returns false (appending nothing) when the header holds a block we do not understand or the
 * result would not fit the 16-bit header size.
 */
export function encodeWithHeaders(md: Metadata, mutation: KeyValue[], base: usize, len: i32, out: ByteBuf): bool {
  const infoStart = md.codecOffsets[OFF_INFO_START];
  const infoEnd = md.codecOffsets[OFF_INFO_END];
  const headerEnd = md.codecOffsets[OFF_HEADER_END];
  for (let q = infoEnd; q < headerEnd; q++) if (byteAt(base, q) != 0) return false; // unknown block
  const start = out.len;
  out.writeU32BE(0);                       // frame length, patched below
  out.writeBytes(base + 4, 8);             // magic, flags, seqid
  out.writeU16BE(0);                       // header words, patched below
  const hdr = out.len;
  out.writeBytes(base + THEADER_FIXED, infoStart - THEADER_FIXED); // protocol id, transforms
  let p = infoStart;
  while (p < infoEnd) {
    // Offsets were validated by decode; re-read them the same bounded way.
    p = readVarint(base, p, infoEnd, 5, MALFORMED); if (p < 0) { out.len = start; return false; }
    const id = <u32>varintValue;
    p = readVarint(base, p, infoEnd, 5, MALFORMED); if (p < 0) { out.len = start; return false; }
    const count = <i32>varintValue;
    const keys = new Array<string>(), values = new Array<string>();
    for (let i = 0; i < count; i++) {
      p = readVarint(base, p, infoEnd, 5, MALFORMED); if (p < 0) { out.len = start; return false; }
      const k = utf8String(base + <usize>p, <i32>varintValue); p += <i32>varintValue;
      p = readVarint(base, p, infoEnd, 5, MALFORMED); if (p < 0) { out.len = start; return false; }
      const v = utf8String(base + <usize>p, <i32>varintValue); p += <i32>varintValue;
      if (!inMutation(k, mutation)) { keys.push(k); values.push(v); }
    }
    writeVarint(out, id);
    writeVarint(out, <u32>keys.length);
    for (let i = 0; i < keys.length; i++) { writeVarString(out, keys[i]); writeVarString(out, values[i]); }
  }
  writeVarint(out, INFO_KEYVALUE);
  writeVarint(out, <u32>mutation.length);
  for (let i = 0; i < mutation.length; i++) {
    writeVarString(out, mutation[i].key);
    writeVarString(out, mutation[i].value);
  }
  while (((out.len - hdr) & 3) != 0) out.writeU8(0);
  const words = (out.len - hdr) >> 2;
  if (words > 0xffff) { out.len = start; return false; }
  out.setU8(hdr - 2, <u32>(words >> 8));
  out.setU8(hdr - 1, <u32>(words & 0xff));
  out.writeBytes(base + <usize>headerEnd, len - headerEnd); // payload unchanged
  out.setU32BE(start, <u32>(out.len - start - 4));
  return true;
}

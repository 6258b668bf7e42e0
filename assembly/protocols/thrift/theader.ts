// THeader: the Thrift transport with a place for key/value headers. Layout after the 4-byte
// frame length: magic 0x0FFF (u16), flags (u16), seqid (u32), header size in 4-byte words
// (u16), then the header: protocol id, transforms, info blocks (KEYVALUE / PKEYVALUE),
// zero padding; then the payload message.
import { ByteBuf, utf8String, utf8Equals } from "../../meta/bytes";
import { Metadata } from "../../meta/metadata";
import { Utf8Cache } from "../../meta/utf8-cache";
import { KeyValue, WantedKeys } from "../../meta/codec";
import {
  MALFORMED, INFO_KEYVALUE, INFO_PKEYVALUE, OFF_INFO_START, OFF_INFO_END, OFF_HEADER_END,
  byteAt, readVarint, varintValue,
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
  const n = wanted.list.length;
  return n > (wanted.has("method") ? 1 : 0);
}

/**
 * Walk the info blocks in [p, headerEnd). With `md`, wanted keys become attributes. Returns the
 * position where the blocks we understand end (padding or an unknown block), or MALFORMED.
 */
/** Header values rules read, reused while the frames repeat them (no allocation per frame). */
const infoValues = new Utf8Cache();

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
      const next = nextPair(base, p, headerEnd); if (next < 0) return next;
      const kAt = pairKeyAt, kLen = pairKeyLen;
      p = next;
      if (md != null && wanted != null) {
        const key = wantedKey(base + <usize>kAt, kLen, wanted);
        if (key != null) {
          // The value follows the key's end: its length varint, then its bytes, up to `next`.
          const v = readVarint(base, kAt + kLen, next, 5, MALFORMED);
          md.setAttribute(key, infoValues.get(base + <usize>v, next - v));
        }
      }
    }
  }
  return p;
}

/** The wanted key spelled by the UTF-8 bytes [p, p+len), compared in place; null if none. */
function wantedKey(p: usize, len: i32, wanted: WantedKeys): string | null {
  if (wanted.all) return utf8String(p, len);
  const list = wanted.list;
  for (let i = 0; i < list.length; i++) if (utf8Equals(p, len, unchecked(list[i]))) return unchecked(list[i]);
  return null;
}

/** Is the UTF-8 key at [p, p+len) one of the mutated keys? Compared in place, nothing decoded. */
function inMutation(base: usize, p: i32, len: i32, mutation: KeyValue[]): bool {
  for (let i = 0; i < mutation.length; i++) if (utf8Equals(base + <usize>p, len, unchecked(mutation[i]).key)) return true;
  return false;
}

function writeVarString(out: ByteBuf, s: string): void {
  writeVarint(out, <u32>String.UTF8.byteLength(s, false));
  out.writeUtf8(s);
}

/** Apache C++ THeaderTransport refuses a header of 16384 words or more ("unreasonable"). */
export const MAX_HEADER_WORDS = 16383;

/**
 * Re-emit the THeader frame at [base, base+len) with `mutation` set as KEYVALUE headers: pairs
 * with a mutated key are dropped from the existing blocks and a new block carries the values.
 * Pairs kept are copied byte for byte (HeaderFormat.md: implementations must not alter keys or
 * values). Returns false (appending nothing) when the header holds a block we do not understand
 * or the result would be a header peers refuse (MAX_HEADER_WORDS).
 */
export function encodeWithHeaders(md: Metadata, mutation: KeyValue[], base: usize, len: i32, out: ByteBuf): bool {
  const infoStart = md.offset(OFF_INFO_START);
  const infoEnd = md.offset(OFF_INFO_END);
  const headerEnd = md.offset(OFF_HEADER_END);
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
    // Two passes over the pairs: count the ones kept, then copy them.
    const pairs = p;
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const k = nextPair(base, p, infoEnd); if (k < 0) { out.len = start; return false; }
      if (!inMutation(base, pairKeyAt, pairKeyLen, mutation)) kept++;
      p = k;
    }
    writeVarint(out, id);
    writeVarint(out, <u32>kept);
    p = pairs;
    for (let i = 0; i < count; i++) {
      const k = nextPair(base, p, infoEnd);
      if (!inMutation(base, pairKeyAt, pairKeyLen, mutation)) out.writeBytes(base + <usize>p, k - p);
      p = k;
    }
  }
  writeVarint(out, INFO_KEYVALUE);
  writeVarint(out, <u32>mutation.length);
  for (let i = 0; i < mutation.length; i++) {
    writeVarString(out, mutation[i].key);
    writeVarString(out, mutation[i].value);
  }
  while (((out.len - hdr) & 3) != 0) out.writeU8(0);
  const words = (out.len - hdr) >> 2;
  if (words > MAX_HEADER_WORDS) { out.len = start; return false; }
  out.setU8(hdr - 2, <u32>(words >> 8));
  out.setU8(hdr - 1, <u32>(words & 0xff));
  out.writeBytes(base + <usize>headerEnd, len - headerEnd); // payload unchanged
  out.setU32BE(start, <u32>(out.len - start - 4));
  return true;
}

let pairKeyAt: i32 = 0;
let pairKeyLen: i32 = 0;

/** Step over one key/value pair at p (key position in pairKeyAt/Len); MALFORMED past `end`. */
function nextPair(base: usize, p: i32, end: i32): i32 {
  p = readVarint(base, p, end, 5, MALFORMED); if (p < 0) return p;
  if (varintValue > <u64>(end - p)) return MALFORMED;
  pairKeyAt = p; pairKeyLen = <i32>varintValue;
  p += pairKeyLen;
  p = readVarint(base, p, end, 5, MALFORMED); if (p < 0) return p;
  if (varintValue > <u64>(end - p)) return MALFORMED;
  return p + <i32>varintValue;
}

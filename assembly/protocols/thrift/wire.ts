// Thrift wire constants and bounds-checked primitive readers. Positions are i32 offsets from a
// base pointer; a negative result is a status (NEED_MORE / MALFORMED), never a position, so a
// caller cannot read past `end` by accident.
import { u32be } from "../../meta/bytes";

export const NEED_MORE: i32 = -1;
export const MALFORMED: i32 = -2;

// Transport and protocol variant of a frame, kept in md.codecFlags so that error replies and
// probes are framed and encoded exactly like the request they answer.
export const TRANSPORT_MASK: i32 = 3;
export const T_UNFRAMED: i32 = 0;
export const T_FRAMED: i32 = 1;
export const T_HEADER: i32 = 2;
export const PROTOCOL_MASK: i32 = 12;
export const P_BINARY: i32 = 0;
export const P_BINARY_NONSTRICT: i32 = 4;
export const P_COMPACT: i32 = 8;
/** THeader payload we cannot read (zlib transform, JSON protocol): framed and passed through. */
export const F_OPAQUE: i32 = 16;

// md.offset() slots (offsets from the start of the frame).
export const OFF_MESSAGE = 0;      // where the Thrift message (name, type, seqid) starts
export const OFF_INFO_START = 1;   // THeader: first info block
export const OFF_INFO_END = 2;     // THeader: end of the info blocks we understood
export const OFF_HEADER_END = 3;   // THeader: end of the header (start of the payload)
export const OFF_TH_FLAGS = 4;     // THeader: flags (u16)
export const OFF_TH_SEQID = 5;     // THeader: transport sequence id
export const OFF_TH_PROTO = 6;     // THeader: protocol id (0 binary, 2 compact)

export const MSG_CALL: i32 = 1;
export const MSG_REPLY: i32 = 2;
export const MSG_EXCEPTION: i32 = 3;
export const MSG_ONEWAY: i32 = 4;

export const BINARY_VERSION_1: u32 = 0x80010000;
export const COMPACT_PROTOCOL_ID: u32 = 0x82;
export const THEADER_MAGIC: u32 = 0x0fff;
export const THEADER_PROTO_BINARY: i32 = 0;
export const THEADER_PROTO_COMPACT: i32 = 2;
export const INFO_KEYVALUE: u32 = 1;
export const INFO_PKEYVALUE: u32 = 2;

/** Nesting deeper than this is refused: a hostile frame must not exhaust the wasm stack. */
export const MAX_DEPTH: i32 = 64;

@inline export function byteAt(base: usize, p: i32): u32 { return <u32>load<u8>(base + <usize>p); }
@inline export function i32At(base: usize, p: i32): i32 { return <i32>u32be(base + <usize>p); }

/** Value of the last readVarint (module-level scratch: decoding is single-threaded). */
export let varintValue: u64 = 0;

/**
 * Read an unsigned LEB128 varint of at most maxBytes bytes at p. Returns the position after
 * it; `short` when the bytes end first (NEED_MORE or MALFORMED, the caller's choice).
 */
export function readVarint(base: usize, p: i32, end: i32, maxBytes: i32, short: i32): i32 {
  let v: u64 = 0;
  let shift: u64 = 0;
  for (let i = 0; i < maxBytes; i++) {
    if (p >= end) return short;
    const b = byteAt(base, p++);
    v |= (<u64>(b & 0x7f)) << shift;
    if ((b & 0x80) == 0) { varintValue = v; return p; }
    shift += 7;
  }
  return MALFORMED;
}

/** Skip n bytes at p, or report that they are not all there. */
@inline export function skipBytes(p: i32, n: i64, end: i32, short: i32): i32 {
  if (n < 0) return MALFORMED;
  const q = <i64>p + n;
  return q > <i64>end ? short : <i32>q;
}

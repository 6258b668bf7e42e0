// Writers for the two messages the codec originates: the error reply (an EXCEPTION carrying a
// TApplicationException) and the probe (a CALL with empty arguments). Both are framed and
// encoded like the request in md, so the client (or server) reads them with the same stack.
import { ByteBuf } from "../../meta/bytes";
import { Metadata } from "../../meta/metadata";
import {
  TRANSPORT_MASK, PROTOCOL_MASK, T_FRAMED, T_HEADER, P_BINARY_NONSTRICT, P_COMPACT,
  OFF_TH_FLAGS, OFF_TH_SEQID, OFF_TH_PROTO, BINARY_VERSION_1, COMPACT_PROTOCOL_ID, THEADER_MAGIC,
} from "./wire";

export function writeVarint(out: ByteBuf, v: u32): void {
  while (v >= 0x80) { out.writeU8((v & 0x7f) | 0x80); v >>= 7; }
  out.writeU8(v);
}

function writeString(out: ByteBuf, proto: i32, s: string): void {
  const n = String.UTF8.byteLength(s, false);
  if (proto == P_COMPACT) writeVarint(out, <u32>n); else out.writeU32BE(<u32>n);
  out.writeUtf8(s);
}

function writeMessageBegin(out: ByteBuf, proto: i32, name: string, type: i32, seqid: u32): void {
  if (proto == P_COMPACT) {
    out.writeU8(COMPACT_PROTOCOL_ID);
    out.writeU8(((<u32>type) << 5) | 1);
    writeVarint(out, seqid);
    writeString(out, proto, name);
  } else if (proto == P_BINARY_NONSTRICT) {
    writeString(out, proto, name);
    out.writeU8(<u32>type);
    out.writeU32BE(seqid);
  } else {
    out.writeU32BE(BINARY_VERSION_1 | <u32>type);
    writeString(out, proto, name);
    out.writeU32BE(seqid);
  }
}

/** TApplicationException { 1: string message, 2: i32 type }. */
function writeAppException(out: ByteBuf, proto: i32, message: string, excType: i32): void {
  if (proto == P_COMPACT) {
    out.writeU8(0x18);                       // field delta 1, BINARY
    writeString(out, proto, message);
    out.writeU8(0x15);                       // field delta 1, I32
    writeVarint(out, <u32>((excType << 1) ^ (excType >> 31))); // zigzag
    out.writeU8(0);                          // STOP
  } else {
    out.writeU8(11); out.writeU16BE(1);      // STRING, id 1
    writeString(out, proto, message);
    out.writeU8(8); out.writeU16BE(2);       // I32, id 2
    out.writeU32BE(<u32>excType);
    out.writeU8(0);                          // STOP
  }
}

/**
 * Open the transport envelope of md's variant; returns the offset to patch in closeFrame.
 * THeader replies carry the request's flags, sequence id and protocol, no transforms, no info.
 */
function openFrame(md: Metadata, out: ByteBuf): i32 {
  const transport = md.codecFlags & TRANSPORT_MASK;
  const at = out.len;
  if (transport == T_FRAMED) {
    out.writeU32BE(0);
  } else if (transport == T_HEADER) {
    out.writeU32BE(0);
    out.writeU16BE(THEADER_MAGIC);
    out.writeU16BE(<u32>md.offset(OFF_TH_FLAGS));
    out.writeU32BE(<u32>md.offset(OFF_TH_SEQID));
    out.writeU16BE(1);                                  // header: 1 word
    out.writeU8(<u32>md.offset(OFF_TH_PROTO));   // protocol id
    out.writeU8(0);                                     // no transforms
    out.writeU16BE(0);                                  // padding
  }
  return at;
}

function closeFrame(md: Metadata, out: ByteBuf, at: i32): void {
  if ((md.codecFlags & TRANSPORT_MASK) != 0) out.setU32BE(at, <u32>(out.len - at - 4));
}

/** The protocol of md's variant (for THeader, decode keeps it consistent with OFF_TH_PROTO). */
@inline function protocolOf(md: Metadata): i32 { return md.codecFlags & PROTOCOL_MASK; }

export function writeExceptionReply(md: Metadata, out: ByteBuf, name: string, message: string, excType: i32): void {
  const at = openFrame(md, out);
  const proto = protocolOf(md);
  writeMessageBegin(out, proto, name, 3 /* EXCEPTION */, <u32>md.requestId);
  writeAppException(out, proto, message, excType);
  closeFrame(md, out, at);
}

export function writeEmptyCall(md: Metadata, out: ByteBuf, name: string): void {
  const at = openFrame(md, out);
  writeMessageBegin(out, protocolOf(md), name, 1 /* CALL */, <u32>md.requestId);
  out.writeU8(0); // empty argument struct
  closeFrame(md, out, at);
}

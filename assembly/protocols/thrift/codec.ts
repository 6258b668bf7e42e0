// Apache Thrift codec: framed, unframed (buffered) and THeader transports; binary (strict and
// non-strict) and compact protocols. Request id = seqid; attribute `method`, plus THeader info
// headers when a rule wants them. Mutations go into THeader headers; framed and unframed
// frames have no place for them (encode returns false and the framework logs and counts it).
import {
  Codec, DecodeStatus, ErrorType, KeyValue, MessageType, ResponseStatus, WantedKeys, errorTypeName,
} from "../../meta/codec";
import { ByteBuf } from "../../meta/bytes";
import { Metadata } from "../../meta/metadata";
import { Utf8Cache } from "../../meta/utf8-cache";
import {
  NEED_MORE, MALFORMED, T_UNFRAMED, T_FRAMED, T_HEADER, TRANSPORT_MASK, P_BINARY,
  P_BINARY_NONSTRICT, P_COMPACT, F_OPAQUE, OFF_MESSAGE, OFF_INFO_START, OFF_INFO_END,
  OFF_HEADER_END, OFF_TH_FLAGS, OFF_TH_SEQID, OFF_TH_PROTO, MSG_CALL, MSG_ONEWAY, MSG_REPLY,
  MSG_EXCEPTION, THEADER_MAGIC, THEADER_PROTO_BINARY, THEADER_PROTO_COMPACT, byteAt, i32At,
} from "./wire";
import { u16be } from "../../meta/bytes";
import { parseMessageHead, replyCarriesException, headType, headSeqid, headNameAt, headNameLen } from "./message";
import { StructScan } from "./scan";
import { THEADER_FIXED, parseHeaderPrologue, prologueProtocol, prologueTransforms, walkInfo, wantsHeaders, encodeWithHeaders } from "./theader";
import { writeExceptionReply, writeEmptyCall } from "./writer";

/** A method name no Thrift IDL can declare ('-' is not an identifier character). */
export const PROBE_METHOD = "metaprotocol-probe";

// TApplicationException types.
const TAPP_UNKNOWN_METHOD = 1;
const TAPP_INTERNAL_ERROR = 6;

export class ThriftCodec extends Codec {
  /** Method names remembered so that a request decodes without allocating (a service has few). */
  private names: Utf8Cache = new Utf8Cache();
  /**
   * Unframed struct walks: a message found whole in one call is walked with this shared scan;
   * only one still incomplete takes a scan of its own (kept in its Metadata until it completes),
   * so an idle connection holds none. Completed ones return to a small pool.
   */
  private scan: StructScan = new StructScan();
  private spare: StructScan[] = [];

  name(): string { return "thrift"; }

  // Thrift servers read a connection's next call only after answering the last one.
  repliesInOrder(): bool { return true; }

  /**
   * The method name at [ptr+at, ptr+at+len) as a string: a remembered one when the bytes match
   * (no allocation), else decoded once and remembered.
   */
  methodName(ptr: usize, at: i32, len: i32): string { return this.names.get(ptr + <usize>at, len); }

  decode(ptr: usize, len: i32, md: Metadata, fromDownstream: bool, wanted: WantedKeys): DecodeStatus {
    if (len < 1) return DecodeStatus.WaitForData;
    const b0 = byteAt(ptr, 0);
    if (b0 == 0x82) return this.decodeUnframed(ptr, len, md, P_COMPACT, wanted);
    if (b0 == 0x80) return this.decodeUnframed(ptr, len, md, P_BINARY, wanted);
    if (b0 > 0x7f) return fail(md, "thrift: not a framed length, binary or compact message");
    if (len < 5) return DecodeStatus.WaitForData;
    // A frame length is followed by a message (0x80 strict binary, 0x82 compact, 0x00 the high
    // byte of a non-strict name length) or THeader magic; anything else is the first name byte
    // of an unframed non-strict message, whose 4 leading bytes were the name length.
    const b4 = byteAt(ptr, 4);
    if (b4 != 0x80 && b4 != 0x82 && b4 != 0x00 && b4 != 0x0f) {
      return this.decodeUnframed(ptr, len, md, P_BINARY_NONSTRICT, wanted);
    }
    const bodyLen = i32At(ptr, 0);
    if (bodyLen < 1) return fail(md, "thrift: empty frame");
    const total = <i64>bodyLen + 4;
    md.frameSize = total > <i64>i32.MAX_VALUE ? i32.MAX_VALUE : <i32>total;
    // Over the cap: WaitForData with frameSize set, and the framework refuses it unbuffered.
    if (<i64>len < total || total > <i64>this.maxFrameBytes) return DecodeStatus.WaitForData;
    const end = <i32>total;
    if (b4 == 0x0f) return this.decodeHeader(ptr, end, md, fromDownstream, wanted);
    const proto = b4 == 0x80 ? P_BINARY : (b4 == 0x82 ? P_COMPACT : P_BINARY_NONSTRICT);
    md.codecFlags = T_FRAMED | proto;
    return this.finishMessage(ptr, 4, end, md, proto, wanted);
  }

  /**
   * Unframed: the message ends where its struct ends, so the struct is walked (bounded by
   * maxFrameBytes). The walk resumes where the last call stopped when the framework continues
   * the same frame, so a message arriving in many pieces is scanned once.
   */
  private decodeUnframed(ptr: usize, len: i32, md: Metadata, proto: i32, wanted: WantedKeys): DecodeStatus {
    const avail = len < this.maxFrameBytes ? len : this.maxFrameBytes;
    const held = md.codecState;
    let scan = this.scan;
    if (held != null && held instanceof StructScan) {
      md.codecState = null;
      if (md.continuing && changetype<StructScan>(held).active) scan = changetype<StructScan>(held);
      else this.recycle(changetype<StructScan>(held));
    }
    let end: i32;
    if (scan !== this.scan) {
      end = scan.run(ptr, avail);
    } else {
      const body = parseMessageHead(ptr, 0, avail, proto, this.maxFrameBytes, NEED_MORE);
      end = body;
      if (body >= 0) {
        scan.start(body, proto == P_COMPACT);
        end = scan.run(ptr, avail);
      }
    }
    if (end == NEED_MORE) {
      // Incomplete inside the struct: this message keeps its scan until the framework continues
      // it (an incomplete message head needs none: it is read again).
      if (scan.active) {
        md.codecState = scan;
        if (scan === this.scan) this.scan = this.spare.length > 0 ? this.spare.pop() : new StructScan();
      } else if (scan !== this.scan) this.recycle(scan);
      // The scan stops at maxFrameBytes; the framework refuses a longer unfinished message.
      return DecodeStatus.WaitForData;
    }
    scan.active = false;
    if (scan !== this.scan) this.recycle(scan);
    if (end == MALFORMED) return fail(md, "thrift: malformed unframed message");
    md.codecFlags = T_UNFRAMED | proto;
    return this.finishMessage(ptr, 0, end, md, proto, wanted);
  }

  private recycle(scan: StructScan): void {
    scan.active = false;
    if (this.spare.length < 8) this.spare.push(scan);
  }

  private decodeHeader(ptr: usize, end: i32, md: Metadata, fromDownstream: bool, wanted: WantedKeys): DecodeStatus {
    if (end < THEADER_FIXED || u16be(ptr + 4) != THEADER_MAGIC) return fail(md, "thrift: bad THeader magic");
    const headerEnd = THEADER_FIXED + (<i32>u16be(ptr + 12) << 2);
    if (headerEnd > end) return fail(md, "thrift: THeader header larger than its frame");
    const infoStart = parseHeaderPrologue(ptr, THEADER_FIXED, headerEnd);
    if (infoStart < 0) return fail(md, "thrift: malformed THeader protocol/transforms");
    const infoEnd = walkInfo(ptr, infoStart, headerEnd, md, wantsHeaders(wanted) ? wanted : null);
    if (infoEnd < 0) return fail(md, "thrift: malformed THeader info headers");
    md.setOffset(OFF_INFO_START, infoStart);
    md.setOffset(OFF_INFO_END, infoEnd);
    md.setOffset(OFF_HEADER_END, headerEnd);
    md.setOffset(OFF_TH_FLAGS, <i32>u16be(ptr + 6));
    md.setOffset(OFF_TH_SEQID, i32At(ptr, 8));
    const readable = prologueTransforms == 0 &&
      (prologueProtocol == THEADER_PROTO_BINARY || prologueProtocol == THEADER_PROTO_COMPACT);
    if (!readable) {
      // zlib transform or JSON payload: framed and forwarded, not parsed. Replies we write are
      // plain binary, which a THeader peer reads from the protocol id of each frame.
      md.codecFlags = T_HEADER | P_BINARY | F_OPAQUE;
      md.setOffset(OFF_TH_PROTO, THEADER_PROTO_BINARY);
      md.requestId = <u64><u32>md.offset(OFF_TH_SEQID);
      md.messageType = fromDownstream ? MessageType.Request : MessageType.Response;
      md.isReply = !fromDownstream;
      md.headerSize = headerEnd; md.bodySize = end - headerEnd;
      return DecodeStatus.Done;
    }
    md.setOffset(OFF_TH_PROTO, prologueProtocol);
    if (headerEnd >= end) return fail(md, "thrift: THeader frame without a message");
    const proto = prologueProtocol == THEADER_PROTO_COMPACT ? P_COMPACT
      : (byteAt(ptr, headerEnd) == 0x80 ? P_BINARY : P_BINARY_NONSTRICT);
    md.codecFlags = T_HEADER | proto;
    return this.finishMessage(ptr, headerEnd, end, md, proto, wanted);
  }

  /** Read the message header at `at` of the complete frame [0, end) and fill md. */
  private finishMessage(ptr: usize, at: i32, end: i32, md: Metadata, proto: i32, wanted: WantedKeys): DecodeStatus {
    const body = parseMessageHead(ptr, at, end, proto, end, MALFORMED);
    if (body < 0) return fail(md, "thrift: malformed message header");
    md.setOffset(OFF_MESSAGE, at);
    md.requestId = <u64>headSeqid;
    md.headerSize = body;
    md.bodySize = end - body;
    const isRequest = headType == MSG_CALL || headType == MSG_ONEWAY;
    if (headType == MSG_CALL) md.messageType = MessageType.Request;
    else if (headType == MSG_ONEWAY) md.messageType = MessageType.Oneway;
    else {
      md.messageType = MessageType.Response;
      md.isReply = true;
      const failed = headType == MSG_EXCEPTION ||
        (headType == MSG_REPLY && replyCarriesException(ptr, body, end, proto));
      md.responseStatus = failed ? ResponseStatus.Error : ResponseStatus.Ok;
    }
    // The request's name is kept for its error reply and probe (the frame's bytes are gone by
    // then); a response's only on demand. Known names cost a byte compare, not an allocation.
    const wantMethod = wanted.has("method");
    if (isRequest || wantMethod) {
      const name = this.methodName(ptr, headNameAt, headNameLen);
      md.codecText = name;
      if (wantMethod) { md.setAttribute("method", name); md.operationName = name; }
    }
    return DecodeStatus.Done;
  }

  encode(md: Metadata, mutation: KeyValue[], ptr: usize, len: i32, out: ByteBuf): bool {
    if ((md.codecFlags & TRANSPORT_MASK) != T_HEADER || mutation.length == 0) return false;
    return encodeWithHeaders(md, mutation, ptr, len, out);
  }

  onError(md: Metadata, error: ErrorType, message: string, out: ByteBuf): void {
    const text = message.length > 0 ? message : errorTypeName(error);
    const type = error == ErrorType.RouteNotFound ? TAPP_UNKNOWN_METHOD : TAPP_INTERNAL_ERROR;
    writeExceptionReply(md, out, md.codecText, text, type);
  }

  probe(md: Metadata, out: ByteBuf): bool {
    if ((md.codecFlags & F_OPAQUE) != 0) return false;
    // A multiplexed call ("Service:method") must reach its service to get UNKNOWN_METHOD back.
    const colon = md.codecText.indexOf(":");
    const name = colon >= 0 ? md.codecText.substring(0, colon + 1) + PROBE_METHOD : PROBE_METHOD;
    writeEmptyCall(md, out, name);
    return true;
  }
}

function fail(md: Metadata, why: string): DecodeStatus {
  md.error = why;
  return DecodeStatus.Error;
}

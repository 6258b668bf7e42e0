// awesomerpc codec: the smallest useful codec (`npm run new-protocol` starts from this file).
// A frame is a 13-byte big-endian header, then the body:
//   version u8 @0 | pack_flow u32 @1 (request id) | pack_len u32 @5 (whole frame, header
//   included) | req_cmd i16 @9 | rsp_code i16 @11 (responses: 0 = ok)
// Routable attribute: `cmd` (req_cmd in decimal). Error reply: a header-only frame with the
// request's pack_flow and req_cmd and a non-zero rsp_code.
import {
  Codec, DecodeStatus, ErrorType, KeyValue, MessageType, ResponseStatus, WantedKeys,
} from "../../meta/codec";
import { ByteBuf, u8At, u32be, i16be } from "../../meta/bytes";
import { Metadata } from "../../meta/metadata";

const HEADER_SIZE: i32 = 13;
/** Bytes needed before the total length (pack_len) is known. */
const LENGTH_KNOWN_AT: i32 = 9;

// Kept in md so onError can answer after the frame's bytes are gone.
const SLOT_CMD = 0;

export class AwesomerpcCodec extends Codec {
  name(): string { return "awesomerpc"; }

  decode(ptr: usize, len: i32, md: Metadata, fromDownstream: bool, wanted: WantedKeys): DecodeStatus {
    // 1. Wait until the total length is known, then announce it so the framework can refuse
    //    an oversize frame before buffering it.
    if (len < LENGTH_KNOWN_AT) return DecodeStatus.WaitForData;
    const total = u32be(ptr + 5);
    md.frameSize = total > <u32>i32.MAX_VALUE ? i32.MAX_VALUE : <i32>total;
    if (total < <u32>HEADER_SIZE) { md.error = "awesomerpc: pack_len " + total.toString() + " < 13"; return DecodeStatus.Error; }
    // 2. Wait for the whole frame (over the cap: wait too, and the framework refuses it).
    if (total > <u32>this.maxFrameBytes || len < <i32>total) return DecodeStatus.WaitForData;
    // 3. Fill the metadata: every read above is inside [ptr, ptr + total).
    md.headerSize = HEADER_SIZE;
    md.bodySize = <i32>total - HEADER_SIZE;
    md.requestId = <u64>u32be(ptr + 1);
    md.codecFlags = <i32>u8At(ptr);                 // version, echoed in replies
    const cmd = i16be(ptr + 9);
    md.setOffset(SLOT_CMD, cmd);
    if (fromDownstream) {
      md.messageType = MessageType.Request;
    } else {
      md.messageType = MessageType.Response;
      md.isReply = true;
      md.responseStatus = i16be(ptr + 11) == 0 ? ResponseStatus.Ok : ResponseStatus.Error;
    }
    // 4. Strings only when a rule reads them.
    if (wanted.has("cmd")) {
      const s = cmd.toString();
      md.setAttribute("cmd", s);
      md.operationName = s;
    }
    return DecodeStatus.Done;
  }

  /** The header has no room for key/value pairs: mutations are refused (the framework counts it). */
  encode(md: Metadata, mutation: KeyValue[], ptr: usize, len: i32, out: ByteBuf): bool {
    return false;
  }

  onError(md: Metadata, error: ErrorType, message: string, out: ByteBuf): void {
    out.writeU8(<u32>md.codecFlags);
    out.writeU32BE(<u32>md.requestId);
    out.writeU32BE(<u32>HEADER_SIZE);
    out.writeU16BE(<u32>md.offset(SLOT_CMD));
    out.writeU16BE(rspCodeFor(error));
  }

  /** awesomerpc has no heartbeat or echo command: the framework closes after a rejection. */
  probe(md: Metadata, out: ByteBuf): bool {
    return false;
  }
}

/** rsp_code of an error reply: 1 + ErrorType, so every reason is told apart (never 0 = ok). */
export function rspCodeFor(error: ErrorType): u32 {
  return 1 + <u32>error;
}

// Sample awesomerpc frames for the conformance suite: 13-byte header, then the body.
import { Codec } from "../../../assembly/meta/codec";
import { ByteBuf } from "../../../assembly/meta/bytes";
import { AwesomerpcCodec } from "../../../assembly/protocols/awesomerpc/codec";
import { Variant } from "./suite";

export const SAMPLE_CMD: i32 = 1001;

export function awesomerpcFrame(out: ByteBuf, id: u32, cmd: i32, rspCode: i32, body: string): void {
  const start = out.len;
  out.writeU8(1);                 // version
  out.writeU32BE(id);             // pack_flow
  out.writeU32BE(0);              // pack_len, patched below
  out.writeU16BE(<u32>cmd);       // req_cmd
  out.writeU16BE(<u32>rspCode);   // rsp_code
  out.writeUtf8(body);
  out.setU32BE(start + 5, <u32>(out.len - start));
}

class AwesomerpcVariant extends Variant {
  constructor() { super("awesomerpc", "cmd", SAMPLE_CMD.toString(), false, false, true); }
  codec(): Codec { return new AwesomerpcCodec(); }
  request(id: u32, out: ByteBuf): void { awesomerpcFrame(out, id, SAMPLE_CMD, 0, "{\"name\":\"world\"}"); }
  response(id: u32, out: ByteBuf): void { awesomerpcFrame(out, id, SAMPLE_CMD, 0, "{\"greeting\":\"hello world\"}"); }
  bigRequest(id: u32, payloadBytes: i32, out: ByteBuf): void { awesomerpcFrame(out, id, SAMPLE_CMD, 0, "x".repeat(payloadBytes)); }
}

export function awesomerpcVariants(): Variant[] { return [new AwesomerpcVariant()]; }

// Sample Dubbo frames for the conformance suite: the requests and responses are the bytes
// hessian.js produced (scripts/gen-dubbo-vectors.mjs), with the request id patched in.
import { Codec } from "../../../assembly/meta/codec";
import { ByteBuf } from "../../../assembly/meta/bytes";
import { DubboCodec, writeHessianString } from "../../../assembly/protocols/dubbo/codec";
import { Variant } from "./suite";
import * as vectors from "../generated/dubbo-vectors";

function appendHex(out: ByteBuf, hex: string): i32 {
  const at = out.len;
  for (let i = 0; i < hex.length; i += 2) out.writeU8(<u32>I32.parseInt(hex.substr(i, 2), 16));
  return at;
}
function patchId(out: ByteBuf, at: i32, id: u32): void {
  out.setU32BE(at + 4, 0);
  out.setU32BE(at + 8, id);
}

class DubboVariant extends Variant {
  constructor() { super("dubbo/hessian2", "method", "sayHello", true, true, true); }
  codec(): Codec { return new DubboCodec(); }
  request(id: u32, out: ByteBuf): void { patchId(out, appendHex(out, vectors.request), id); }
  response(id: u32, out: ByteBuf): void { patchId(out, appendHex(out, vectors.responseValue), id); }
  bigRequest(id: u32, payloadBytes: i32, out: ByteBuf): void {
    const at = out.len;
    out.writeU16BE(0xdabb); out.writeU8(0xc2); out.writeU8(0);
    out.writeU64BE(<u64>id); out.writeU32BE(0);
    writeHessianString(out, "2.0.2");
    writeHessianString(out, "org.apache.dubbo.samples.DemoService");
    writeHessianString(out, "");
    writeHessianString(out, "sayHello");
    writeHessianString(out, "Ljava/lang/String;");
    writeHessianString(out, "x".repeat(payloadBytes));
    out.writeU8(0x48); writeHessianString(out, "path"); writeHessianString(out, "p"); out.writeU8(0x5a);
    out.setU32BE(at + 12, <u32>(out.len - at - 16));
  }
}

export function dubboVariants(): Variant[] { return [new DubboVariant()]; }

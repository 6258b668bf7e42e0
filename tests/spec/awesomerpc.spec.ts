// awesomerpc-specific checks beyond the conformance suite: the error reply's exact header,
// rsp_code per error type, and lengths that cannot be a frame.
import { DecodeStatus, ErrorType, ResponseStatus, WantedKeys } from "../../assembly/meta/codec";
import { ByteBuf, u32be, i16be } from "../../assembly/meta/bytes";
import { Metadata } from "../../assembly/meta/metadata";
import { AwesomerpcCodec, rspCodeFor } from "../../assembly/protocols/awesomerpc/codec";
import { awesomerpcFrame } from "./conformance/awesomerpc.frames";

describe("awesomerpc codec", () => {
  it("answers with a header-only frame: same version, pack_flow and req_cmd, non-zero rsp_code", () => {
    const c = new AwesomerpcCodec(), md = new Metadata(), b = new ByteBuf(), out = new ByteBuf();
    awesomerpcFrame(b, 0xcafe0001, -2, 0, "body");
    store<u8>(b.ptr, 3); // version 3
    expect(c.decode(b.ptr, b.len, md, true, WantedKeys.everything())).toBe(DecodeStatus.Done);
    expect(md.getAttribute("cmd")!).toBe("-2");
    for (let e = ErrorType.RouteNotFound; e <= ErrorType.Unspecified; e++) {
      out.clear();
      c.onError(md, e, "ignored: the header has no room for text", out);
      expect(out.len).toBe(13);
      expect(load<u8>(out.ptr)).toBe(3);
      expect(u32be(out.ptr + 1)).toBe(0xcafe0001);
      expect(u32be(out.ptr + 5)).toBe(13);
      expect(i16be(out.ptr + 9)).toBe(-2);
      expect(i16be(out.ptr + 11)).toBe(<i32>rspCodeFor(e));
      expect(i16be(out.ptr + 11)).not.toBe(0);
    }
    b.free(); out.free();
  });
  it("reads rsp_code into the response status", () => {
    const c = new AwesomerpcCodec(), md = new Metadata(), b = new ByteBuf();
    awesomerpcFrame(b, 1, 5, 7, "");
    expect(c.decode(b.ptr, b.len, md, false, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(md.responseStatus).toBe(ResponseStatus.Error);
    b.free();
  });
  it("refuses a pack_len shorter than the header", () => {
    const c = new AwesomerpcCodec(), md = new Metadata(), b = new ByteBuf();
    awesomerpcFrame(b, 1, 5, 0, "");
    b.setU32BE(5, 12);
    expect(c.decode(b.ptr, b.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Error);
    expect(md.error).toBe("awesomerpc: pack_len 12 < 13");
    b.free();
  });
});

import { DubboCodec, STATUS_SERVICE_NOT_FOUND } from "../../assembly/protocols/dubbo/codec";
import { Metadata } from "../../assembly/meta/metadata";
import { ByteBuf, u32be, u64be } from "../../assembly/meta/bytes";
import { DecodeStatus, ErrorType, KeyValue, MessageType, ResponseStatus, WantedKeys } from "../../assembly/meta/codec";
import * as v from "./generated/dubbo-vectors";

function bytes(hex: string): ByteBuf {
  const b = new ByteBuf();
  for (let i = 0; i < hex.length; i += 2) b.writeU8(<u32>I32.parseInt(hex.substr(i, 2), 16));
  return b;
}
function wants(keys: string[]): WantedKeys {
  const w = WantedKeys.none();
  for (let i = 0; i < keys.length; i++) w.add(keys[i]);
  return w;
}

describe("dubbo decode", () => {
  it("cuts a request and reads the header strings only when rules need them", () => {
    const c = new DubboCodec();
    const f = bytes(v.request);
    const md = new Metadata();
    expect(c.decode(f.ptr, f.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(md.frameLength).toBe(f.len);
    expect(md.requestId).toBe(77);
    expect(md.messageType).toBe(MessageType.Request);
    expect(md.attributeCount).toBe(0);
    md.reset();
    expect(c.decode(f.ptr, f.len, md, true, wants(["method"]))).toBe(DecodeStatus.Done);
    expect(md.getAttribute("method")).toBe("sayHello");
    expect(md.getAttribute("interface")).toBeNull(); // no rule reads it: stepped over, not decoded
    expect(md.getAttribute("group")).toBeNull();
    md.reset();
    expect(c.decode(f.ptr, f.len, md, true, wants(["interface", "version", "method"]))).toBe(DecodeStatus.Done);
    expect(md.getAttribute("interface")).toBe("org.apache.dubbo.samples.DemoService");
    expect(md.getAttribute("version")).toBe("1.0.0");
    expect(md.getAttribute("method")).toBe("sayHello");
  });

  it("skips every kind of hessian.js argument to reach the attachments", () => {
    const c = new DubboCodec();
    const f = bytes(v.request);
    const md = new Metadata();
    expect(c.decode(f.ptr, f.len, md, true, wants(["group", "x-tenant", "timeout"]))).toBe(DecodeStatus.Done);
    expect(md.error).toBe("");
    expect(md.getAttribute("group")).toBe("g1");
    expect(md.getAttribute("x-tenant")).toBe("acme");
    expect(md.getAttribute("timeout")).toBe("3000");
  });

  it("decodes only the attachments a rule reads", () => {
    const c = new DubboCodec();
    const f = bytes(v.request);
    const md = new Metadata();
    expect(c.decode(f.ptr, f.len, md, true, wants(["group"]))).toBe(DecodeStatus.Done);
    expect(md.getAttribute("group")).toBe("g1");
    expect(md.getAttribute("x-tenant")).toBeNull();
    expect(md.attributeCount).toBe(1);
    md.reset();
    expect(c.decode(f.ptr, f.len, md, true, WantedKeys.everything())).toBe(DecodeStatus.Done);
    expect(md.getAttribute("x-tenant")).toBe("acme");
    expect(md.getAttribute("path")).toBe("org.apache.dubbo.samples.DemoService");
  });

  it("waits for every proper prefix and knows the size after the header", () => {
    const c = new DubboCodec();
    const f = bytes(v.request);
    const md = new Metadata();
    for (let n = 0; n < f.len; n++) {
      md.reset();
      expect(c.decode(f.ptr, n, md, true, WantedKeys.everything())).toBe(DecodeStatus.WaitForData);
      if (n >= 16) expect(md.frameSize).toBe(f.len);
    }
  });

  it("cuts pipelined frames one at a time", () => {
    const c = new DubboCodec();
    const f = bytes(v.request + v.heartbeatRequest + v.oneway);
    const md = new Metadata();
    let pos = 0;
    const types: i32[] = [];
    while (pos < f.len) {
      md.reset();
      expect(c.decode(f.ptr + pos, f.len - pos, md, true, WantedKeys.everything())).toBe(DecodeStatus.Done);
      types.push(md.messageType);
      pos += md.frameLength;
    }
    expect(types.length).toBe(3);
    expect(types[1]).toBe(MessageType.Heartbeat);
    expect(types[2]).toBe(MessageType.Oneway);
  });

  it("reads responses, statuses and heartbeat answers", () => {
    const c = new DubboCodec();
    const md = new Metadata();
    let f = bytes(v.responseValue);
    expect(c.decode(f.ptr, f.len, md, false, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(md.isReply).toBe(true);
    expect(md.responseStatus).toBe(ResponseStatus.Ok);
    md.reset(); f = bytes(v.responseError);
    expect(c.decode(f.ptr, f.len, md, false, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(md.responseStatus).toBe(ResponseStatus.Error);
    md.reset(); f = bytes(v.heartbeatResponse);
    expect(c.decode(f.ptr, f.len, md, false, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(md.messageType).toBe(MessageType.Heartbeat);
    expect(md.isReply).toBe(true);
    expect(md.requestId).toBe(5);
  });

  // Regressions from Java-style traffic (issue 9): both used to close the connection.
  it("steps over a byte[] of more than 4,093 bytes (non-final binary chunks 'A', 0x41)", () => {
    const c = new DubboCodec();
    const f = bytes(v.requestBigBytes);
    const md = new Metadata();
    expect(c.decode(f.ptr, f.len, md, true, wants(["group"]))).toBe(DecodeStatus.Done);
    expect(md.error).toBe("");
    expect(md.getAttribute("group")).toBe("g1");
    const out = new ByteBuf();
    expect(c.encode(md, [new KeyValue("x-canary", "true")], f.ptr, f.len, out)).toBe(true);
    const md2 = new Metadata();
    expect(c.decode(out.ptr, out.len, md2, true, wants(["x-canary"]))).toBe(DecodeStatus.Done);
    expect(md2.getAttribute("x-canary")).toBe("true");
  });

  it("steps over an argument graph of three classes (object of the third class definition, 0x62)", () => {
    const c = new DubboCodec();
    const f = bytes(v.requestThreeClasses);
    const md = new Metadata();
    expect(c.decode(f.ptr, f.len, md, true, wants(["x-tenant"]))).toBe(DecodeStatus.Done);
    expect(md.error).toBe("");
    expect(md.getAttribute("x-tenant")).toBe("acme");
    const out = new ByteBuf();
    expect(c.encode(md, [new KeyValue("x-canary", "true")], f.ptr, f.len, out)).toBe(true);
  });

  it("refuses garbage and broken hessian without trapping", () => {
    const c = new DubboCodec();
    const md = new Metadata();
    let f = bytes("474554202f20485454502f312e310d0a");
    expect(c.decode(f.ptr, f.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Error);
    expect(md.error).toBe("wrong magic");
    // valid header, body of unknown tags
    md.reset(); f = bytes("dabbc2000000000000000001000000080530ffffffffffff");
    expect(c.decode(f.ptr, f.len, md, true, wants(["method"]))).toBe(DecodeStatus.Error);
    // a request whose body is cut short inside the arguments (length field shrunk to match)
    const full = bytes(v.request);
    const cut = new ByteBuf();
    cut.writeBytes(full.ptr, 200);
    cut.setU32BE(12, 200 - 16);
    md.reset();
    expect(c.decode(cut.ptr, cut.len, md, true, wants(["group"]))).toBe(DecodeStatus.Error);
    expect(md.error.length).toBeGreaterThan(0);
    // every truncation of the body with a consistent length field: an error or done, never a trap
    for (let n = 17; n < full.len; n += 7) {
      const t = new ByteBuf();
      t.writeBytes(full.ptr, n);
      t.setU32BE(12, <u32>(n - 16));
      md.reset();
      c.decode(t.ptr, t.len, md, true, WantedKeys.everything());
      t.free();
    }
  });
});

describe("dubbo encode", () => {
  it("adds and replaces request attachments and fixes the body length", () => {
    const c = new DubboCodec();
    const f = bytes(v.request);
    const md = new Metadata();
    c.decode(f.ptr, f.len, md, true, WantedKeys.none());
    const out = new ByteBuf();
    const m: KeyValue[] = [new KeyValue("x-canary", "true"), new KeyValue("group", "g2")];
    expect(c.encode(md, m, f.ptr, f.len, out)).toBe(true);
    expect(<i32>u32be(out.ptr + 12)).toBe(out.len - 16);
    const md2 = new Metadata();
    expect(c.decode(out.ptr, out.len, md2, true, WantedKeys.everything())).toBe(DecodeStatus.Done);
    expect(md2.frameLength).toBe(out.len);
    expect(md2.getAttribute("x-canary")).toBe("true");
    expect(md2.getAttribute("group")).toBe("g2");
    expect(md2.getAttribute("x-tenant")).toBe("acme");
    expect(md2.getAttribute("method")).toBe("sayHello");
  });

  it("gives a value response an attachments map", () => {
    const c = new DubboCodec();
    const f = bytes(v.responseValue);
    const md = new Metadata();
    c.decode(f.ptr, f.len, md, false, WantedKeys.none());
    const out = new ByteBuf();
    expect(c.encode(md, [new KeyValue("x-route", "hello-v2")], f.ptr, f.len, out)).toBe(true);
    expect(load<u8>(out.ptr + 16)).toBe(0x94); // flag 1 -> 4 (value with attachments)
    expect(<i32>u32be(out.ptr + 12)).toBe(out.len - 16);
    expect(load<u8>(out.ptr + out.len - 1)).toBe(0x5a);
  });

  it("merges into an existing response attachments map", () => {
    const c = new DubboCodec();
    const f = bytes(v.responseValueWithAttachments);
    const md = new Metadata();
    c.decode(f.ptr, f.len, md, false, WantedKeys.none());
    const out = new ByteBuf();
    expect(c.encode(md, [new KeyValue("x-server", "v9")], f.ptr, f.len, out)).toBe(true);
    expect(<i32>u32be(out.ptr + 12)).toBe(out.len - 16);
    expect(out.len).toBe(f.len); // same-length value replaced in place
  });

  it("has no place for attachments in an error status response", () => {
    const c = new DubboCodec();
    const f = bytes(v.responseError);
    const md = new Metadata();
    c.decode(f.ptr, f.len, md, false, WantedKeys.none());
    const out = new ByteBuf();
    expect(c.encode(md, [new KeyValue("a", "b")], f.ptr, f.len, out)).toBe(false);
    expect(out.len).toBe(0);
  });
});

describe("dubbo error replies", () => {
  it("answers with the request id and a status that fits", () => {
    const c = new DubboCodec();
    const f = bytes(v.request);
    const md = new Metadata();
    c.decode(f.ptr, f.len, md, true, WantedKeys.none());
    const out = new ByteBuf();
    c.onError(md, ErrorType.RouteNotFound, "no route", out);
    expect(load<u8>(out.ptr + 3)).toBe(<u8>STATUS_SERVICE_NOT_FOUND);
    expect(u64be(out.ptr + 4)).toBe(77);
    expect(<i32>u32be(out.ptr + 12)).toBe(out.len - 16);
    const md2 = new Metadata();
    expect(c.decode(out.ptr, out.len, md2, false, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(md2.responseStatus).toBe(ResponseStatus.Error);
  });

  it("probes with a heartbeat carrying the same id", () => {
    const c = new DubboCodec();
    const f = bytes(v.request);
    const md = new Metadata();
    c.decode(f.ptr, f.len, md, true, WantedKeys.none());
    const out = new ByteBuf();
    expect(c.probe(md, out)).toBe(true);
    const md2 = new Metadata();
    expect(c.decode(out.ptr, out.len, md2, true, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(md2.messageType).toBe(MessageType.Heartbeat);
    expect(md2.requestId).toBe(77);
  });
});

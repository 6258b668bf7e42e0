// Dubbo serialization 23 (fastjson2 JSONB) against bytes the real Java serializers wrote
// (tests/spec/vectors: jsonb.fastjson2.json, dubbo-frames.dubbo-3.3.json, from peers/java-dubbo).
import { JsonbReader, writeJsonbString, writeJsonbInt } from "../../assembly/protocols/dubbo/jsonb";
import { DubboCodec } from "../../assembly/protocols/dubbo/codec";
import { Metadata } from "../../assembly/meta/metadata";
import { ByteBuf, u32be, u64be } from "../../assembly/meta/bytes";
import { DecodeStatus, ErrorType, KeyValue, MessageType, ResponseStatus, WantedKeys } from "../../assembly/meta/codec";
import { FRAME_HEX, FRAME_IS_REQUEST, FRAME_NAMES, FRAME_SERIALIZATION, JSONB_HEX, JSONB_NAMES } from "./generated/java-vectors";

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
/** One fastjson2 block holding a string. */
function block(out: ByteBuf, s: string): void {
  const at = out.len;
  out.writeU32BE(0);
  writeJsonbString(out, s);
  out.setU32BE(at, <u32>(out.len - at - 4));
}

/** A fastjson2 request whose attachments hold `value` under x-before, then x-tag=seen. */
function requestWithAttachmentValue(value: ByteBuf): ByteBuf {
  const b = new ByteBuf();
  b.writeU16BE(0xdabb); b.writeU8(0xc0 | 23); b.writeU8(0); b.writeU64BE(7); b.writeU32BE(0);
  block(b, "2.0.2"); block(b, "peers.Vectors"); block(b, "1.0.0"); block(b, "take"); block(b, "");
  const at = b.len;
  b.writeU32BE(0);
  b.writeU8(0x92); writeJsonbString(b, "LM"); writeJsonbInt(b, 0); // typed LinkedHashMap, as Dubbo writes it
  b.writeU8(0xa6);
  writeJsonbString(b, "x-before"); b.writeBytes(value.ptr, value.len);
  writeJsonbString(b, "x-tag"); writeJsonbString(b, "seen");
  b.writeU8(0xa5);
  b.setU32BE(at, <u32>(b.len - at - 4));
  b.setU32BE(12, <u32>(b.len - 16));
  return b;
}

describe("jsonb values (fastjson2)", () => {
  it("skips every value fastjson2 wrote, exactly", () => {
    const r = new JsonbReader();
    let bad = "";
    for (let i = 0; i < JSONB_HEX.length; i++) {
      const f = bytes(JSONB_HEX[i]);
      r.reset(f.ptr, f.ptr + <usize>f.len);
      if (!r.skipValue() || r.p != f.ptr + <usize>f.len) bad += "\n" + JSONB_NAMES[i] + " " + r.error;
      f.free();
    }
    expect(bad).toBe("");
  });

  it("refuses every truncation and unused type bytes with an error, never a trap", () => {
    const r = new JsonbReader();
    let silent = "";
    for (let i = 0; i < JSONB_HEX.length; i++) {
      const f = bytes(JSONB_HEX[i]);
      const step = max(1, f.len / 9);
      for (let n = 0; n < f.len; n += step) {
        r.reset(f.ptr, f.ptr + <usize>n);
        if (r.skipValue() || r.error.length == 0) silent += "\n" + JSONB_NAMES[i] + " cut at " + n.toString();
      }
      f.free();
    }
    expect(silent).toBe("");
    for (let t = 0x80; t <= 0x8f; t++) {
      const f = new ByteBuf();
      f.writeU8(<u32>t); f.writeU8(0);
      r.reset(f.ptr, f.ptr + 2);
      expect(r.skipValue()).toBe(false);
      f.free();
    }
  });

  it("reads strings in every form fastjson2 writes them", () => {
    const r = new JsonbReader();
    for (let i = 0; i < JSONB_HEX.length; i++) {
      const name = JSONB_NAMES[i];
      const f = bytes(JSONB_HEX[i]);
      r.reset(f.ptr, f.ptr + <usize>f.len);
      if (name == "latin-1 string") expect(r.readString()).toBe("caf\u00e9");
      else if (name == "utf-8 string") expect(r.readString()).toBe("\u4e2d\u6587");
      else if (name == "surrogate pair") expect(r.readString()).toBe("x\u{1f600}y");
      else if (name == "ascii string 300") expect(r.readString()!.length).toBe(300);
      f.free();
    }
  });

  it("reads UTF-16 strings (0x7b) by their byte-order mark, big-endian without one", () => {
    const r = new JsonbReader();
    const cases: string[] = ["7b06feff4e2d6587", "7b06fffe2d4e8765", "7b044e2d6587", "7d044e2d6587", "7c042d4e8765"];
    for (let i = 0; i < cases.length; i++) {
      const f = bytes(cases[i]);
      r.reset(f.ptr, f.ptr + <usize>f.len);
      expect(r.readString()).toBe("\u4e2d\u6587");
      expect(r.p).toBe(f.ptr + <usize>f.len);
      f.free();
    }
  });

  it("steps over every value as an attachment to reach the next key, and rewrites around it", () => {
    const c = new DubboCodec();
    let bad = "";
    for (let i = 0; i < JSONB_HEX.length; i++) {
      const v = bytes(JSONB_HEX[i]);
      const req = requestWithAttachmentValue(v);
      const md = new Metadata();
      if (c.decode(req.ptr, req.len, md, true, wants(["x-tag"])) != DecodeStatus.Done || md.getAttribute("x-tag") != "seen") {
        bad += "\ndecode " + JSONB_NAMES[i] + " " + md.error;
      } else {
        const out = new ByteBuf();
        const md2 = new Metadata();
        if (!c.encode(md, [new KeyValue("x-canary", "true"), new KeyValue("x-tag", "new")], req.ptr, req.len, out) ||
            c.decode(out.ptr, out.len, md2, true, WantedKeys.everything()) != DecodeStatus.Done ||
            md2.getAttribute("x-canary") != "true" || md2.getAttribute("x-tag") != "new" || md2.getAttribute("x-before") == "seen") {
          bad += "\nencode " + JSONB_NAMES[i] + " " + md2.error;
        }
        out.free();
      }
      req.free();
      v.free();
    }
    expect(bad).toBe("");
  });
});

describe("dubbo frames written by Apache Dubbo's serializers (hessian2 and fastjson2)", () => {
  it("reads the routing attributes of every request", () => {
    const c = new DubboCodec();
    let bad = "";
    for (let i = 0; i < FRAME_HEX.length; i++) {
      if (!FRAME_IS_REQUEST[i]) continue;
      const f = bytes(FRAME_HEX[i]);
      const md = new Metadata();
      const st = c.decode(f.ptr, f.len, md, true, wants(["interface", "method", "version", "group", "x-user", "timeout"]));
      if (st != DecodeStatus.Done || md.getAttribute("interface") != "metaprotocol.peers.GreetingService" ||
          md.getAttribute("version") != "1.0.0" || md.getAttribute("group") != "canary" || md.getAttribute("x-user") != "vip" ||
          md.getAttribute("timeout") != null /* an Integer, not a string attachment */ || md.codecFlags != FRAME_SERIALIZATION[i]) {
        bad += "\n" + FRAME_NAMES[i] + " " + md.error;
      }
      expect(md.messageType).toBe(MessageType.Request);
      f.free();
    }
    expect(bad).toBe("");
  });

  it("adds and replaces request attachments in either serialization, keeping the rest", () => {
    const c = new DubboCodec();
    let bad = "";
    for (let i = 0; i < FRAME_HEX.length; i++) {
      if (!FRAME_IS_REQUEST[i]) continue;
      const f = bytes(FRAME_HEX[i]);
      const md = new Metadata();
      c.decode(f.ptr, f.len, md, true, WantedKeys.none());
      const out = new ByteBuf();
      const md2 = new Metadata();
      if (!c.encode(md, [new KeyValue("x-canary", "true"), new KeyValue("group", "g2")], f.ptr, f.len, out) ||
          <i32>u32be(out.ptr + 12) != out.len - 16 ||
          c.decode(out.ptr, out.len, md2, true, WantedKeys.everything()) != DecodeStatus.Done ||
          md2.getAttribute("x-canary") != "true" || md2.getAttribute("group") != "g2" || md2.getAttribute("x-user") != "vip" ||
          md2.getAttribute("remote.application") != "peer-consumer-33") {
        bad += "\n" + FRAME_NAMES[i] + " " + md2.error;
      }
      out.free();
      f.free();
    }
    expect(bad).toBe("");
  });

  it("reads response attachments and gives every OK response the mutation", () => {
    const c = new DubboCodec();
    let bad = "";
    for (let i = 0; i < FRAME_HEX.length; i++) {
      if (FRAME_IS_REQUEST[i]) continue;
      const f = bytes(FRAME_HEX[i]);
      const md = new Metadata();
      const withAtt = FRAME_NAMES[i].includes("with attachments");
      if (c.decode(f.ptr, f.len, md, false, wants(["x-provider"])) != DecodeStatus.Done ||
          md.getAttribute("x-provider") != (withAtt ? "v1" : null)) bad += "\ndecode " + FRAME_NAMES[i] + " " + md.error;
      const out = new ByteBuf();
      const md2 = new Metadata();
      if (!c.encode(md, [new KeyValue("x-route", "r")], f.ptr, f.len, out) ||
          c.decode(out.ptr, out.len, md2, false, WantedKeys.everything()) != DecodeStatus.Done ||
          md2.getAttribute("x-route") != "r" || md2.getAttribute("x-provider") != (withAtt ? "v1" : null)) {
        bad += "\nencode " + FRAME_NAMES[i] + " " + md2.error;
      }
      out.free();
      f.free();
    }
    expect(bad).toBe("");
  });

  it("answers a fastjson2 request's error and probe in fastjson2, with its id", () => {
    const c = new DubboCodec();
    for (let i = 0; i < FRAME_HEX.length; i++) {
      if (!FRAME_IS_REQUEST[i] || FRAME_SERIALIZATION[i] != 23) continue;
      const f = bytes(FRAME_HEX[i]);
      const md = new Metadata();
      c.decode(f.ptr, f.len, md, true, WantedKeys.none());
      const out = new ByteBuf();
      c.onError(md, ErrorType.RouteNotFound, "no route", out);
      expect(load<u8>(out.ptr + 2)).toBe(23);
      expect(load<u8>(out.ptr + 3)).toBe(60);
      expect(u64be(out.ptr + 4)).toBe(md.requestId);
      expect(<i32>u32be(out.ptr + 12)).toBe(out.len - 16);
      const r = new JsonbReader();
      r.reset(out.ptr + 20, out.ptr + <usize>out.len);
      expect(<i32>u32be(out.ptr + 16)).toBe(out.len - 20);
      expect(r.readString()).toBe("metaprotocol: no route");
      const md2 = new Metadata();
      expect(c.decode(out.ptr, out.len, md2, false, WantedKeys.none())).toBe(DecodeStatus.Done);
      expect(md2.responseStatus).toBe(ResponseStatus.Error);
      const probe = new ByteBuf();
      expect(c.probe(md, probe)).toBe(true);
      expect(load<u8>(probe.ptr + 2)).toBe(0xe0 | 23);
      expect(u64be(probe.ptr + 4)).toBe(md.requestId);
      const md3 = new Metadata();
      expect(c.decode(probe.ptr, probe.len, md3, true, WantedKeys.none())).toBe(DecodeStatus.Done);
      expect(md3.messageType).toBe(MessageType.Heartbeat);
      f.free();
      break;
    }
  });

  it("passes other serializations through, and refuses them with a clear error when a rule reads attributes", () => {
    const c = new DubboCodec();
    const f = bytes(FRAME_HEX[0]);
    store<u8>(f.ptr + 2, 0xc0 | 8); // kryo
    const md = new Metadata();
    expect(c.decode(f.ptr, f.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
    md.reset();
    expect(c.decode(f.ptr, f.len, md, true, wants(["method"]))).toBe(DecodeStatus.Error);
    expect(md.error).toBe("serialization id 8 is not supported (hessian2 2 and fastjson2 23 are)");
    f.free();
  });

  it("never traps on a truncated fastjson2 body", () => {
    const c = new DubboCodec();
    for (let i = 0; i < FRAME_HEX.length; i++) {
      if (FRAME_SERIALIZATION[i] != 23) continue;
      const full = bytes(FRAME_HEX[i]);
      for (let n = 17; n < full.len; n += 5) {
        const t = new ByteBuf();
        t.writeBytes(full.ptr, n);
        t.setU32BE(12, <u32>(n - 16));
        const md = new Metadata();
        c.decode(t.ptr, t.len, md, FRAME_IS_REQUEST[i], WantedKeys.everything());
        t.free();
      }
      full.free();
    }
  });
});

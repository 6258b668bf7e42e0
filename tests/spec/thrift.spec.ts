// Thrift-specific codec checks, beyond the shared conformance suite: variant detection, the
// TApplicationException in error replies, probes, THeader headers, hostile nesting and lengths.
import { DecodeStatus, ErrorType, KeyValue, MessageType, ResponseStatus, WantedKeys } from "../../assembly/meta/codec";
import { ByteBuf, u32be } from "../../assembly/meta/bytes";
import { Metadata } from "../../assembly/meta/metadata";
import { ThriftCodec, PROBE_METHOD } from "../../assembly/protocols/thrift/codec";
import {
  Proto, Transport, TWriter, thriftCall, thriftReply, openTransport, closeTransport, T_STRING, T_STRUCT, T_LIST, T_I64,
} from "./conformance/thrift.frames";

const ALL = WantedKeys.everything();

function decode(b: ByteBuf, md: Metadata, down: bool, wanted: WantedKeys): DecodeStatus {
  md.reset();
  return new ThriftCodec().decode(b.ptr, b.len, md, down, wanted);
}

function wantOnly(k: string): WantedKeys { const w = new WantedKeys(); w.add(k); return w; }

/** Reads an error reply back: message name, type, seqid, exception message and type. */
class ExceptionReader {
  name: string = ""; type: i32 = 0; seqid: u32 = 0; message: string = ""; excType: i32 = -1;
  private p: usize = 0;
  constructor(b: ByteBuf, t: Transport, proto: Proto) {
    this.p = b.ptr;
    if (t == Transport.Framed) this.p += 4;
    if (t == Transport.Header) this.p += 14 + (<usize>load<u8>(b.ptr + 12) << 10 | <usize>load<u8>(b.ptr + 13) << 2);
    if (proto == Proto.Compact) {
      this.p += 1; this.type = <i32>(this.u8() >> 5);
      this.seqid = <u32>this.varint(); this.name = this.cstr();
      this.u8(); this.message = this.cstr();                       // 0x18: field 1 binary
      this.u8(); const z = <u32>this.varint(); this.excType = <i32>((z >> 1) ^ (0 - (z & 1))); // 0x15
    } else if (proto == Proto.NonStrict) {
      this.name = this.bstr(); this.type = <i32>this.u8(); this.seqid = this.u32();
      this.p += 3; this.message = this.bstr();
      this.p += 3; this.excType = <i32>this.u32();
    } else {
      this.type = <i32>(this.u32() & 0xff); this.name = this.bstr(); this.seqid = this.u32();
      this.p += 3; this.message = this.bstr();                      // STRING, id 1
      this.p += 3; this.excType = <i32>this.u32();                  // I32, id 2
    }
  }
  private u8(): u32 { const v = <u32>load<u8>(this.p); this.p++; return v; }
  private u32(): u32 { const v = u32be(this.p); this.p += 4; return v; }
  private varint(): u64 { let v: u64 = 0, s: u64 = 0; while (true) { const b = this.u8(); v |= <u64>(b & 0x7f) << s; if (!(b & 0x80)) return v; s += 7; } }
  private bstr(): string { const n = <i32>this.u32(); const s = String.UTF8.decodeUnsafe(this.p, n); this.p += n; return s; }
  private cstr(): string { const n = <i32>this.varint(); const s = String.UTF8.decodeUnsafe(this.p, n); this.p += n; return s; }
}

describe("thrift codec: variants", () => {
  it("tells transports and protocols apart from the first bytes", () => {
    const md = new Metadata();
    const cases: i32[] = [
      Transport.Framed, Proto.Binary, 1 | 0, Transport.Framed, Proto.Compact, 1 | 8,
      Transport.Framed, Proto.NonStrict, 1 | 4, Transport.Unframed, Proto.Binary, 0,
      Transport.Unframed, Proto.Compact, 8, Transport.Unframed, Proto.NonStrict, 4,
      Transport.Header, Proto.Binary, 2, Transport.Header, Proto.Compact, 2 | 8,
    ];
    for (let i = 0; i < cases.length; i += 3) {
      const b = new ByteBuf();
      thriftCall(b, <Transport>cases[i], <Proto>cases[i + 1], 5, "add", "a", []);
      expect(decode(b, md, true, ALL)).toBe(DecodeStatus.Done);
      expect(md.codecFlags).toBe(cases[i + 2]);
      expect(md.getAttribute("method")!).toBe("add");
      b.free();
    }
  });
  it("marks oneway calls, replies and exceptions", () => {
    const md = new Metadata(), b = new ByteBuf();
    const w = new TWriter(b, Proto.Binary);
    w.messageBegin("ping", 4, 9); w.structBegin(); w.structEnd();
    expect(decode(b, md, true, ALL)).toBe(DecodeStatus.Done);
    expect(md.messageType).toBe(MessageType.Oneway);
    b.clear();
    thriftReply(b, Transport.Framed, Proto.Compact, 9, "sayHello", "hi");
    expect(decode(b, md, false, ALL)).toBe(DecodeStatus.Done);
    expect(md.responseStatus).toBe(ResponseStatus.Ok);
    expect(md.isReply).toBe(true);
    b.free();
  });
  it("counts a reply carrying a declared exception (field id >= 1) as an error", () => {
    const md = new Metadata();
    for (let p = 0; p < 3; p++) {
      const b = new ByteBuf();
      const e = openTransport(b, Transport.Framed, <Proto>p, 3, []);
      const w = new TWriter(b, <Proto>p);
      w.messageBegin("sayHello", 2, 3);
      w.structBegin(); w.field(T_STRUCT, 1); w.structBegin(); w.field(T_STRING, 1); w.string("boom"); w.structEnd(); w.structEnd();
      closeTransport(b, Transport.Framed, e);
      expect(decode(b, md, false, ALL)).toBe(DecodeStatus.Done);
      expect(md.responseStatus).toBe(ResponseStatus.Error);
      b.free();
    }
  });
});

describe("thrift codec: error replies and probes", () => {
  it("answers with an EXCEPTION carrying TApplicationException(message, type), framed like the request", () => {
    const variants: i32[] = [Transport.Framed, Proto.Binary, Transport.Framed, Proto.Compact, Transport.Unframed, Proto.Binary,
      Transport.Unframed, Proto.NonStrict, Transport.Header, Proto.Compact, Transport.Header, Proto.Binary];
    for (let i = 0; i < variants.length; i += 2) {
      const t = <Transport>variants[i], p = <Proto>variants[i + 1];
      const b = new ByteBuf(), out = new ByteBuf(), md = new Metadata(), codec = new ThriftCodec();
      thriftCall(b, t, p, 0x7fff0001, "unknownToRouter", "x", []);
      expect(codec.decode(b.ptr, b.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
      codec.onError(md.clone(), ErrorType.RouteNotFound, "no route for method unknownToRouter", out);
      const r = new ExceptionReader(out, t, p);
      expect(r.name).toBe("unknownToRouter");
      expect(r.type).toBe(3);
      expect(r.seqid).toBe(0x7fff0001);
      expect(r.message).toBe("no route for method unknownToRouter");
      expect(r.excType).toBe(1); // UNKNOWN_METHOD
      out.clear();
      codec.onError(md, ErrorType.OverLimit, "", out);
      const r2 = new ExceptionReader(out, t, p);
      expect(r2.message).toBe("OverLimit");
      expect(r2.excType).toBe(6); // INTERNAL_ERROR
      if (t == Transport.Header) expect(u32be(out.ptr + 8)).toBe(u32be(b.ptr + 8)); // THeader seqid kept
      b.free(); out.free();
    }
  });
  it("probes with a method no IDL can declare, keeping a multiplexed service prefix", () => {
    const codec = new ThriftCodec(), md = new Metadata(), pm = new Metadata();
    const names: string[] = ["sayHello", "Greeter:sayHello"];
    const probes: string[] = [PROBE_METHOD, "Greeter:" + PROBE_METHOD];
    for (let i = 0; i < 2; i++) {
      const b = new ByteBuf(), out = new ByteBuf();
      thriftCall(b, Transport.Framed, Proto.Compact, 77, names[i], "x", []);
      expect(codec.decode(b.ptr, b.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
      expect(codec.probe(md, out)).toBe(true);
      expect(codec.decode(out.ptr, out.len, pm, true, ALL)).toBe(DecodeStatus.Done);
      expect(pm.getAttribute("method")!).toBe(probes[i]);
      expect(pm.requestId).toBe(77);
      b.free(); out.free();
    }
  });
});

describe("thrift codec: method names", () => {
  it("remembers method names: a known name decodes without a new string", () => {
    const codec = new ThriftCodec(), md = new Metadata(), b = new ByteBuf(), c = new ByteBuf();
    thriftCall(b, Transport.Framed, Proto.Binary, 1, "sayHello", "x", []);
    thriftCall(c, Transport.Framed, Proto.Binary, 2, "sayHello", "y", []);
    expect(codec.decode(b.ptr, b.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
    const first = changetype<usize>(md.codecText);
    md.reset();
    expect(codec.decode(c.ptr, c.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(md.codecText).toBe("sayHello");
    expect(changetype<usize>(md.codecText)).toBe(first, "second request allocated its name again");
    md.reset();
    expect(codec.decode(c.ptr, c.len, md, true, ALL)).toBe(DecodeStatus.Done);
    expect(changetype<usize>(md.getAttribute("method")!)).toBe(first, "the attribute reuses it too");
    b.free(); c.free();
  });
  it("never confuses names: same length, non-ASCII, more names than remembered", () => {
    const codec = new ThriftCodec(), md = new Metadata();
    const names: string[] = ["sayHello", "sayHellp", "grüßen", "grüßeN", ""];
    for (let i = 0; i < 40; i++) names.push("m" + i.toString());
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < names.length; i++) {
        const b = new ByteBuf();
        thriftCall(b, Transport.Framed, <Proto>(i % 3), <u32>i, names[i], "x", []);
        md.reset();
        expect(codec.decode(b.ptr, b.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
        expect(md.codecText).toBe(names[i]);
        b.free();
      }
    }
  });
});

/** A framed THeader request whose header bytes are given raw (after the header-size field). */
function rawHeaderCall(header: u8[]): ByteBuf {
  const b = new ByteBuf();
  b.writeU32BE(0); b.writeU16BE(0x0fff); b.writeU16BE(0); b.writeU32BE(1);
  while ((header.length & 3) != 0) header.push(0);
  b.writeU16BE(<u32>(header.length >> 2));
  for (let i = 0; i < header.length; i++) b.writeU8(header[i]);
  const w = new TWriter(b, Proto.Binary);
  w.messageBegin("sayHello", 1, 1); w.structBegin(); w.structEnd();
  b.setU32BE(0, <u32>(b.len - 4));
  return b;
}

describe("thrift codec: THeader", () => {
  it("copies the headers it keeps byte for byte (values need not be UTF-8)", () => {
    const codec = new ThriftCodec(), md = new Metadata(), out = new ByteBuf();
    // binary, no transforms, KEYVALUE x 2: "x-bin" -> ff fe 00, "x-tenant" -> "acme"
    const b = rawHeaderCall([0, 0, 1, 2, 5, 0x78, 0x2d, 0x62, 0x69, 0x6e, 3, 0xff, 0xfe, 0x00,
      8, 0x78, 0x2d, 0x74, 0x65, 0x6e, 0x61, 0x6e, 0x74, 4, 0x61, 0x63, 0x6d, 0x65]);
    expect(codec.decode(b.ptr, b.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(codec.encode(md, [new KeyValue("x-tenant", "globex")], b.ptr, b.len, out)).toBe(true);
    // The kept pair, as it was: key length 5, "x-bin", value length 3, ff fe 00.
    const want: u8[] = [5, 0x78, 0x2d, 0x62, 0x69, 0x6e, 3, 0xff, 0xfe, 0x00];
    let found = false;
    for (let i = 14; i + want.length <= out.len && !found; i++) {
      let same = true;
      for (let j = 0; j < want.length; j++) if (load<u8>(out.ptr + <usize>(i + j)) != want[j]) { same = false; break; }
      found = same;
    }
    expect(found).toBe(true, "non-UTF-8 header value altered by an unrelated mutation");
    expect(codec.decode(out.ptr, out.len, md, true, ALL)).toBe(DecodeStatus.Done);
    expect(md.getAttribute("x-tenant")!).toBe("globex");
    b.free(); out.free();
  });
  it("refuses a mutation that would make a header Apache peers reject (16384 words or more)", () => {
    const codec = new ThriftCodec(), md = new Metadata(), b = new ByteBuf(), out = new ByteBuf();
    thriftCall(b, Transport.Header, Proto.Binary, 1, "sayHello", "x", ["x-tenant", "acme"]);
    expect(codec.decode(b.ptr, b.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(codec.encode(md, [new KeyValue("x-big", "v".repeat(70000))], b.ptr, b.len, out)).toBe(false);
    expect(out.len).toBe(0);
    expect(codec.encode(md, [new KeyValue("x-big", "v".repeat(60000))], b.ptr, b.len, out)).toBe(true);
    b.free(); out.free();
  });
  it("refuses an info header length beyond 32 bits instead of truncating it", () => {
    const md = new Metadata();
    // KEYVALUE x 1, key length varint 2^32 + 1 (would truncate to 1), key "k", value "v"
    const b = rawHeaderCall([0, 0, 1, 1, 0x81, 0x80, 0x80, 0x80, 0x10, 0x6b, 1, 0x76]);
    expect(decode(b, md, true, ALL)).toBe(DecodeStatus.Error);
    b.free();
  });
  it("turns info headers into attributes only when a rule wants them", () => {
    const b = new ByteBuf(), md = new Metadata();
    thriftCall(b, Transport.Header, Proto.Binary, 1, "sayHello", "x", ["x-tenant", "acme", "x-zone", "eu"]);
    expect(decode(b, md, true, wantOnly("x-zone"))).toBe(DecodeStatus.Done);
    expect(md.getAttribute("x-zone")!).toBe("eu");
    expect(md.getAttribute("x-tenant")).toBeNull();
    expect(decode(b, md, true, wantOnly("method"))).toBe(DecodeStatus.Done);
    expect(md.attributeCount).toBe(1);
    b.free();
  });
  it("replaces a header instead of repeating it", () => {
    const b = new ByteBuf(), out = new ByteBuf(), md = new Metadata(), codec = new ThriftCodec();
    thriftCall(b, Transport.Header, Proto.Compact, 1, "sayHello", "x", ["x-tenant", "acme", "x-zone", "eu"]);
    expect(codec.decode(b.ptr, b.len, md, true, ALL)).toBe(DecodeStatus.Done);
    expect(codec.encode(md, [new KeyValue("x-tenant", "globex")], b.ptr, b.len, out)).toBe(true);
    let seen = 0;
    for (let i = 0; i + 8 <= out.len; i++) if (String.UTF8.decodeUnsafe(out.ptr + <usize>i, 8) == "x-tenant") seen++;
    expect(seen).toBe(1);
    expect(codec.decode(out.ptr, out.len, md, true, ALL)).toBe(DecodeStatus.Done);
    expect(md.getAttribute("x-tenant")!).toBe("globex");
    expect(md.getAttribute("x-zone")!).toBe("eu");
    b.free(); out.free();
  });
  it("passes a transformed (zlib) payload through by its header seqid, without a probe", () => {
    const b = new ByteBuf(), md = new Metadata(), out = new ByteBuf(), codec = new ThriftCodec();
    b.writeU32BE(0); b.writeU16BE(0x0fff); b.writeU16BE(0); b.writeU32BE(4321); b.writeU16BE(1);
    b.writeU8(0); b.writeU8(1); b.writeU8(1); b.writeU8(0);   // binary, 1 transform: zlib
    b.writeU32BE(0xdeadbeef);                                  // compressed bytes we cannot read
    b.setU32BE(0, <u32>(b.len - 4));
    expect(codec.decode(b.ptr, b.len, md, true, ALL)).toBe(DecodeStatus.Done);
    expect(md.frameLength).toBe(b.len);
    expect(md.requestId).toBe(4321);
    expect(md.getAttribute("method")).toBeNull();
    expect(codec.probe(md, out)).toBe(false);
    b.free(); out.free();
  });
});

describe("thrift codec: hostile bytes", () => {
  it("refuses nesting deeper than 64 without exhausting the stack", () => {
    const b = new ByteBuf(), md = new Metadata();
    const w = new TWriter(b, Proto.Binary);
    w.messageBegin("sayHello", 1, 1); w.structBegin(); w.field(T_LIST, 1);
    for (let i = 0; i < 5000; i++) w.listBegin(T_LIST, 1);
    expect(decode(b, md, true, ALL)).toBe(DecodeStatus.Error);
    expect(md.error.length).toBeGreaterThan(0);
    b.free();
  });
  it("does not loop over a container that claims 2^31 elements", () => {
    const b = new ByteBuf(), md = new Metadata();
    for (let p = 0; p < 3; p++) {
      b.clear();
      const w = new TWriter(b, <Proto>p);
      w.messageBegin("sayHello", 1, 1); w.structBegin(); w.field(T_LIST, 1); w.listBegin(T_I64, 0x7fffffff);
      expect(decode(b, md, true, ALL)).toBe(DecodeStatus.WaitForData); // unframed: needs 16 GiB more
    }
    b.free();
  });
  it("refuses bad lengths", () => {
    const b = new ByteBuf(), md = new Metadata();
    b.writeU32BE(0); b.writeU8(0x80);                              // framed length 0
    expect(decode(b, md, true, ALL)).toBe(DecodeStatus.Error);
    b.clear(); b.writeU32BE(0x7fffffff); b.writeU8(0x80);          // 2 GiB frame: announced, not buffered
    expect(decode(b, md, true, ALL)).toBe(DecodeStatus.WaitForData);
    expect(md.frameSize).toBe(0x7fffffff);
    b.clear(); b.writeU32BE(0x80010001); b.writeU32BE(0xffffffff); // negative name length
    expect(decode(b, md, true, ALL)).toBe(DecodeStatus.Error);
    b.clear(); b.writeU8(0x83);                                    // no protocol starts so
    expect(decode(b, md, true, ALL)).toBe(DecodeStatus.Error);
    b.free();
  });
});

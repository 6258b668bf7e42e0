// Sample Thrift frames for the conformance suite, written by a small writer that follows the
// Thrift specifications and shares no code with the codec under test. (The e2e tests add the
// real thing: bytes from Apache's Node library.)
import { Codec } from "../../../assembly/meta/codec";
import { ByteBuf } from "../../../assembly/meta/bytes";
import { ThriftCodec } from "../../../assembly/protocols/thrift/codec";
import { Variant } from "./suite";

export const enum Proto { Binary = 0, NonStrict = 1, Compact = 2 }
export const enum Transport { Unframed = 0, Framed = 1, Header = 2 }

// Binary type ids; the compact ids are derived in ctype().
export const T_BOOL: u8 = 2, T_BYTE: u8 = 3, T_DOUBLE: u8 = 4, T_I16: u8 = 6, T_I32: u8 = 8,
  T_I64: u8 = 10, T_STRING: u8 = 11, T_STRUCT: u8 = 12, T_MAP: u8 = 13, T_SET: u8 = 14, T_LIST: u8 = 15;

function ctype(t: u8): u32 {
  switch (t) {
    case T_BOOL: return 1; case T_BYTE: return 3; case T_I16: return 4; case T_I32: return 5;
    case T_I64: return 6; case T_DOUBLE: return 7; case T_STRING: return 8; case T_LIST: return 9;
    case T_SET: return 10; case T_MAP: return 11; default: return 12;
  }
}

/** A minimal Thrift message writer (binary strict / non-strict, compact). */
export class TWriter {
  private lastIds: i32[] = [0];
  constructor(public out: ByteBuf, public proto: Proto) {}

  varint(v: u64): void { while (v >= 0x80) { this.out.writeU8(<u32>(v & 0x7f) | 0x80); v >>= 7; } this.out.writeU8(<u32>v); }
  zigzag32(v: i32): void { this.varint(<u64><u32>((v << 1) ^ (v >> 31))); }
  zigzag64(v: i64): void { this.varint(<u64>((v << 1) ^ (v >> 63))); }

  messageBegin(name: string, type: i32, seqid: u32): void {
    if (this.proto == Proto.Compact) {
      this.out.writeU8(0x82); this.out.writeU8((<u32>type << 5) | 1);
      this.varint(seqid); this.string(name);
    } else if (this.proto == Proto.NonStrict) {
      this.string(name); this.out.writeU8(<u32>type); this.out.writeU32BE(seqid);
    } else {
      this.out.writeU32BE(0x80010000 | <u32>type); this.string(name); this.out.writeU32BE(seqid);
    }
  }
  structBegin(): void { this.lastIds.push(0); }
  structEnd(): void { this.out.writeU8(0); this.lastIds.pop(); }
  field(t: u8, id: i32): void { this.fieldHeader(t, id, false); }
  boolField(id: i32, v: bool): void {
    if (this.proto == Proto.Compact) this.fieldHeader(T_BOOL, id, v);
    else { this.fieldHeader(T_BOOL, id, v); this.out.writeU8(v ? 1 : 0); }
  }
  private fieldHeader(t: u8, id: i32, boolValue: bool): void {
    if (this.proto != Proto.Compact) { this.out.writeU8(t); this.out.writeU16BE(<u32>id); return; }
    const ct = t == T_BOOL ? (boolValue ? 1 : 2) : ctype(t);
    const last = this.lastIds[this.lastIds.length - 1];
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.out.writeU8((<u32>delta << 4) | ct);
    else { this.out.writeU8(ct); this.zigzag32(id); }
    this.lastIds[this.lastIds.length - 1] = id;
  }
  listBegin(elem: u8, n: i32): void {
    if (this.proto != Proto.Compact) { this.out.writeU8(elem); this.out.writeU32BE(<u32>n); return; }
    if (n < 15) this.out.writeU8((<u32>n << 4) | ctype(elem));
    else { this.out.writeU8(0xf0 | ctype(elem)); this.varint(<u64>n); }
  }
  mapBegin(k: u8, v: u8, n: i32): void {
    if (this.proto != Proto.Compact) { this.out.writeU8(k); this.out.writeU8(v); this.out.writeU32BE(<u32>n); return; }
    this.varint(<u64>n);
    if (n > 0) this.out.writeU8((ctype(k) << 4) | ctype(v));
  }
  string(s: string): void {
    const n = String.UTF8.byteLength(s, false);
    if (this.proto == Proto.Compact) this.varint(<u64>n); else this.out.writeU32BE(<u32>n);
    this.out.writeUtf8(s);
  }
  i32(v: i32): void { if (this.proto == Proto.Compact) this.zigzag32(v); else this.out.writeU32BE(<u32>v); }
  i64(v: i64): void { if (this.proto == Proto.Compact) this.zigzag64(v); else this.out.writeU64BE(<u64>v); }
  i16(v: i32): void { if (this.proto == Proto.Compact) this.zigzag32(v); else this.out.writeU16BE(<u32>v); }
  byte(v: u32): void { this.out.writeU8(v); }
  bool(v: bool): void { this.out.writeU8(v ? 1 : (this.proto == Proto.Compact ? 2 : 0)); }
  double(v: f64): void {
    const bits = reinterpret<u64>(v);
    if (this.proto == Proto.Compact) { for (let i = 0; i < 8; i++) this.out.writeU8(<u32>(bits >> (8 * i)) & 0xff); }
    else this.out.writeU64BE(bits);
  }
}

/** sayHello's arguments, with every Thrift type so that skipping an unframed message is tested. */
export function writeRichArgs(w: TWriter, name: string): void {
  w.structBegin();
  w.field(T_STRING, 1); w.string(name);
  w.field(T_I32, 2); w.i32(-5);
  w.field(T_LIST, 3); w.listBegin(T_STRING, 2); w.string("a"); w.string("bb");
  w.field(T_MAP, 4); w.mapBegin(T_STRING, T_I32, 2); w.string("x"); w.i32(1); w.string("y"); w.i32(2);
  w.field(T_STRUCT, 5);
  w.structBegin();
  w.boolField(1, true);
  w.field(T_DOUBLE, 2); w.double(0.5);
  w.field(T_I64, 3); w.i64(1 << 40);
  w.field(T_I16, 20); w.i16(7);                 // compact: delta > 15, long form
  w.structEnd();
  w.boolField(6, false);
  w.field(T_LIST, 7); w.listBegin(T_BOOL, 2); w.bool(true); w.bool(false);
  w.field(T_SET, 8); w.listBegin(T_I64, 2); w.i64(1); w.i64(2);
  w.field(T_MAP, 10); w.mapBegin(T_STRING, T_STRING, 0);
  w.field(T_BYTE, 300); w.byte(9);              // compact: long-form field id
  w.structEnd();
}

export class Envelope {
  at: i32 = 0;
  payload: i32 = 0;
}

/** Open the transport: framed length, or THeader with the given info headers. */
export function openTransport(out: ByteBuf, t: Transport, p: Proto, seqid: u32, headers: string[]): Envelope {
  const e = new Envelope();
  e.at = out.len;
  if (t == Transport.Unframed) return e;
  out.writeU32BE(0);
  if (t == Transport.Header) {
    out.writeU16BE(0x0fff); out.writeU16BE(0); out.writeU32BE(seqid);
    const words = out.len; out.writeU16BE(0);
    const hdr = out.len;
    const w = new TWriter(out, Proto.Compact); // header varints are compact-style
    w.varint(p == Proto.Compact ? 2 : 0); w.varint(0);
    if (headers.length > 0) {
      w.varint(1); w.varint(<u64>(headers.length >> 1));
      for (let i = 0; i < headers.length; i++) w.string(headers[i]);
    }
    while (((out.len - hdr) & 3) != 0) out.writeU8(0);
    out.setU8(words, <u32>((out.len - hdr) >> 10)); out.setU8(words + 1, <u32>((out.len - hdr) >> 2) & 0xff);
  }
  e.payload = out.len;
  return e;
}

export function closeTransport(out: ByteBuf, t: Transport, e: Envelope): void {
  if (t != Transport.Unframed) out.setU32BE(e.at, <u32>(out.len - e.at - 4));
}

export function thriftCall(out: ByteBuf, t: Transport, p: Proto, seqid: u32, method: string, argName: string, headers: string[]): void {
  const e = openTransport(out, t, p, seqid, headers);
  const w = new TWriter(out, p);
  w.messageBegin(method, 1, seqid);
  writeRichArgs(w, argName);
  closeTransport(out, t, e);
}

export function thriftReply(out: ByteBuf, t: Transport, p: Proto, seqid: u32, method: string, value: string): void {
  const e = openTransport(out, t, p, seqid, []);
  const w = new TWriter(out, p);
  w.messageBegin(method, 2, seqid);
  w.structBegin(); w.field(T_STRING, 0); w.string(value); w.structEnd();
  closeTransport(out, t, e);
}

class ThriftVariant extends Variant {
  constructor(name: string, public transport: Transport, public proto: Proto) {
    super(name, "method", "sayHello", transport == Transport.Header, true, transport != Transport.Unframed);
  }
  codec(): Codec { return new ThriftCodec(); }
  request(id: u32, out: ByteBuf): void {
    thriftCall(out, this.transport, this.proto, id, "sayHello", "world", ["x-tenant", "acme"]);
  }
  response(id: u32, out: ByteBuf): void { thriftReply(out, this.transport, this.proto, id, "sayHello", "Hello world"); }
  bigRequest(id: u32, payloadBytes: i32, out: ByteBuf): void {
    thriftCall(out, this.transport, this.proto, id, "sayHello", "x".repeat(payloadBytes), []);
  }
}

export function thriftVariants(): Variant[] {
  return [
    new ThriftVariant("framed+binary", Transport.Framed, Proto.Binary),
    new ThriftVariant("framed+compact", Transport.Framed, Proto.Compact),
    new ThriftVariant("framed+binary-nonstrict", Transport.Framed, Proto.NonStrict),
    new ThriftVariant("unframed+binary", Transport.Unframed, Proto.Binary),
    new ThriftVariant("unframed+compact", Transport.Unframed, Proto.Compact),
    new ThriftVariant("unframed+binary-nonstrict", Transport.Unframed, Proto.NonStrict),
    new ThriftVariant("theader+binary", Transport.Header, Proto.Binary),
    new ThriftVariant("theader+compact", Transport.Header, Proto.Compact),
  ];
}

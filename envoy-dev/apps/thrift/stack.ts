// The Apache Thrift Node library's transports and protocols by name, and the generated
// Greeter code (CommonJS, made by Debian's thrift-compiler from demo.thrift).
//
// THeader in the Node library (0.24, lib/thrift/header_transport.js, header_protocol.js):
// there is no THeader transport class of its own. THeaderTransport is the prototype of
// TBufferedTransport and TFramedTransport, and THeaderProtocol wraps one of them, reading and
// writing the whole THeader frame (length, magic, header) itself. Only TBufferedTransport
// works under it: TFramedTransport's receiver strips the frame length that readHeaders expects.
// So transport "header" = TBufferedTransport + THeaderProtocol, with the inner protocol
// (binary or compact) chosen by the transport's protocol id (SubprotocolId BINARY 0, COMPACT 2).
// Info headers: transport.setWriteHeader(k, v) (kept for every later frame until
// clearWriteHeaders), transport.getReadHeaders() (accumulated until clearReadHeaders).
// A server (server.js) answers with THeader only when the request was THeader.
import { createRequire } from "node:module";
import thrift from "thrift";

const require = createRequire(import.meta.url);
export const Greeter = require("./gen-nodejs/Greeter.js");

export type TransportName = "framed" | "buffered" | "header";
export type ProtocolName = "binary" | "compact";

/** THeaderTransport.SubprotocolId (not exported by the library's index). */
export const THEADER_PROTOCOL_ID: Record<ProtocolName, number> = { binary: 0, compact: 2 };

export function transportOf(name: TransportName): any {
  return name === "framed" ? thrift.TFramedTransport : thrift.TBufferedTransport;
}
export function protocolOf(name: ProtocolName): any {
  return name === "compact" ? thrift.TCompactProtocol : thrift.TBinaryProtocol;
}
/** The protocol class a connection or server is built with: THeaderProtocol for "header". */
export function protocolFor(transport: TransportName, protocol: ProtocolName): any {
  return transport === "header" ? thrift.THeaderProtocol : protocolOf(protocol);
}
export function parseTransport(s: string | undefined): TransportName {
  if (s === undefined || s === "framed") return "framed";
  if (s === "buffered" || s === "header") return s;
  throw new Error(`TRANSPORT must be framed, buffered or header, not ${s}`);
}
export function parseProtocol(s: string | undefined): ProtocolName {
  if (s === undefined || s === "binary") return "binary";
  if (s === "compact") return "compact";
  throw new Error(`PROTOCOL must be binary or compact, not ${s}`);
}

/** Is `frame` (starting at its 4-byte length) a THeader frame? */
export function isTHeaderFrame(frame: Buffer): boolean {
  return frame.length >= 14 && frame.readUInt16BE(4) === 0x0fff;
}

/**
 * The info headers of a THeader frame as written on the wire: every (key, value) pair of every
 * KEYVALUE/PKEYVALUE block, in order, duplicates kept (the library's getReadHeaders() is an
 * object, so a key sent twice would show only once there). null when `frame` is not THeader.
 * Throws on a malformed header, so a broken rewrite fails the test that reads it.
 */
export function theaderInfoPairs(frame: Buffer): [string, string][] | null {
  if (!isTHeaderFrame(frame)) return null;
  const end = 14 + frame.readUInt16BE(12) * 4;
  if (end > frame.length) throw new Error(`THeader header (${end} bytes) longer than the frame (${frame.length})`);
  let p = 14;
  const varint = () => {
    let v = 0, shift = 0;
    for (;;) {
      if (p >= end) throw new Error("THeader varint runs past the header");
      const b = frame[p++];
      v |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return v >>> 0;
      shift += 7;
      if (shift > 28) throw new Error("THeader varint too long");
    }
  };
  const str = () => {
    const n = varint();
    if (p + n > end) throw new Error("THeader string runs past the header");
    const s = frame.toString("utf8", p, p + n);
    p += n;
    return s;
  };
  varint(); // protocol id
  const transforms = varint();
  for (let i = 0; i < transforms; i++) varint();
  const pairs: [string, string][] = [];
  while (p < end) {
    const type = varint();
    if (type !== 1 && type !== 2) break; // padding (0) or an unknown block
    const n = varint();
    for (let i = 0; i < n; i++) pairs.push([str(), str()]);
  }
  return pairs;
}

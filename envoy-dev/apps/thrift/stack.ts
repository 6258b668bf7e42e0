// The Apache Thrift Node library's transports and protocols by name, and the generated
// Greeter code (CommonJS, made by Debian's thrift-compiler from demo.thrift).
import { createRequire } from "node:module";
import thrift from "thrift";

const require = createRequire(import.meta.url);
export const Greeter = require("./gen-nodejs/Greeter.js");

export type TransportName = "framed" | "buffered";
export type ProtocolName = "binary" | "compact";

export function transportOf(name: TransportName): any {
  return name === "framed" ? thrift.TFramedTransport : thrift.TBufferedTransport;
}
export function protocolOf(name: ProtocolName): any {
  return name === "compact" ? thrift.TCompactProtocol : thrift.TBinaryProtocol;
}
export function parseTransport(s: string | undefined): TransportName {
  if (s === undefined || s === "framed") return "framed";
  if (s === "buffered") return "buffered";
  throw new Error(`TRANSPORT must be framed or buffered, not ${s}`);
}
export function parseProtocol(s: string | undefined): ProtocolName {
  if (s === undefined || s === "binary") return "binary";
  if (s === "compact") return "compact";
  throw new Error(`PROTOCOL must be binary or compact, not ${s}`);
}

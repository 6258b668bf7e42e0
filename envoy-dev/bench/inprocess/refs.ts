// The JavaScript references the in-process benchmark sets beside the modules, doing the same
// routing work on the same frames with the libraries a Node proxy would use: hessian.js for
// Dubbo (read the header strings for a method route; decode the whole body for an attachment
// route, since hessian.js cannot skip a value without building it) and the npm thrift library
// for Thrift (readMessageBegin for the method, then skip the arguments struct to reach the end
// of an unframed message, as its own server does before dispatch).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const hessian = require("hessian.js");
const thrift = require("thrift");

export type RefDecoder = (frame: Buffer) => unknown;

/** Dubbo hessian2 request: service, version and method (what a method route reads). */
export function hessianMethod(frame: Buffer): string {
  const d = new hessian.DecoderV2(frame.subarray(16));
  d.read(); // dubbo version
  d.read(); // service path
  d.read(); // service version
  return d.read(); // method
}

/** Number of JVM parameter descriptors in e.g. "Ljava/lang/String;I[B". */
function countParams(desc: string): number {
  let n = 0;
  for (let i = 0; i < desc.length; i++) {
    while (desc[i] === "[") i++;
    if (desc[i] === "L") i = desc.indexOf(";", i);
    n++;
  }
  return n;
}

/** Dubbo hessian2 request down to its attachments (an attachment route): every value is built. */
export function hessianAttachments(frame: Buffer): Record<string, unknown> {
  const d = new hessian.DecoderV2(frame.subarray(16));
  d.read(); d.read(); d.read(); d.read();
  const n = countParams(d.read());
  for (let i = 0; i < n; i++) d.read();
  return d.read();
}

/** Dubbo hessian2 response attachments (flags 3..5), for the response side of an attachment route. */
export function hessianResponse(frame: Buffer): unknown {
  const d = new hessian.DecoderV2(frame.subarray(16));
  const flag = d.read();
  if (flag === 4 || flag === 3) d.read();
  return flag >= 3 ? d.read() : null;
}

/** A Thrift message with the npm library: method name and sequence id, arguments skipped. */
export function thriftMethod(kind: { transport: "framed" | "unframed" | "header"; protocol: "binary" | "compact" }): RefDecoder {
  const Proto = kind.protocol === "compact" ? thrift.TCompactProtocol : thrift.TBinaryProtocol;
  if (kind.transport === "header") {
    return (frame) => {
      // The header transport reads the frame length and header itself (readHeaders).
      const p = new thrift.THeaderProtocol(new thrift.TFramedTransport(frame));
      const m = p.readMessageBegin();
      p.skip(thrift.Thrift.Type.STRUCT);
      p.readMessageEnd();
      return m.fname;
    };
  }
  if (kind.transport === "framed") {
    return (frame) => {
      const p = new Proto(new thrift.TFramedTransport(frame.subarray(4)));
      const m = p.readMessageBegin();
      p.skip(thrift.Thrift.Type.STRUCT);
      p.readMessageEnd();
      return m.fname;
    };
  }
  return (frame) => {
    const t = new thrift.TBufferedTransport();
    t.inBuf = frame;
    t.writeCursor = frame.length;
    const p = new Proto(t);
    const m = p.readMessageBegin();
    p.skip(thrift.Thrift.Type.STRUCT);
    p.readMessageEnd();
    return m.fname;
  };
}

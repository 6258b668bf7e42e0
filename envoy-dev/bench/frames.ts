// Request frames for the benchmarks: what a Java consumer sends for a call with one DTO-sized
// argument and a handful of attachments (524 bytes), written with hessian.js.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const hessian = require("hessian.js");

export const SERVICE = "org.apache.dubbo.samples.DemoService";

export function requestFrame(method: string, attachments: Record<string, string>): Buffer {
  const enc = new hessian.EncoderV2();
  const arg = { $class: "org.apache.dubbo.samples.Order", $: {
    id: { $class: "long", $: 1234567890 }, customer: "alice@example.com", note: "n".repeat(90),
    items: { $class: "java.util.ArrayList", $: ["sku-1001", "sku-1002", "sku-1003"] }, amount: { $class: "double", $: 99.5 },
  } };
  const base = { path: SERVICE, interface: SERVICE, version: "1.0.0", timeout: "3000", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
  for (const v of ["2.0.2", SERVICE, "1.0.0", method, "Lorg/apache/dubbo/samples/Order;", arg, { ...base, ...attachments }]) enc.write(v);
  const body = enc.get();
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0xdabb, 0); h[2] = 0xc2; h.writeUInt32BE(body.length, 12);
  return Buffer.concat([h, body]);
}

// One OTLP LogRecord per request (opentelemetry/proto/logs/v1/logs.proto): structured
// attributes plus a one-line body in a fixed, documented order (docs/observability.md):
//   <protocol> "<service>/<method>" <status> <request bytes> <response bytes> <duration us>
//   <route> <cluster> <request id> <connection id> <trace id>
// with "-" for what a request does not have. Everything is written into the record's bytes
// directly: no string is built per request.
import { ByteBuf } from "../bytes";
import { writeAnyString, writeAttrInt, writeAttrString, writeFixed64, writeIdField, writeString, writeUint } from "../otlp/proto";
import { Outcome, RequestRecord } from "./record";
import { Ending, isError, outcomeText } from "./spans";
import { hexAscii } from "./trace";

const SEVERITY_INFO = 9;
const SEVERITY_WARN = 13;

export function encodeLogRecord(r: RequestRecord, e: Ending, text: ByteBuf, out: ByteBuf): void {
  out.clear();
  const status = outcomeText(e.outcome, r.error);
  const end = e.endNs > r.startNs ? e.endNs : r.startNs;
  const micros = (end - r.startNs) / 1000;
  const warn = isError(e.outcome);
  writeFixed64(out, 1, r.startNs);
  writeUint(out, 2, warn ? SEVERITY_WARN : SEVERITY_INFO);
  writeString(out, 3, warn ? "WARN" : "INFO");
  bodyLine(r, e, status, micros, text);
  writeAnyString(out, 5, text);
  writeAttrString(out, 6, "rpc.system", e.protocol);
  if (r.service != null) writeAttrString(out, 6, "rpc.service", changetype<string>(r.service));
  if (r.method != null) writeAttrString(out, 6, "rpc.method", changetype<string>(r.method));
  writeAttrString(out, 6, "metaprotocol.status", status);
  if (e.route.length > 0) writeAttrString(out, 6, "metaprotocol.route", e.route);
  if (e.cluster.length > 0) writeAttrString(out, 6, "upstream_cluster", e.cluster);
  writeAttrInt(out, 6, "request_id", <i64>r.requestId);
  writeAttrInt(out, 6, "request_size", r.requestSize);
  if (e.responseSize >= 0) writeAttrInt(out, 6, "response_size", e.responseSize);
  writeAttrInt(out, 6, "duration_us", <i64>micros);
  if (e.connectionId != 0) writeAttrInt(out, 6, "connection.id", <i64>e.connectionId);
  if (e.peer.length > 0) writeAttrString(out, 6, "peer.address", e.peer);
  if (r.hasTrace) {
    writeIdField(out, 9, r.trace.traceHi, r.trace.traceLo, 16);
    if (r.traced) writeIdField(out, 10, 0, r.trace.spanId, 8);
  }
  writeFixed64(out, 11, end);
}

function bodyLine(r: RequestRecord, e: Ending, status: string, micros: u64, b: ByteBuf): void {
  b.clear();
  b.writeUtf8(e.protocol); b.writeU8(0x20);
  b.writeU8(0x22);
  const s = r.service, m = r.method;
  if (s != null && changetype<string>(s).length > 0) { b.writeUtf8(changetype<string>(s)); if (m != null) b.writeU8(0x2f); }
  if (m != null) b.writeUtf8(changetype<string>(m));
  if (s == null && m == null) b.writeU8(0x2d);
  b.writeU8(0x22); b.writeU8(0x20);
  b.writeUtf8(status); b.writeU8(0x20);
  decimal(b, <u64>r.requestSize); b.writeU8(0x20);
  if (e.responseSize >= 0) decimal(b, <u64>e.responseSize); else b.writeU8(0x2d);
  b.writeU8(0x20);
  decimal(b, micros); b.writeU8(0x20);
  field(b, e.route); field(b, e.cluster);
  decimal(b, r.requestId); b.writeU8(0x20);
  if (e.connectionId != 0) decimal(b, e.connectionId); else b.writeU8(0x2d);
  b.writeU8(0x20);
  if (r.hasTrace) {
    b.ensure(32);
    hexAscii(b.ptr + <usize>b.len, r.trace.traceHi, 16);
    hexAscii(b.ptr + <usize>b.len + 16, r.trace.traceLo, 16);
    b.len += 32;
  } else b.writeU8(0x2d);
}

function field(b: ByteBuf, s: string): void {
  if (s.length > 0) b.writeUtf8(s); else b.writeU8(0x2d);
  b.writeU8(0x20);
}

function decimal(b: ByteBuf, v: u64): void {
  b.ensure(20);
  let n = 1;
  for (let x = v; x >= 10; x /= 10) n++;
  const p = b.ptr + <usize>b.len;
  for (let i = n - 1; i >= 0; i--) { store<u8>(p + <usize>i, <u8>(0x30 + <u32>(v % 10))); v /= 10; }
  b.len += n;
}

// One OTLP LogRecord per request (opentelemetry/proto/logs/v1/logs.proto): structured
// attributes plus a one-line body in a fixed, documented order (docs/observability.md):
//   <protocol> "<service>/<method>" <status> <request bytes> <response bytes> <duration us>
//   <route> <cluster> <request id> <connection id> <trace id>
// with "-" for what a request does not have. Everything is written into the record's bytes
// directly: no string is built per request.
import { ByteBuf } from "../bytes";
import { putAttrInt, putAttrString, putBuf, putFixed64, putId, putString, putTag, putVarint, varintSize, WIRE_LEN } from "../otlp/proto";
import { RequestRecord } from "./record";
import { Ending, isError, utf8Len } from "./spans";
import { LOG_ATTR, RootBlobs, statusIndex, statusText } from "./blobs";
import { hexAscii } from "./trace";

const SEVERITY_INFO = 9;
const SEVERITY_WARN = 13;

export function encodeLogRecord(r: RequestRecord, e: Ending, k: RootBlobs, text: ByteBuf, out: ByteBuf): void {
  const si = statusIndex(e.outcome, r.error);
  const end = e.endNs > r.startNs ? e.endNs : r.startNs;
  const micros = (end - r.startNs) / 1000;
  const warn = isError(e.outcome);
  bodyLine(r, e, statusText(si), micros, text);
  const service = r.service, method = r.method;
  const sn = utf8Len(service), mn = utf8Len(method);
  const conn = e.conn.log;
  const route = r.routeSlot >= 0 && r.routeSlot < k.routeLog.length ? unchecked(k.routeLog[r.routeSlot]) : null;
  const st = unchecked(k.logStatus[si]);
  out.clear();
  out.ensure(200 + text.len + sn + mn + k.logConst.len + conn.len + (route != null ? route.len : 0) + st.len + 64);
  let p = out.ptr;
  p = putFixed64(p, 1, r.startNs);
  p = putTag(p, 2, 0); p = putVarint(p, warn ? SEVERITY_WARN : SEVERITY_INFO);
  p = putString(p, 3, warn ? "WARN" : "INFO", 4);
  // body = 5: AnyValue{string_value = 1}
  p = putTag(p, 5, WIRE_LEN);
  p = putVarint(p, <u64>(1 + varintSize(<u64>text.len) + text.len));
  p = putTag(p, 1, WIRE_LEN); p = putVarint(p, <u64>text.len); p = putBuf(p, text);
  p = putBuf(p, k.logConst);
  if (sn >= 0) p = putAttrString(p, LOG_ATTR, k.kService, changetype<string>(service), sn);
  if (mn >= 0) p = putAttrString(p, LOG_ATTR, k.kMethod, changetype<string>(method), mn);
  p = putBuf(p, st);
  if (route != null) p = putBuf(p, route);
  p = putBuf(p, conn);
  p = putAttrInt(p, LOG_ATTR, k.kRequestId, <i64>r.requestId);
  p = putAttrInt(p, LOG_ATTR, k.kRequestSize, r.requestSize);
  if (e.responseSize >= 0) p = putAttrInt(p, LOG_ATTR, k.kResponseSize, e.responseSize);
  p = putAttrInt(p, LOG_ATTR, k.kDuration, <i64>micros);
  if (r.hasTrace) {
    p = putId(p, 9, r.trace.traceHi, r.trace.traceLo, 16);
    if (r.traced) p = putId(p, 10, 0, r.trace.spanId, 8);
  }
  p = putFixed64(p, 11, end);
  out.len = <i32>(p - out.ptr);
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

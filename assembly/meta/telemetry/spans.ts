// One OTLP Span per request (opentelemetry/proto/trace/v1/trace.proto), with the attributes
// Aeraki's MetaProtocol Proxy puts on its spans, under Envoy's tag names where Envoy has one
// (docs/observability.md lists them). Repeating attributes are copied from blobs.ts.
import { ByteBuf } from "../bytes";
import { putAttrInt, putAttrString, putBuf, putFixed64, putId, putString, putTag, putVarint, WIRE_LEN } from "../otlp/proto";
import { Outcome, RequestRecord } from "./record";
import { ConnBlobs, RootBlobs, SPAN_ATTR, statusIndex } from "./blobs";

/** What ends a request, besides its record. */
export class Ending {
  outcome: Outcome = Outcome.Ok;
  endNs: u64 = 0;
  responseSize: i32 = -1;
  cluster: string = "";
  peer: string = "";
  connectionId: u64 = 0;
  route: string = "";
  protocol: string = "";
  conn: ConnBlobs = new ConnBlobs();
}

export function isError(o: Outcome): bool { return o == Outcome.Error || o == Outcome.NoResponse || o == Outcome.LocalReply; }

/** UTF-8 length of an optional string, -1 when absent. */
@inline export function utf8Len(s: string | null): i32 { return s == null ? -1 : String.UTF8.byteLength(changetype<string>(s), false); }

/**
 * Writes the span into `out` with pointer writers: an upper bound of its size is reserved once,
 * so no field checks the buffer.
 */
export function encodeSpan(r: RequestRecord, e: Ending, kind: i32, k: RootBlobs, out: ByteBuf): void {
  const service = r.service, method = r.method;
  const sn = utf8Len(service), mn = utf8Len(method);
  const pn = String.UTF8.byteLength(e.protocol, false);
  const conn = e.conn.span;
  const route = r.routeSlot >= 0 && r.routeSlot < k.routeSpan.length ? unchecked(k.routeSpan[r.routeSlot]) : null;
  const st = unchecked(k.spanStatus[statusIndex(e.outcome, r.error)]);
  out.clear();
  out.ensure(200 + 2 * (sn + mn) + pn + k.spanConst.len + conn.len + (route != null ? route.len : 0) + st.len + 64);
  let p = out.ptr;
  const t = r.trace;
  p = putId(p, 1, t.traceHi, t.traceLo, 16);
  p = putId(p, 2, 0, t.spanId, 8);
  if (r.hasParent) p = putId(p, 4, 0, r.parentSpanId, 8);
  // name: "<service>/<method>", "<method>", or the protocol
  if (mn < 0) p = sn >= 0 ? putString(p, 5, changetype<string>(service), sn) : putString(p, 5, e.protocol, pn);
  else if (sn <= 0) p = putString(p, 5, changetype<string>(method), mn);
  else {
    p = putTag(p, 5, WIRE_LEN);
    p = putVarint(p, <u64>(sn + 1 + mn));
    String.UTF8.encodeUnsafe(changetype<usize>(service), changetype<string>(service).length, p, false); p += <usize>sn;
    store<u8>(p++, 0x2f);
    String.UTF8.encodeUnsafe(changetype<usize>(method), changetype<string>(method).length, p, false); p += <usize>mn;
  }
  p = putTag(p, 6, 0); p = putVarint(p, <u64>kind);
  p = putFixed64(p, 7, r.startNs);
  p = putFixed64(p, 8, e.endNs > r.startNs ? e.endNs : r.startNs);
  p = putBuf(p, k.spanConst);
  if (sn >= 0) p = putAttrString(p, SPAN_ATTR, k.kService, changetype<string>(service), sn);
  if (mn >= 0) p = putAttrString(p, SPAN_ATTR, k.kMethod, changetype<string>(method), mn);
  p = putAttrInt(p, SPAN_ATTR, k.kRequestId, <i64>r.requestId);
  p = putAttrInt(p, SPAN_ATTR, k.kRequestSize, r.requestSize);
  if (e.responseSize >= 0) p = putAttrInt(p, SPAN_ATTR, k.kResponseSize, e.responseSize);
  p = putBuf(p, conn);
  if (route != null) p = putBuf(p, route);
  // metaprotocol.status, and for failures error = true and Status{ERROR}
  p = putBuf(p, st);
  out.len = <i32>(p - out.ptr);
}

// One OTLP Span per request (opentelemetry/proto/trace/v1/trace.proto), with the attributes
// Aeraki's MetaProtocol Proxy puts on its spans, under Envoy's tag names where Envoy has one
// (docs/observability.md lists them).
import { ByteBuf } from "../bytes";
import { ErrorType } from "../codec";
import { writeAttrBool, writeAttrInt, writeAttrString, writeFixed64, writeIdField, writeString, writeTag, writeUint, writeVarint, varintSize, WIRE_LEN } from "../otlp/proto";
import { Outcome, RequestRecord } from "./record";

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
}

export function outcomeText(o: Outcome, error: i32): string {
  switch (o) {
    case Outcome.Ok: return "ok";
    case Outcome.Error: return "error";
    case Outcome.Oneway: return "oneway";
    case Outcome.NoResponse: return "no_response";
    default: break;
  }
  switch (error) {
    case ErrorType.RouteNotFound: return "route_not_found";
    case ErrorType.ClusterNotFound: return "cluster_not_found";
    case ErrorType.NoHealthyUpstream: return "no_healthy_upstream";
    case ErrorType.BadResponse: return "bad_response";
    case ErrorType.OverLimit: return "over_limit";
    default: return "local_reply";
  }
}

export function isError(o: Outcome): bool { return o == Outcome.Error || o == Outcome.NoResponse || o == Outcome.LocalReply; }

/** "<service>/<method>", "<method>", or the protocol name, as UTF-8 in field 5. */
function writeName(out: ByteBuf, r: RequestRecord, protocol: string): void {
  const s = r.service, m = r.method;
  if (m == null) { writeString(out, 5, s != null ? changetype<string>(s) : protocol); return; }
  const method = changetype<string>(m);
  if (s == null || changetype<string>(s).length == 0) { writeString(out, 5, method); return; }
  const service = changetype<string>(s);
  const n = String.UTF8.byteLength(service, false) + 1 + String.UTF8.byteLength(method, false);
  writeTag(out, 5, WIRE_LEN); writeVarint(out, <u64>n);
  out.writeUtf8(service); out.writeU8(0x2f); out.writeUtf8(method);
}

export function encodeSpan(r: RequestRecord, e: Ending, kind: i32, out: ByteBuf): void {
  out.clear();
  const t = r.trace;
  writeIdField(out, 1, t.traceHi, t.traceLo, 16);
  writeIdField(out, 2, 0, t.spanId, 8);
  if (r.hasParent) writeIdField(out, 4, 0, r.parentSpanId, 8);
  writeName(out, r, e.protocol);
  writeUint(out, 6, <u64>kind);
  writeFixed64(out, 7, r.startNs);
  writeFixed64(out, 8, e.endNs > r.startNs ? e.endNs : r.startNs);
  writeAttrString(out, 9, "component", "proxy");
  writeAttrString(out, 9, "rpc.system", e.protocol);
  if (r.service != null) writeAttrString(out, 9, "rpc.service", changetype<string>(r.service));
  if (r.method != null) writeAttrString(out, 9, "rpc.method", changetype<string>(r.method));
  writeAttrInt(out, 9, "request_id", <i64>r.requestId);
  writeAttrInt(out, 9, "request_size", r.requestSize);
  if (e.responseSize >= 0) writeAttrInt(out, 9, "response_size", e.responseSize);
  if (e.cluster.length > 0) writeAttrString(out, 9, "upstream_cluster", e.cluster);
  if (e.peer.length > 0) writeAttrString(out, 9, "peer.address", e.peer);
  if (e.route.length > 0) writeAttrString(out, 9, "metaprotocol.route", e.route);
  const status = outcomeText(e.outcome, r.error);
  writeAttrString(out, 9, "metaprotocol.status", status);
  if (isError(e.outcome)) {
    writeAttrBool(out, 9, "error", true);
    // Status{message = 2, code = 3: STATUS_CODE_ERROR (2)}
    const n = String.UTF8.byteLength(status, false);
    writeTag(out, 15, WIRE_LEN); writeVarint(out, <u64>(1 + varintSize(<u64>n) + n + 2));
    writeString(out, 2, status);
    writeUint(out, 3, 2);
  }
}

// Attribute bytes that repeat on every span and log record, encoded once: constant attributes
// per root (component, rpc.system), per route, per status, and per connection (peer, cluster).
// A span or record then costs a few copies and the varints of what really varies.
import { ByteBuf } from "../bytes";
import { ErrorType } from "../codec";
import { attrStringBlob, keyField, writeAttrBool, writeAttrInt, writeAttrString } from "../otlp/proto";
import { Outcome } from "./record";

/** Attributes are field 9 of a Span and field 6 of a LogRecord. */
export const SPAN_ATTR: u32 = 9;
export const LOG_ATTR: u32 = 6;

const STATUSES = 10; // Ok, Error, Oneway, NoResponse, then LocalReply by ErrorType (6)

export function statusIndex(o: Outcome, error: i32): i32 {
  if (o != Outcome.LocalReply) return <i32>o;
  return 4 + (error >= 0 && error <= <i32>ErrorType.Unspecified ? error : <i32>ErrorType.Unspecified);
}

export function statusText(i: i32): string {
  switch (i) {
    case 0: return "ok";
    case 1: return "error";
    case 2: return "oneway";
    case 3: return "no_response";
    case 4 + ErrorType.RouteNotFound: return "route_not_found";
    case 4 + ErrorType.ClusterNotFound: return "cluster_not_found";
    case 4 + ErrorType.NoHealthyUpstream: return "no_healthy_upstream";
    case 4 + ErrorType.BadResponse: return "bad_response";
    case 4 + ErrorType.OverLimit: return "over_limit";
    default: return "local_reply";
  }
}

export class RootBlobs {
  spanConst: ByteBuf = new ByteBuf();
  logConst: ByteBuf = new ByteBuf();
  /** Span status attributes: metaprotocol.status, and for errors error=true + Status{message, code ERROR}. */
  spanStatus: ByteBuf[] = [];
  logStatus: ByteBuf[] = [];
  routeSpan: ByteBuf[] = [];
  routeLog: ByteBuf[] = [];
  kRequestId: ByteBuf = keyField("request_id");
  kRequestSize: ByteBuf = keyField("request_size");
  kResponseSize: ByteBuf = keyField("response_size");
  kDuration: ByteBuf = keyField("duration_us");
  kService: ByteBuf = keyField("rpc.service");
  kMethod: ByteBuf = keyField("rpc.method");

  constructor(protocol: string, routeNames: string[]) {
    writeAttrString(this.spanConst, SPAN_ATTR, "component", "proxy");
    writeAttrString(this.spanConst, SPAN_ATTR, "rpc.system", protocol);
    writeAttrString(this.logConst, LOG_ATTR, "rpc.system", protocol);
    for (let i = 0; i < STATUSES; i++) {
      const text = statusText(i);
      const s = attrStringBlob(SPAN_ATTR, "metaprotocol.status", text);
      if (i == 1 || i >= 3) {
        writeAttrBool(s, SPAN_ATTR, "error", true);
        // Span.status = 15: Status{message = 2, code = 3: STATUS_CODE_ERROR (2)}
        const n = text.length; // ASCII
        s.writeU8(0x7a); s.writeU8(<u32>(2 + n + 2));
        s.writeU8(0x12); s.writeU8(<u32>n); s.writeUtf8(text);
        s.writeU8(0x18); s.writeU8(2);
      }
      this.spanStatus.push(s);
      this.logStatus.push(attrStringBlob(LOG_ATTR, "metaprotocol.status", text));
    }
    for (let i = 0; i < routeNames.length; i++) {
      this.routeSpan.push(attrStringBlob(SPAN_ATTR, "metaprotocol.route", routeNames[i]));
      this.routeLog.push(attrStringBlob(LOG_ATTR, "metaprotocol.route", routeNames[i]));
    }
  }
}

/** Per connection: peer.address and upstream_cluster (and connection.id for logs). */
export class ConnBlobs {
  span: ByteBuf = new ByteBuf();
  log: ByteBuf = new ByteBuf();
  private forCluster: string | null = null;

  /** Rebuilt only when the cluster changes (the first request binds it, or tcp_proxy picks it). */
  update(peer: string, cluster: string, connectionId: u64, k: RootBlobs): void {
    if (this.forCluster === cluster) return;
    this.forCluster = cluster;
    this.span.clear(); this.log.clear();
    if (peer.length > 0) { writeAttrString(this.span, SPAN_ATTR, "peer.address", peer); writeAttrString(this.log, LOG_ATTR, "peer.address", peer); }
    if (cluster.length > 0) { writeAttrString(this.span, SPAN_ATTR, "upstream_cluster", cluster); writeAttrString(this.log, LOG_ATTR, "upstream_cluster", cluster); }
    if (connectionId != 0) writeAttrInt(this.log, LOG_ATTR, "connection.id", <i64>connectionId);
  }
}

// A connection's side of telemetry: a record per request from its decoding to its end, the
// trace context decision (continue the caller's trace or start one, sample), the traceparent
// to write on the request, and at the end its span, access log record and duration. Nothing
// here calls the host per request: records are pooled, spans and logs go into the root's
// batches, and the peer address and connection id are read once per connection.
import { KeyValue, MessageType } from "../codec";
import { Metadata } from "../metadata";
import { getPropertyString, getPropertyU64 } from "../../abi/host";
import { ipOf } from "../router";
import { RootTelemetry } from "./root";
import { Outcome, RequestRecord } from "./record";
import { Ending, encodeSpan } from "./spans";
import { encodeLogRecord } from "./logs";
import { parseTraceparent, randomId, sampled } from "./trace";

/** Pooled records kept per connection (more in flight allocate; fewer are kept afterwards). */
const POOL = 16;

export class ConnTelemetry {
  private inFlight: Map<u64, RequestRecord> = new Map<u64, RequestRecord>();
  private pool: RequestRecord[] = [];
  private known: bool = false;
  /** tcp_proxy's own cluster (xds.cluster_name), for connections the module did not bind. */
  private tcpCluster: string = "";
  private ending: Ending = new Ending();

  constructor(private t: RootTelemetry) {
    this.ending.protocol = t.protocol;
  }

  /** A request was decoded: start its record (before any routing or limit decision). */
  begin(md: Metadata, len: i32, nowNs: u64): RequestRecord {
    if (!this.known && (this.t.tracing != null || this.t.accessLog != null)) this.learnConnection();
    const r = this.pool.length > 0 ? this.pool.pop() : new RequestRecord();
    r.reset();
    r.requestId = md.requestId;
    r.startNs = nowNs;
    r.requestSize = len;
    r.oneway = md.messageType == MessageType.Oneway;
    r.service = md.getAttribute("interface");
    r.method = md.getAttribute("method");
    const tracing = this.t.tracing;
    if (tracing != null) {
      const ctx = r.trace;
      if (parseTraceparent(md.getAttribute("traceparent"), ctx)) {
        // Continue the caller's trace and keep its sampling decision.
        r.hasParent = true;
        r.parentSpanId = ctx.spanId;
        r.traced = ctx.sampled;
        r.propagate = r.traced; // unsampled: the caller's traceparent goes on unchanged
      } else {
        ctx.traceHi = randomId(); ctx.traceLo = randomId();
        r.traced = sampled(tracing.samplingPercent);
        r.propagate = true; // the next hop keeps this decision
      }
      ctx.spanId = randomId();
      ctx.flags = r.traced ? 1 : 0;
      r.hasTrace = true;
    }
    const log = this.t.accessLog;
    if (log != null) r.logged = sampled(log.samplingPercent);
    return r;
  }

  /** The mutation to write on the request: the route's, plus the trace context when needed. */
  mutation(r: RequestRecord, route: KeyValue[]): KeyValue[] {
    if (!r.propagate) return route;
    this.t.traceparent.set(r.trace.traceHi, r.trace.traceLo, r.trace.spanId, r.trace.flags);
    return this.t.withTraceparent(route);
  }

  propagationRefused(): void { this.t.propagationRefused(); }

  /** The request goes upstream: a two-way one waits for its response, a oneway one ends here. */
  forwarded(r: RequestRecord, routeSlot: i32, methodSlot: i32, nowNs: u64, cluster: string): void {
    r.routeSlot = routeSlot;
    r.methodSlot = methodSlot;
    if (r.oneway) { this.finish(r, Outcome.Oneway, -1, nowNs, cluster); return; }
    const id = r.requestId;
    if (this.inFlight.has(id)) this.finish(this.inFlight.get(id), Outcome.NoResponse, -1, nowNs, cluster);
    this.inFlight.set(id, r);
  }

  /** The request was answered locally (no route, over a limit, route mismatch with REJECT). */
  rejected(r: RequestRecord, error: i32, nowNs: u64, cluster: string): void {
    r.error = error;
    this.finish(r, Outcome.LocalReply, -1, nowNs, cluster);
  }

  /** A response from the upstream; `failed` when its status is an error. */
  response(md: Metadata, len: i32, failed: bool, nowNs: u64, cluster: string): void {
    const id = md.requestId;
    if (!this.inFlight.has(id)) return;
    const r = this.inFlight.get(id);
    this.inFlight.delete(id);
    this.finish(r, failed ? Outcome.Error : Outcome.Ok, len, nowNs, cluster);
  }

  /** The connection ends: requests still waiting never got an answer. */
  close(nowNs: u64, cluster: string): void {
    if (this.inFlight.size == 0) return;
    const open = this.inFlight.values();
    this.inFlight.clear();
    for (let i = 0; i < open.length; i++) this.finish(unchecked(open[i]), Outcome.NoResponse, -1, nowNs, cluster);
  }

  private finish(r: RequestRecord, outcome: Outcome, responseSize: i32, nowNs: u64, cluster: string): void {
    const t = this.t;
    const e = this.ending;
    e.outcome = outcome; e.endNs = nowNs; e.responseSize = responseSize;
    e.cluster = cluster.length > 0 ? cluster : this.upstreamCluster(outcome);
    e.route = t.routeName(r.routeSlot);
    e.conn.update(e.peer, e.cluster, e.connectionId, t.blobs);
    const lat = t.latency;
    if (lat != null && (outcome == Outcome.Ok || outcome == Outcome.Error)) lat.record(r.routeSlot, r.methodSlot, (nowNs - r.startNs) / 1000);
    const spans = t.spans;
    if (r.traced && spans != null) {
      encodeSpan(r, e, t.tracing!.spanKind, t.blobs, t.item);
      spans.add(t.item);
    }
    const logs = t.logs;
    if (r.logged && logs != null) {
      encodeLogRecord(r, e, t.blobs, t.text, t.item);
      logs.add(t.item);
    }
    r.service = null; r.method = null;
    if (this.pool.length < POOL) this.pool.push(r);
  }

  /** The cluster tcp_proxy picked, read once it has one (after the first request went upstream). */
  private upstreamCluster(outcome: Outcome): string {
    if (this.tcpCluster.length > 0 || outcome == Outcome.LocalReply) return this.tcpCluster;
    const c = getPropertyString("xds.cluster_name");
    if (c != null) this.tcpCluster = c;
    return this.tcpCluster;
  }

  /** Read once per connection, in its first data callback (properties of a closing connection may be gone). */
  private learnConnection(): void {
    this.known = true;
    const a = getPropertyString("source.address");
    this.ending.peer = a != null ? ipOf(a) : "";
    this.ending.connectionId = getPropertyU64("connection.id", 0);
  }
}

// Connections whose requests went to tcp_proxy and that have not heard from the upstream yet.
// Envoy's connection pool can leave tcp_proxy waiting for a connection with no timeout: a host
// at circuit_breakers max_connections (per host, or the cluster's when another worker took the
// last one between tcp_proxy's check and the pool's) queues the request until one of that pool's
// connections closes, and the client hears nothing. The module cannot answer without an
// upstream (its error replies ride on upstream data callbacks), so such a connection is closed:
// its requests never reached a provider, and a client retries a closed connection.
// A connection is only closed when Envoy says it has no upstream (property upstream.address):
// a connected but slow provider is not our business. Counted: upstream_connect_timeout.
import { LogLevel, StreamType, closeStream, getPropertyString, log, setEffectiveContext } from "../abi/host";
import { MetaConnection } from "./connection";

export class UpstreamWatch {
  private first: MetaConnection | null = null;
  /** Connections on the list. */
  count: i32 = 0;
  closed: i64 = 0;

  /** The connection forwarded its first bytes to tcp_proxy at `nowMs`. */
  add(c: MetaConnection, nowMs: u64): void {
    if (c.watched) return;
    c.watched = true;
    c.watchSinceMs = nowMs;
    c.nextWatch = this.first;
    if (this.first != null) this.first!.prevWatch = c;
    this.first = c;
    this.count++;
  }

  remove(c: MetaConnection): void {
    if (!c.watched) return;
    c.watched = false;
    const p = c.prevWatch, n = c.nextWatch;
    if (p != null) p.nextWatch = n; else if (this.first === c) this.first = n;
    if (n != null) n.prevWatch = p;
    c.prevWatch = null; c.nextWatch = null;
    this.count--;
  }

  /** On the root's tick: close the connections past `timeoutMs` that Envoy has no upstream for. */
  step(nowMs: u64, timeoutMs: i64, rootId: u32, statPrefix: string): void {
    if (this.count == 0 || timeoutMs <= 0) return;
    let c = this.first;
    let acted = false;
    while (c != null) {
      const next = c.nextWatch;
      if (nowMs >= c.watchSinceMs + <u64>timeoutMs) {
        this.remove(c);
        setEffectiveContext(c.id);
        acted = true;
        // Set by tcp_proxy once its connection pool handed it a connection.
        if (getPropertyString("upstream.address") == null) {
          log(LogLevel.Warn, "metaprotocol." + statPrefix + ": connection " + c.id.toString() + " has had no upstream connection for " +
            timeoutMs.toString() + " ms after its first request (Envoy's connection pool is holding it: circuit breaker?); closing it");
          closeStream(StreamType.Downstream);
          this.closed++;
          c.upstreamTimedOut();
        }
      }
      c = next;
    }
    if (acted) setEffectiveContext(rootId);
  }
}

// Static clusters: STATIC (IP endpoints) or STRICT_DNS (names resolved when connecting),
// round robin over the endpoints, and the per-cluster stats Envoy keeps.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { ClusterConfig, Endpoint } from "./config.ts";
import type { StatsStore } from "./stats.ts";

/** Envoy's per-host counters, shown by admin /clusters. */
export interface HostStats { cx_total: number; cx_active: number; cx_connect_fail: number }

export class Cluster {
  private rr = 0;
  /** Upstream connections open or connecting: what circuit_breakers max_connections counts. */
  active = 0;
  /** "address:port" -> connection requests queued by the per-host limit, oldest first (see waitForHost). */
  private waiting = new Map<string, (() => void)[]>();
  /** "address:port" -> the counters of that upstream host. */
  readonly hosts = new Map<string, HostStats>();
  constructor(readonly config: ClusterConfig, public endpoints: Endpoint[], private stats: StatsStore) {
    for (const s of ["upstream_cx_total", "upstream_cx_connect_fail", "upstream_cx_connect_timeout", "upstream_cx_none_healthy",
      "upstream_cx_rx_bytes_total", "upstream_cx_tx_bytes_total", "upstream_cx_destroy"]) stats.ensureCounter(this.stat(s));
    stats.ensureGauge(this.stat("upstream_cx_active"));
    stats.ensureCounter(this.stat("upstream_cx_overflow"));
    stats.ensureGauge(this.stat("upstream_rq_pending_active"));
  }

  /** tcp_proxy's check before it asks the pool: false = over max_connections (upstream_cx_overflow). */
  canCreate(): boolean { return this.active < this.config.maxConnections; }

  /**
   * Envoy's connection pool (one per worker and host; the local host is one worker): a host at
   * per_host_thresholds max_connections that already has connections in this pool gets no new
   * one; the request stays pending, with no timeout, until one of them closes. (A host with none
   * gets one anyway.) Returns null when `go` may run now, else a cancel for the queued request.
   */
  waitForHost(address: string, port: number, go: () => void): (() => void) | null {
    const h = this.hostStats(address, port);
    if (h.cx_active < this.config.maxConnectionsPerHost || h.cx_active === 0) return null;
    this.stats.inc(this.stat("upstream_cx_overflow"));
    this.stats.gaugeAdd(this.stat("upstream_rq_pending_active"), 1);
    const key = `${address}:${port}`;
    const q = this.waiting.get(key) ?? [];
    this.waiting.set(key, q);
    const entry = () => { this.stats.gaugeAdd(this.stat("upstream_rq_pending_active"), -1); go(); };
    q.push(entry);
    return () => {
      const i = q.indexOf(entry);
      if (i >= 0) { q.splice(i, 1); this.stats.gaugeAdd(this.stat("upstream_rq_pending_active"), -1); }
    };
  }

  /** A connection to this host closed: the oldest request it queued may connect. */
  hostReleased(address: string, port: number): void {
    const q = this.waiting.get(`${address}:${port}`);
    const next = q?.shift();
    if (next) queueMicrotask(next);
  }
  get name(): string { return this.config.name; }
  hostStats(address: string, port: number): HostStats {
    const key = `${address}:${port}`;
    let h = this.hosts.get(key);
    if (!h) { h = { cx_total: 0, cx_active: 0, cx_connect_fail: 0 }; this.hosts.set(key, h); }
    return h;
  }
  stat(s: string): string { return `cluster.${this.config.name}.${s}`; }

  /** Next endpoint, round robin; resolves a DNS name for STRICT_DNS. null = no endpoint. */
  async pick(): Promise<Endpoint | null> {
    if (!this.endpoints.length) return null;
    const ep = this.endpoints[this.rr++ % this.endpoints.length];
    if (isIP(ep.host) || this.config.type === "STATIC") return ep;
    const r = await lookup(ep.host, { family: 4 }).catch(() => null);
    return r ? { host: r.address, port: ep.port } : null;
  }
}

export class ClusterManager {
  readonly clusters = new Map<string, Cluster>();
  constructor(configs: ClusterConfig[], overrides: Record<string, Endpoint[]> | undefined, stats: StatsStore) {
    for (const name of Object.keys(overrides ?? {})) {
      if (!configs.some((c) => c.name === name)) throw new Error(`endpoints override: no cluster named ${name} in the config`);
    }
    for (const c of configs) this.clusters.set(c.name, new Cluster(c, overrides?.[c.name] ?? c.endpoints, stats));
  }
  get(name: string): Cluster | undefined { return this.clusters.get(name); }

  /** Admin /clusters text: a subset of Envoy's "name::host:port::field::value" lines, in its order. */
  text(): string {
    const lines: string[] = [];
    for (const c of this.clusters.values()) {
      lines.push(`${c.name}::observability_name::${c.name}`);
      lines.push(`${c.name}::default_priority::max_connections::${c.config.maxConnections}`);
      lines.push(`${c.name}::added_via_api::false`);
      for (const ep of c.endpoints) {
        const h = c.hostStats(ep.host, ep.port);
        const at = `${c.name}::${ep.host}:${ep.port}`;
        lines.push(`${at}::cx_active::${h.cx_active}`, `${at}::cx_connect_fail::${h.cx_connect_fail}`, `${at}::cx_total::${h.cx_total}`,
          `${at}::health_flags::healthy`, `${at}::weight::1`);
      }
    }
    return lines.join("\n") + "\n";
  }
}

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
  active = 0;
  /** "address:port" -> the counters of that upstream host. */
  readonly hosts = new Map<string, HostStats>();
  constructor(readonly config: ClusterConfig, public endpoints: Endpoint[], private stats: StatsStore) {
    for (const s of ["upstream_cx_total", "upstream_cx_connect_fail", "upstream_cx_connect_timeout", "upstream_cx_none_healthy",
      "upstream_cx_rx_bytes_total", "upstream_cx_tx_bytes_total", "upstream_cx_destroy"]) stats.ensureCounter(this.stat(s));
    stats.ensureGauge(this.stat("upstream_cx_active"));
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
      lines.push(`${c.name}::default_priority::max_connections::1024`);
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

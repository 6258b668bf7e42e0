// Static clusters: STATIC (IP endpoints) or STRICT_DNS (names resolved when connecting),
// round robin over the endpoints, and the per-cluster stats Envoy keeps.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { ClusterConfig, Endpoint } from "./config.ts";
import type { StatsStore } from "./stats.ts";

export class Cluster {
  private rr = 0;
  active = 0;
  constructor(readonly config: ClusterConfig, public endpoints: Endpoint[], private stats: StatsStore) {
    for (const s of ["upstream_cx_total", "upstream_cx_connect_fail", "upstream_cx_connect_timeout", "upstream_cx_none_healthy",
      "upstream_cx_rx_bytes_total", "upstream_cx_tx_bytes_total", "upstream_cx_destroy"]) stats.ensureCounter(this.stat(s));
    stats.ensureGauge(this.stat("upstream_cx_active"));
  }
  get name(): string { return this.config.name; }
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

  /** Admin /clusters text, in Envoy's "name::host:port::field::value" shape. */
  text(stats: StatsStore): string {
    const lines: string[] = [];
    for (const c of this.clusters.values()) {
      for (const ep of c.endpoints) {
        lines.push(`${c.name}::${ep.host}:${ep.port}::health_flags::healthy`);
      }
      lines.push(`${c.name}::default_priority::max_connections::1024`);
      lines.push(`${c.name}::upstream_cx_active::${stats.gauges.get(c.stat("upstream_cx_active")) ?? 0}`);
    }
    return lines.join("\n") + "\n";
  }
}

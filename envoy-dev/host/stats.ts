// Envoy-style stats store: counters, gauges and histograms by dotted name, rendered like
// Envoy's admin /stats and /stats/prometheus (tag extraction: the bootstrap's stats_tags, then
// Envoy's defaults for cluster.* and tcp.*; the wasmcustom namespace stripped and left without
// the envoy_ prefix).
import type { StatsTag } from "./config.ts";
export const CUSTOM_PREFIX = "wasmcustom.";
// Envoy's default histogram bucket bounds.
const BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/**
 * A histogram as Envoy shows it: values are recorded at once but reach the admin endpoint only
 * on the next stats flush (bootstrap stats_flush_interval, 5 s by default), as in Envoy.
 */
export class Histogram {
  counts = new Array<number>(BUCKETS.length).fill(0);
  count = 0;
  sum = 0;
  private pending: number[] = [];
  record(v: number): void { this.pending.push(v); }
  flush(): void {
    for (const v of this.pending) {
      this.count++;
      this.sum += v;
      for (let i = 0; i < BUCKETS.length; i++) if (v <= BUCKETS[i]) this.counts[i]++;
    }
    this.pending = [];
  }
}

export class StatsStore {
  private statsTags: StatsTag[] = [];
  private defaultTags = true;
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, number>();
  readonly histograms = new Map<string, Histogram>();

  /** stats_config of the bootstrap (tag extraction for /stats/prometheus). */
  setTagExtraction(tags: StatsTag[], useAllDefaultTags: boolean): void { this.statsTags = tags; this.defaultTags = useAllDefaultTags; }

  inc(name: string, delta = 1): void { this.counters.set(name, (this.counters.get(name) ?? 0) + delta); }
  gaugeAdd(name: string, delta: number): void { this.gauges.set(name, (this.gauges.get(name) ?? 0) + delta); }
  gaugeSet(name: string, v: number): void { this.gauges.set(name, v); }
  histogram(name: string): Histogram {
    let h = this.histograms.get(name);
    if (!h) { h = new Histogram(); this.histograms.set(name, h); }
    return h;
  }
  ensureCounter(name: string): void { if (!this.counters.has(name)) this.counters.set(name, 0); }
  /** Envoy's stats flush: pending histogram values become visible. */
  flushHistograms(): void { for (const h of this.histograms.values()) h.flush(); }
  ensureGauge(name: string): void { if (!this.gauges.has(name)) this.gauges.set(name, 0); }

  /** Flat snapshot with Envoy's user-facing names (wasmcustom. stripped). */
  snapshot(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [k, v] of this.counters) out.set(publicName(k), v);
    for (const [k, v] of this.gauges) out.set(publicName(k), v);
    for (const [k, h] of this.histograms) {
      out.set(`${publicName(k)}.sample_count`, h.count);
      out.set(`${publicName(k)}.sample_sum`, h.sum);
    }
    return out;
  }

  /**
   * Admin /stats text: "name: value" sorted by name, then histograms. Envoy 1.40 prints the
   * module's metrics under their full name (wasmcustom.<name>); only /stats/prometheus drops it.
   */
  text(): string {
    const lines: string[] = [];
    for (const [k, v] of [...this.counters, ...this.gauges]) lines.push(`${k}: ${v}`);
    const hist: string[] = [];
    // Envoy prints quantiles here; the local host keeps buckets only, so it prints count and sum.
    for (const [k, h] of this.histograms) hist.push(`${k}: ${h.count ? `count=${h.count} sum=${h.sum}` : "No recorded values"}`);
    return [...lines.sort(), ...hist.sort()].join("\n") + "\n";
  }

  prometheus(): string {
    const groups = new Map<string, { type: string; lines: string[] }>();
    const add = (metric: string, type: string, line: string) => {
      let g = groups.get(metric);
      if (!g) { g = { type, lines: [] }; groups.set(metric, g); }
      g.lines.push(line);
    };
    for (const [kind, map] of [["counter", this.counters], ["gauge", this.gauges]] as const) {
      for (const [k, v] of map) {
        const { metric, tags } = this.promName(k);
        add(metric, kind, `${metric}${renderTags(tags)} ${v}`);
      }
    }
    for (const [k, h] of this.histograms) {
      const { metric, tags } = this.promName(k);
      BUCKETS.forEach((b, i) => add(metric, "histogram", `${metric}_bucket${renderTags([...tags, ["le", String(b)]])} ${h.counts[i]}`));
      add(metric, "histogram", `${metric}_bucket${renderTags([...tags, ["le", "+Inf"]])} ${h.count}`);
      add(metric, "histogram", `${metric}_sum${renderTags(tags)} ${h.sum}`);
      add(metric, "histogram", `${metric}_count${renderTags(tags)} ${h.count}`);
    }
    let out = "";
    for (const name of [...groups.keys()].sort()) {
      const g = groups.get(name)!;
      out += `# TYPE ${name} ${g.type}\n${g.lines.join("\n")}\n`;
    }
    return out;
  }

  /**
   * Envoy's tag extraction (TagExtractorImplBase::extractTag) for the configured stats_tags: each
   * regex is searched in the full name (wasmcustom. included); its first group is cut out of the
   * name and its second group (else the first) is the tag's value. Tags keep the configured order.
   */
  private userTags(name: string): { rest: string; tags: [string, string][] } {
    const tags: [string, string][] = [];
    const cut: [number, number][] = [];
    for (const t of this.statsTags) {
      const m = t.regex.exec(name);
      const at = m?.indices?.[1];
      if (!m || !at) continue;
      tags.push([t.name, m.length > 2 && m[2] !== undefined ? m[2] : m[1]]);
      cut.push(at);
    }
    if (!cut.length) return { rest: name, tags };
    cut.sort((a, b) => a[0] - b[0]);
    let rest = "", pos = 0;
    for (const [a, b] of cut) { if (a > pos) rest += name.slice(pos, a); pos = Math.max(pos, b); }
    return { rest: rest + name.slice(pos), tags };
  }

  private promName(full: string): { metric: string; tags: [string, string][] } {
    const { rest: name, tags } = this.userTags(full);
    const d = this.defaultName(name);
    return { metric: d.metric, tags: [...tags, ...d.tags] };
  }

  /** Envoy's default tag extraction for the stats this host emits. */
  private defaultName(name: string): { metric: string; tags: [string, string][] } {
    if (name.startsWith(CUSTOM_PREFIX)) return { metric: sanitize(name.slice(CUSTOM_PREFIX.length)), tags: [] };
    if (!this.defaultTags) return { metric: "envoy_" + sanitize(name), tags: [] };
    if (name.startsWith("cluster.")) {
      // Envoy's default extractor takes the first dot-free segment (`cluster.$.**`), so an
      // Istio name with dots leaves its domain in the metric name, as real Envoy 1.40 prints:
      // envoy_cluster_default_svc_cluster_local_upstream_cx_total{envoy_cluster_name="outbound|20880|v1|dubbo-demo"}.
      // (Istio's own bootstrap adds a stats tag that keeps the whole name; plain Envoy does not.)
      const rest = name.slice("cluster.".length);
      const dot = rest.indexOf(".");
      return { metric: "envoy_cluster_" + sanitize(rest.slice(dot + 1)), tags: [["envoy_cluster_name", rest.slice(0, dot)]] };
    }
    const tcp = /^tcp\.(.*?)\.(\w+)$/.exec(name);
    if (tcp) return { metric: "envoy_tcp_" + sanitize(tcp[2]), tags: [["envoy_tcp_prefix", tcp[1]]] };
    return { metric: "envoy_" + sanitize(name), tags: [] };
  }
}

export function publicName(internal: string): string {
  return internal.startsWith(CUSTOM_PREFIX) ? internal.slice(CUSTOM_PREFIX.length) : internal;
}

function sanitize(s: string): string {
  const r = s.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(r) ? "_" + r : r;
}

function renderTags(tags: [string, string][]): string {
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
  return "{" + tags.map(([k, v]) => `${k}="${esc(v)}"`).join(",") + "}";
}

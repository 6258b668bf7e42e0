// Parses Prometheus text (Envoy's /stats/prometheus) into series -> value. A series is the
// metric name followed by its labels as printed, with an empty label set dropped:
// `metaprotocol_dubbo_demo_request_total`, `envoy_cluster_upstream_cx_total{envoy_cluster_name="x"}`.
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    if (sp < 0) continue;
    let series = line.slice(0, sp);
    if (series.endsWith("{}")) series = series.slice(0, -2);
    const v = Number(line.slice(sp + 1));
    if (!Number.isNaN(v)) out.set(series, v);
  }
  return out;
}

/**
 * The series of a cluster stat as plain Envoy prints it. Its default tag extractor takes the
 * cluster name up to the first dot, so `outbound|20880|v1|dubbo-demo.default.svc.cluster.local`
 * gives envoy_cluster_default_svc_cluster_local_<stat>{envoy_cluster_name="outbound|20880|v1|dubbo-demo"}.
 */
export function clusterSeries(stat: string, cluster: string): string {
  const dot = cluster.indexOf(".");
  const tag = dot < 0 ? cluster : cluster.slice(0, dot);
  const rest = dot < 0 ? "" : `${cluster.slice(dot + 1).replace(/[^a-zA-Z0-9_]/g, "_")}_`;
  return `envoy_cluster_${rest}${stat}{envoy_cluster_name="${tag.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"}`;
}

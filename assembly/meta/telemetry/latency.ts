// Per-route request duration histograms (config latencyHistogram), recorded in microseconds with
// proxy_record_metric when a response arrives. Labels ride in the metric name in Istio's
// encoding, `route=.=<route>;.;` (and `method=.=<method>;.;` with methodStats): Envoy's tag
// extraction turns them into Prometheus labels when the bootstrap has the matching stats_tags
// (Istio: meshConfig.defaultConfig.extraStatTags: [route, method]); without it the name keeps
// them as text. docs/observability.md shows both.
import { MetricType, defineMetric, recordMetric } from "../../abi/host";
import { Stats } from "../stats";

export const LATENCY_NAME = "request_duration_microseconds";

export class LatencyHistograms {
  /** (route slot, method slot) -> metric id, defined on first use. */
  private ids: Map<i32, u32> = new Map<i32, u32>();

  constructor(private base: string, private routeNames: string[], private methods: Stats | null) {}

  record(routeSlot: i32, methodSlot: i32, micros: u64): void {
    const withMethod = this.methods != null && methodSlot >= 0;
    const key = ((routeSlot + 1) << 12) | (withMethod ? methodSlot + 1 : 0);
    let id: u32;
    if (this.ids.has(key)) id = this.ids.get(key);
    else {
      let name = this.base;
      if (routeSlot >= 0 && routeSlot < this.routeNames.length) name += "route=.=" + unchecked(this.routeNames[routeSlot]) + ";.;";
      if (withMethod) name += "method=.=" + this.methods!.methodLabel(methodSlot) + ";.;";
      id = defineMetric(MetricType.Histogram, name + LATENCY_NAME);
      this.ids.set(key, id);
    }
    recordMetric(id, micros);
  }
}

// What a plugin configuration adds beyond routing and local limits: the global rate limit
// clients and counters, and telemetry (spans, access log, latency histograms). The root context
// owns one per configuration; connections find here what they need.
import { PluginConfig, ServiceConfig } from "./config";
import { Counters } from "./counters";
import { Stats } from "./stats";
import { RateLimitTarget, RL_COUNTER_NAMES } from "./globalratelimit/gate";
import { RootTelemetry } from "./telemetry/root";

export class Features {
  /** One client per service with a globalRateLimit (by service index), else null entries. */
  rateLimits: (RateLimitTarget | null)[] = [];
  rateLimitCounters: Counters | null = null;
  telemetry: RootTelemetry | null = null;

  static none(): Features { return new Features(); }

  static configure(cfg: PluginConfig, protocol: string, routeNames: string[], stats: Stats): Features {
    const f = new Features();
    const base = "metaprotocol." + cfg.statPrefix + ".";
    for (let i = 0; i < cfg.services.length; i++) {
      const g = cfg.services[i].globalRateLimit;
      f.rateLimits.push(g != null ? new RateLimitTarget(g) : null);
      if (g != null && f.rateLimitCounters == null) f.rateLimitCounters = new Counters(base, RL_COUNTER_NAMES);
    }
    if (cfg.tracing != null || cfg.accessLog != null || cfg.latencyHistogram) {
      f.telemetry = new RootTelemetry(cfg, protocol, base, routeNames, stats);
    }
    return f;
  }

  get hasGlobalRateLimit(): bool { return this.rateLimitCounters != null; }

  rateLimitOf(svc: ServiceConfig): RateLimitTarget | null {
    return svc.index < this.rateLimits.length ? unchecked(this.rateLimits[svc.index]) : null;
  }

  onTick(): void {
    const c = this.rateLimitCounters;
    if (c != null) c.flush();
    const t = this.telemetry;
    if (t != null) t.onTick();
  }
}

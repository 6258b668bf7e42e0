// Telemetry of one plugin configuration (root context): the span and log batches with their
// exporters, their counters, the latency histograms, and the scratch buffers every connection of
// the root shares while a callback runs.
import { ByteBuf } from "../bytes";
import { KeyValue } from "../codec";
import { Counters } from "../counters";
import { PluginConfig } from "../config";
import { AccessLogConfig, TracingConfig } from "../config/telemetry";
import { Stats } from "../stats";
import { ExportCounters, OtlpBatch } from "../otlp/exporter";
import { LatencyHistograms } from "./latency";
import { TraceparentText } from "./trace";
import { RootBlobs } from "./blobs";

const TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService";
const LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService";

export const TRACING_COUNTER_NAMES: string[] = [
  "tracing.spans_exported", "tracing.spans_dropped", "tracing.spans_failed", "tracing.spans_rejected", "tracing.propagation_unsupported",
];
export const T_PROPAGATION_UNSUPPORTED = 4;
export const ACCESS_LOG_COUNTER_NAMES: string[] = [
  "access_log.records_exported", "access_log.records_dropped", "access_log.records_failed", "access_log.records_rejected",
];

export class RootTelemetry {
  tracing: TracingConfig | null;
  accessLog: AccessLogConfig | null;
  spans: OtlpBatch | null = null;
  logs: OtlpBatch | null = null;
  tracingCounters: Counters | null = null;
  logCounters: Counters | null = null;
  latency: LatencyHistograms | null = null;
  /** Encoded attributes shared by every span and record of this root. */
  blobs: RootBlobs;
  /** Item and text scratch: used only while a callback runs (the VM is single-threaded). */
  item: ByteBuf = new ByteBuf();
  text: ByteBuf = new ByteBuf();
  /** The traceparent mutation: one KeyValue whose value is rewritten in place per request. */
  traceparent: TraceparentText;
  traceparentKv: KeyValue;
  private mutation: KeyValue[] = [];

  constructor(cfg: PluginConfig, public protocol: string, base: string, public routeNames: string[], stats: Stats) {
    this.tracing = cfg.tracing;
    this.accessLog = cfg.accessLog;
    this.blobs = new RootBlobs(protocol, routeNames);
    const tp = new TraceparentText();
    this.traceparent = tp;
    this.traceparentKv = new KeyValue("traceparent", tp.text);
    const t = cfg.tracing;
    if (t != null) {
      const c = new Counters(base, TRACING_COUNTER_NAMES);
      this.tracingCounters = c;
      this.spans = new OtlpBatch(t.collectorCluster, TRACE_SERVICE, t.serviceName, t.exportTimeoutMs, c, new ExportCounters(0, 1, 2, 3));
    }
    const a = cfg.accessLog;
    if (a != null) {
      const c = new Counters(base, ACCESS_LOG_COUNTER_NAMES);
      this.logCounters = c;
      this.logs = new OtlpBatch(a.collectorCluster, LOGS_SERVICE, a.serviceName, a.exportTimeoutMs, c, new ExportCounters(0, 1, 2, 3));
    }
    if (cfg.latencyHistogram) this.latency = new LatencyHistograms(base, routeNames, cfg.methodStats ? stats : null);
  }

  /** The route's mutation with the trace context added (a list reused for every request). */
  withTraceparent(route: KeyValue[]): KeyValue[] {
    const m = this.mutation;
    m.length = 0;
    for (let i = 0; i < route.length; i++) if (unchecked(route[i]).key != "traceparent") m.push(unchecked(route[i]));
    m.push(this.traceparentKv);
    return m;
  }

  routeName(slot: i32): string { return slot >= 0 && slot < this.routeNames.length ? unchecked(this.routeNames[slot]) : ""; }

  propagationRefused(): void {
    const c = this.tracingCounters;
    if (c != null) c.inc(T_PROPAGATION_UNSUPPORTED);
  }

  /** The root's tick: counters to Envoy, batches to the collector. */
  onTick(): void {
    const s = this.spans, l = this.logs;
    if (s != null) s.flush();
    if (l != null) l.flush();
    const tc = this.tracingCounters, lc = this.logCounters;
    if (tc != null) tc.flush();
    if (lc != null) lc.flush();
  }
}

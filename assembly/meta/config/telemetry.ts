// Root fields `tracing`, `accessLog` and `latencyHistogram` (README "Plugin configuration",
// docs/observability.md). Spans and access log records go out as OTLP over gRPC to a collector
// cluster of the proxy; sampling is a percentage, as in Istio's Telemetry API.
import { JsonValue, JSON_NUMBER, jsonKindName } from "../json";
import { Errors, childPath, quote, readDuration, readObject, readString } from "./fields";

export const SPAN_KIND_SERVER: i32 = 2;
export const SPAN_KIND_CLIENT: i32 = 3;
export const DEFAULT_EXPORT_TIMEOUT_MS: u32 = 5000;

const TRACING_FIELDS: string[] = ["collectorCluster", "serviceName", "randomSamplingPercentage", "spanKind", "exportTimeout"];
const ACCESS_LOG_FIELDS: string[] = ["collectorCluster", "serviceName", "randomSamplingPercentage", "exportTimeout"];

/** Where and how one OTLP signal is exported. */
export class OtlpConfig {
  collectorCluster: string = "";
  serviceName: string = "";
  /** 0..100; a request is recorded with this probability (tracing: unless its parent decided). */
  samplingPercent: f64 = 100;
  exportTimeoutMs: u32 = DEFAULT_EXPORT_TIMEOUT_MS;
}

export class TracingConfig extends OtlpConfig {
  /** CLIENT on the outbound (consumer) side, SERVER on the inbound (provider) side. */
  spanKind: i32 = SPAN_KIND_CLIENT;
}

export class AccessLogConfig extends OtlpConfig {}

export function readTracing(e: Errors, root: JsonValue, defaultService: string): TracingConfig | null {
  const v = readObject(e, root, "tracing", "", false, TRACING_FIELDS);
  if (v == null) return null;
  const t = new TracingConfig();
  readOtlp(e, v, "tracing", t, defaultService);
  const kind = readString(e, v, "spanKind", "tracing", false, false, "CLIENT");
  if (!e.failed) {
    if (kind == "CLIENT") t.spanKind = SPAN_KIND_CLIENT;
    else if (kind == "SERVER") t.spanKind = SPAN_KIND_SERVER;
    else e.fail("tracing.spanKind", "must be \"CLIENT\" (outbound) or \"SERVER\" (inbound), got " + quote(kind));
  }
  return e.failed ? null : t;
}

export function readAccessLog(e: Errors, root: JsonValue, defaultService: string): AccessLogConfig | null {
  const v = readObject(e, root, "accessLog", "", false, ACCESS_LOG_FIELDS);
  if (v == null) return null;
  const a = new AccessLogConfig();
  readOtlp(e, v, "accessLog", a, defaultService);
  return e.failed ? null : a;
}

function readOtlp(e: Errors, v: JsonValue, path: string, o: OtlpConfig, defaultService: string): void {
  o.collectorCluster = readString(e, v, "collectorCluster", path, true, true, "");
  o.serviceName = readString(e, v, "serviceName", path, false, true, defaultService);
  const p = v.get("randomSamplingPercentage");
  const pp = childPath(path, "randomSamplingPercentage");
  if (!e.failed && p != null) {
    if (p.kind != JSON_NUMBER) e.fail(pp, "must be a number between 0 and 100, got " + jsonKindName(p.kind));
    else if (!(p.numberValue >= 0 && p.numberValue <= 100)) e.fail(pp, "must be a number between 0 and 100");
    else o.samplingPercent = p.numberValue;
  }
  o.exportTimeoutMs = <u32>readDuration(e, v, "exportTimeout", path, false, "5s", o.exportTimeoutMs, 60000, "must be at most 60s");
}

// Controller settings: a YAML document (ConfigMap key settings.yaml, or --settings file),
// then command-line overrides. Bad settings stop the controller with the field named.
import { parse } from "yaml";
import { DEFAULT_SETTINGS, EXTENSION_KINDS, type OtlpSettings, type Settings } from "./types.js";

const FAIL = ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"];
const KNOWN = new Set(["rootNamespace", "clusterDomain", "modules", "failStrategy", "maxEarlyDataBytes", "onRouteMismatch", "maxFrameBytes", "methodStats", "extensionKind",
  "tracing", "accessLog", "latencyHistogram"]);

export function parseSettings(text: string | undefined, base: Settings = DEFAULT_SETTINGS): Settings {
  const raw = text ? parse(text) ?? {} : {};
  return mergeSettings(base, raw);
}

export function mergeSettings(base: Settings, raw: any): Settings {
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Error("settings: must be a mapping");
  for (const k of Object.keys(raw)) if (!KNOWN.has(k)) throw new Error(`settings.${k}: unknown field`);
  const s: Settings = { ...base, modules: { ...base.modules } };
  const str = (k: "rootNamespace" | "clusterDomain") => {
    if (raw[k] === undefined) return;
    if (typeof raw[k] !== "string" || !raw[k]) throw new Error(`settings.${k}: must be a non-empty string`);
    s[k] = raw[k];
  };
  str("rootNamespace");
  str("clusterDomain");
  if (raw.failStrategy !== undefined) {
    if (!FAIL.includes(raw.failStrategy)) throw new Error(`settings.failStrategy: must be one of ${FAIL.join(", ")}`);
    s.failStrategy = raw.failStrategy;
  }
  if (raw.maxEarlyDataBytes !== undefined) {
    if (!Number.isInteger(raw.maxEarlyDataBytes) || raw.maxEarlyDataBytes < 1) throw new Error("settings.maxEarlyDataBytes: must be an integer >= 1");
    s.maxEarlyDataBytes = raw.maxEarlyDataBytes;
  }
  if (raw.maxFrameBytes !== undefined) {
    if (!Number.isInteger(raw.maxFrameBytes) || raw.maxFrameBytes < 16 || raw.maxFrameBytes > 134217728) throw new Error("settings.maxFrameBytes: must be an integer 16..134217728 (the module refuses more)");
    s.maxFrameBytes = raw.maxFrameBytes;
  }
  if (raw.onRouteMismatch !== undefined) {
    if (raw.onRouteMismatch !== "KEEP" && raw.onRouteMismatch !== "REJECT") throw new Error("settings.onRouteMismatch: must be KEEP or REJECT");
    s.onRouteMismatch = raw.onRouteMismatch;
  }
  if (raw.methodStats !== undefined) {
    if (typeof raw.methodStats !== "boolean") throw new Error("settings.methodStats: must be true or false");
    s.methodStats = raw.methodStats;
  }
  if (raw.extensionKind !== undefined) {
    if (!EXTENSION_KINDS.includes(raw.extensionKind)) throw new Error(`settings.extensionKind: must be one of ${EXTENSION_KINDS.join(", ")}`);
    s.extensionKind = raw.extensionKind;
  }
  for (const k of ["tracing", "accessLog"] as const) if (raw[k] !== undefined) s[k] = otlpSettings(raw[k], `settings.${k}`);
  if (raw.latencyHistogram !== undefined) {
    if (typeof raw.latencyHistogram !== "boolean") throw new Error("settings.latencyHistogram: must be true or false");
    s.latencyHistogram = raw.latencyHistogram;
  }
  for (const [p, m] of Object.entries(raw.modules ?? {}) as Array<[string, any]>) {
    if (typeof m?.url !== "string" || !/^(oci|https?|file):\/\//.test(m.url)) throw new Error(`settings.modules.${p}.url: must be an oci://, http(s):// or file:// URL`);
    if (m.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(m.sha256)) throw new Error(`settings.modules.${p}.sha256: must be 64 lower-case hex digits`);
    s.modules[p] = m.sha256 ? { url: m.url, sha256: m.sha256 } : { url: m.url };
  }
  return s;
}

/** `{service, port, randomSamplingPercentage}`: the collector's host (FQDN) and its OTLP/gRPC port. */
function otlpSettings(v: any, path: string): OtlpSettings {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${path}: must be a mapping with service and port`);
  for (const k of Object.keys(v)) if (!["service", "port", "randomSamplingPercentage"].includes(k)) throw new Error(`${path}.${k}: unknown field`);
  if (typeof v.service !== "string" || !v.service.includes(".")) throw new Error(`${path}.service: must be the collector's host name (FQDN), e.g. otel-collector.observability.svc.cluster.local`);
  if (!Number.isInteger(v.port) || v.port < 1 || v.port > 65535) throw new Error(`${path}.port: must be the collector's OTLP/gRPC port (1..65535)`);
  const o: OtlpSettings = { service: v.service, port: v.port };
  if (v.randomSamplingPercentage !== undefined) {
    if (typeof v.randomSamplingPercentage !== "number" || !(v.randomSamplingPercentage >= 0 && v.randomSamplingPercentage <= 100)) {
      throw new Error(`${path}.randomSamplingPercentage: must be a number from 0 to 100`);
    }
    o.randomSamplingPercentage = v.randomSamplingPercentage;
  }
  return o;
}

/** `--module dubbo=oci://...@sha256:<hex>` style flags. */
export function moduleFlag(s: Settings, flag: string): Settings {
  const m = /^([a-z0-9]+)=(.+?)(?:@sha256:([0-9a-f]{64}))?$/.exec(flag);
  if (!m) throw new Error(`--module ${flag}: expected <protocol>=<url>[@sha256:<hex>]`);
  return mergeSettings(s, { modules: { [m[1]]: m[3] ? { url: m[2], sha256: m[3] } : { url: m[2] } } });
}

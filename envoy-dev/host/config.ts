// Reads the subset of an Envoy bootstrap (envoy.yaml) that the local host implements.
// Anything outside that subset is refused with the exact path, so a config that loads here
// never silently means something different from what real Envoy would do with it.
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";
export type ConnectMode = "IMMEDIATE" | "ON_DOWNSTREAM_DATA";

export interface WasmFilterConfig {
  pluginName: string;
  rootId: string;
  vmId: string;
  runtime: string;
  filename: string;
  configuration: string;
  vmConfiguration: string;
  failurePolicy: FailurePolicy;
  /** FAIL_RELOAD waits this long (plus up to half again, jittered) after the last load. */
  reloadBaseMs: number;
}
export interface TcpProxyConfig {
  statPrefix: string;
  cluster: string;
  connectMode: ConnectMode;
  maxEarlyDataBytes: number | null;
}
export interface ListenerConfig {
  name: string;
  address: string;
  port: number;
  bufferLimit: number;
  wasm: WasmFilterConfig | null;
  tcpProxy: TcpProxyConfig;
}
export interface Endpoint { host: string; port: number }
export interface ClusterConfig {
  name: string;
  type: "STATIC" | "STRICT_DNS";
  connectTimeoutMs: number;
  endpoints: Endpoint[];
  /** HttpProtocolOptions.explicit_http_config.http2_protocol_options: what a gRPC cluster needs. */
  http2: boolean;
  /** circuit_breakers.thresholds[].max_connections (default priority); Envoy's default 1024. */
  maxConnections: number;
  /** circuit_breakers.per_host_thresholds[].max_connections; unlimited when absent, as in Envoy. */
  maxConnectionsPerHost: number;
}
/** One stats_config.stats_tags entry: a tag extracted from stat names by a regex. */
export interface StatsTag { name: string; regex: RegExp }

export interface HostConfig {
  admin: { address: string; port: number } | null;
  statsFlushMs: number;
  /** stats_config: user tag extractors, and whether Envoy's defaults also run. */
  statsTags: StatsTag[];
  useAllDefaultTags: boolean;
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
}

export class ConfigError extends Error {}

const WASM_FILTER = "envoy.filters.network.wasm";
const TCP_PROXY = "envoy.filters.network.tcp_proxy";
const WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";
const TCP_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
const STRING_VALUE = "type.googleapis.com/google.protobuf.StringValue";
const DEFAULT_BUFFER_LIMIT = 1024 * 1024; // Envoy's per_connection_buffer_limit_bytes default

type Obj = Record<string, unknown>;

function fail(path: string, msg: string): never {
  throw new ConfigError(`${path}: ${msg}`);
}

function obj(v: unknown, path: string): Obj {
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(path, "expected an object");
  return v as Obj;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, "expected a list");
  return v;
}

/** Refuses every key the local host does not implement, naming the first one found. */
function only(o: Obj, path: string, allowed: string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(`${path}.${k}`, "field is not supported by the local host");
  }
}

function str(o: Obj, key: string, path: string, required = true): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) fail(`${path}.${key}`, "required field is missing");
    return undefined;
  }
  if (typeof v !== "string") fail(`${path}.${key}`, "expected a string");
  return v;
}

function uint(v: unknown, path: string, max = 0xffffffff): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max) {
    fail(path, `expected an integer 0..${max}`);
  }
  return n;
}

/** Protobuf JSON Duration ("1s", "0.25s") or {seconds, nanos}; returns milliseconds. */
export function durationMs(v: unknown, path: string): number {
  if (typeof v === "string") {
    const m = /^(\d+(?:\.\d+)?)s$/.exec(v);
    if (!m) fail(path, `bad duration "${v}" (expected e.g. "1s" or "0.25s")`);
    return Math.round(Number(m[1]) * 1000);
  }
  const o = obj(v, path);
  only(o, path, ["seconds", "nanos"]);
  return uint(o.seconds ?? 0, `${path}.seconds`) * 1000 + Math.round(uint(o.nanos ?? 0, `${path}.nanos`) / 1e6);
}

function socketAddress(v: unknown, path: string): { address: string; port: number } {
  const a = obj(v, path);
  only(a, path, ["socket_address"]);
  const sp = `${path}.socket_address`;
  const s = obj(a.socket_address, sp);
  only(s, sp, ["address", "port_value", "protocol"]);
  if (s.protocol !== undefined && s.protocol !== "TCP") fail(`${sp}.protocol`, "only TCP is supported by the local host");
  return { address: str(s, "address", sp)!, port: uint(s.port_value, `${sp}.port_value`, 65535) };
}

function parseWasm(tc: Obj, path: string): WasmFilterConfig {
  only(tc, path, ["@type", "config"]);
  if (tc["@type"] !== WASM_TYPE) fail(`${path}.@type`, `expected ${WASM_TYPE}`);
  const cp = `${path}.config`;
  const c = obj(tc.config, cp);
  only(c, cp, ["name", "root_id", "vm_config", "configuration", "failure_policy", "reload_config"]);
  const vp = `${cp}.vm_config`;
  const vm = obj(c.vm_config, vp);
  only(vm, vp, ["vm_id", "runtime", "code", "configuration"]);
  const runtime = str(vm, "runtime", vp)!;
  if (runtime !== "envoy.wasm.runtime.v8") {
    fail(`${vp}.runtime`, `runtime ${runtime} is not supported by the local host (use envoy.wasm.runtime.v8)`);
  }
  const codeP = `${vp}.code`;
  const code = obj(vm.code, codeP);
  only(code, codeP, ["local"]);
  const local = obj(code.local, `${codeP}.local`);
  only(local, `${codeP}.local`, ["filename"]);
  const policy = str(c, "failure_policy", cp, false) ?? "FAIL_CLOSED";
  if (!["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"].includes(policy)) {
    fail(`${cp}.failure_policy`, `unknown policy ${policy} (FAIL_CLOSED, FAIL_OPEN or FAIL_RELOAD)`);
  }
  let reloadBaseMs = 1000; // Envoy's default reload_config.backoff.base_interval
  if (c.reload_config !== undefined) {
    const rp = `${cp}.reload_config`;
    const rc = obj(c.reload_config, rp);
    only(rc, rp, ["backoff"]);
    const bo = obj(rc.backoff, `${rp}.backoff`);
    only(bo, `${rp}.backoff`, ["base_interval"]);
    if (bo.base_interval !== undefined) reloadBaseMs = durationMs(bo.base_interval, `${rp}.backoff.base_interval`);
  }
  return {
    pluginName: str(c, "name", cp, false) ?? "",
    rootId: str(c, "root_id", cp, false) ?? "",
    vmId: str(vm, "vm_id", vp, false) ?? "",
    runtime,
    filename: str(local, "filename", `${codeP}.local`)!,
    configuration: stringValue(c.configuration, `${cp}.configuration`),
    vmConfiguration: stringValue(vm.configuration, `${vp}.configuration`),
    failurePolicy: policy as FailurePolicy,
    reloadBaseMs,
  };
}

function stringValue(v: unknown, path: string): string {
  if (v === undefined || v === null) return "";
  const o = obj(v, path);
  only(o, path, ["@type", "value"]);
  if (o["@type"] !== STRING_VALUE) fail(`${path}.@type`, `only ${STRING_VALUE} is supported by the local host`);
  return str(o, "value", path, false) ?? "";
}

function parseTcpProxy(tc: Obj, path: string): TcpProxyConfig {
  if (tc.weighted_clusters !== undefined) {
    fail(`${path}.weighted_clusters`, "not supported by the local host (and Envoy ignores envoy.tcp_proxy.cluster filter state with it)");
  }
  only(tc, path, ["@type", "stat_prefix", "cluster", "upstream_connect_mode", "max_early_data_bytes"]);
  if (tc["@type"] !== TCP_TYPE) fail(`${path}.@type`, `expected ${TCP_TYPE}`);
  const mode = str(tc, "upstream_connect_mode", path, false) ?? "IMMEDIATE";
  if (mode !== "IMMEDIATE" && mode !== "ON_DOWNSTREAM_DATA") {
    fail(`${path}.upstream_connect_mode`, `mode ${mode} is not supported by the local host (IMMEDIATE or ON_DOWNSTREAM_DATA)`);
  }
  const early = tc.max_early_data_bytes === undefined ? null : uint(tc.max_early_data_bytes, `${path}.max_early_data_bytes`);
  if (mode === "ON_DOWNSTREAM_DATA" && early === null) {
    fail(`${path}.max_early_data_bytes`, "required with upstream_connect_mode ON_DOWNSTREAM_DATA");
  }
  return { statPrefix: str(tc, "stat_prefix", path)!, cluster: str(tc, "cluster", path)!, connectMode: mode, maxEarlyDataBytes: early };
}

function parseListener(v: unknown, path: string): ListenerConfig {
  const l = obj(v, path);
  only(l, path, ["name", "address", "filter_chains", "per_connection_buffer_limit_bytes"]);
  const addr = socketAddress(l.address, `${path}.address`);
  const chains = arr(l.filter_chains, `${path}.filter_chains`);
  if (chains.length !== 1) fail(`${path}.filter_chains`, "the local host supports exactly one filter chain");
  const chp = `${path}.filter_chains[0]`;
  const ch = obj(chains[0], chp);
  only(ch, chp, ["filters"]);
  const filters = arr(ch.filters, `${chp}.filters`);
  let wasm: WasmFilterConfig | null = null;
  let tcpProxy: TcpProxyConfig | null = null;
  // Unknown filters first: that is the clearest message when a chain has one.
  filters.forEach((fv, i) => {
    const name = obj(fv, `${chp}.filters[${i}]`).name;
    if (name !== WASM_FILTER && name !== TCP_PROXY) fail(`${chp}.filters[${i}]`, `filter ${String(name)} is not supported by the local host`);
  });
  filters.forEach((fv, i) => {
    const fp = `${chp}.filters[${i}]`;
    const f = obj(fv, fp);
    only(f, fp, ["name", "typed_config"]);
    const name = str(f, "name", fp)!;
    const tc = obj(f.typed_config, `${fp}.typed_config`);
    if (name === WASM_FILTER && i === 0 && filters.length === 2) wasm = parseWasm(tc, `${fp}.typed_config`);
    else if (name === TCP_PROXY && i === filters.length - 1) tcpProxy = parseTcpProxy(tc, `${fp}.typed_config`);
    else if (name === WASM_FILTER || name === TCP_PROXY) {
      fail(fp, `filter ${name} at this position is not supported by the local host (supported chains: [${WASM_FILTER}, ${TCP_PROXY}] or [${TCP_PROXY}])`);
    } else fail(fp, `filter ${name} is not supported by the local host`);
  });
  if (!tcpProxy) fail(`${chp}.filters`, `the chain must end with ${TCP_PROXY}`);
  const limit = l.per_connection_buffer_limit_bytes === undefined
    ? DEFAULT_BUFFER_LIMIT : uint(l.per_connection_buffer_limit_bytes, `${path}.per_connection_buffer_limit_bytes`);
  return { name: str(l, "name", path)!, address: addr.address, port: addr.port, bufferLimit: limit, wasm, tcpProxy };
}

function parseCluster(v: unknown, path: string): ClusterConfig {
  const c = obj(v, path);
  only(c, path, ["name", "type", "connect_timeout", "load_assignment", "lb_policy", "typed_extension_protocol_options", "circuit_breakers"]);
  const name = str(c, "name", path)!;
  const type = str(c, "type", path, false) ?? "STATIC";
  if (type !== "STATIC" && type !== "STRICT_DNS") fail(`${path}.type`, `cluster type ${type} is not supported by the local host`);
  const lb = str(c, "lb_policy", path, false) ?? "ROUND_ROBIN";
  if (lb !== "ROUND_ROBIN") fail(`${path}.lb_policy`, `lb_policy ${lb} is not supported by the local host`);
  const connectTimeoutMs = c.connect_timeout === undefined ? 5000 : durationMs(c.connect_timeout, `${path}.connect_timeout`);
  const endpoints: Endpoint[] = [];
  if (c.load_assignment !== undefined) {
    const lp = `${path}.load_assignment`;
    const la = obj(c.load_assignment, lp);
    only(la, lp, ["cluster_name", "endpoints"]);
    arr(la.endpoints ?? [], `${lp}.endpoints`).forEach((ev, i) => {
      const ep = `${lp}.endpoints[${i}]`;
      const e = obj(ev, ep);
      only(e, ep, ["lb_endpoints"]);
      arr(e.lb_endpoints, `${ep}.lb_endpoints`).forEach((lv, j) => {
        const lep = `${ep}.lb_endpoints[${j}]`;
        const le = obj(lv, lep);
        only(le, lep, ["endpoint"]);
        const en = obj(le.endpoint, `${lep}.endpoint`);
        only(en, `${lep}.endpoint`, ["address"]);
        const a = socketAddress(en.address, `${lep}.endpoint.address`);
        if (type === "STATIC" && !/^[\d.]+$|:/.test(a.address)) {
          fail(`${lep}.endpoint.address.socket_address.address`, "a STATIC cluster needs an IP address");
        }
        endpoints.push({ host: a.address, port: a.port });
      });
    });
  }
  const http2 = c.typed_extension_protocol_options === undefined ? false
    : parseProtocolOptions(c.typed_extension_protocol_options, `${path}.typed_extension_protocol_options`);
  const breakers = parseCircuitBreakers(c.circuit_breakers, `${path}.circuit_breakers`);
  return { name, type, connectTimeoutMs, endpoints, http2, ...breakers };
}

const MAX_U32 = 4294967295;

/**
 * Only the connection limits (what tcp_proxy meets): thresholds[].max_connections, checked by
 * tcp_proxy before it asks for a connection, and per_host_thresholds[].max_connections, checked by
 * the connection pool. The other thresholds are accepted only at Envoy's value or Istio's (2^32-1)
 * where tcp_proxy never reaches them (one stream per connection; no retries).
 */
function parseCircuitBreakers(v: unknown, path: string): { maxConnections: number; maxConnectionsPerHost: number } {
  const out = { maxConnections: 1024, maxConnectionsPerHost: MAX_U32 };
  if (v === undefined) return out;
  const cb = obj(v, path);
  only(cb, path, ["thresholds", "per_host_thresholds"]);
  const one = (list: unknown, lp: string, fields: string[]): Obj | null => {
    if (list === undefined) return null;
    const a = arr(list, lp);
    if (a.length > 1) fail(lp, "the local host supports one threshold (priority DEFAULT)");
    if (!a.length) return null;
    const t = obj(a[0], `${lp}[0]`);
    only(t, `${lp}[0]`, ["priority", ...fields]);
    if (t.priority !== undefined && t.priority !== "DEFAULT") fail(`${lp}[0].priority`, "only DEFAULT is supported by the local host");
    return t;
  };
  const t = one(cb.thresholds, `${path}.thresholds`, ["max_connections", "max_pending_requests", "max_requests", "max_retries"]);
  if (t) {
    if (t.max_connections !== undefined) out.maxConnections = uint(t.max_connections, `${path}.thresholds[0].max_connections`);
    for (const f of ["max_pending_requests", "max_requests", "max_retries"]) {
      if (t[f] !== undefined && uint(t[f], `${path}.thresholds[0].${f}`) < 1024) {
        fail(`${path}.thresholds[0].${f}`, "below Envoy's default is not supported by the local host (it has no connection pool queue limit)");
      }
    }
  }
  const h = one(cb.per_host_thresholds, `${path}.per_host_thresholds`, ["max_connections"]);
  if (h && h.max_connections !== undefined) out.maxConnectionsPerHost = uint(h.max_connections, `${path}.per_host_thresholds[0].max_connections`);
  return out;
}

const HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/** Only the explicit HTTP/1.1-or-HTTP/2 choice; returns whether the cluster speaks HTTP/2. */
function parseProtocolOptions(v: unknown, path: string): boolean {
  const o = obj(v, path);
  only(o, path, [HTTP_OPTIONS]);
  const hp = `${path}["${HTTP_OPTIONS}"]`;
  const h = obj(o[HTTP_OPTIONS], hp);
  only(h, hp, ["@type", "explicit_http_config"]);
  if (h["@type"] !== `type.googleapis.com/${HTTP_OPTIONS}`) fail(`${hp}.@type`, `expected type.googleapis.com/${HTTP_OPTIONS}`);
  const ep = `${hp}.explicit_http_config`;
  const e = obj(h.explicit_http_config, ep);
  only(e, ep, ["http2_protocol_options", "http_protocol_options"]);
  if ((e.http2_protocol_options === undefined) === (e.http_protocol_options === undefined)) {
    fail(ep, "exactly one of http2_protocol_options or http_protocol_options");
  }
  for (const k of ["http2_protocol_options", "http_protocol_options"]) {
    if (e[k] !== undefined && Object.keys(obj(e[k], `${ep}.${k}`)).length) fail(`${ep}.${k}`, "options are not supported by the local host (use {})");
  }
  return e.http2_protocol_options !== undefined;
}

export function parseConfig(text: string, source = "config"): HostConfig {
  let doc: unknown;
  try { doc = parse(text); } catch (e) { throw new ConfigError(`${source}: not valid YAML: ${(e as Error).message}`); }
  const root = obj(doc, "(root)");
  for (const k of Object.keys(root)) {
    // node (id/cluster) only names the proxy; it changes no behaviour, so it is accepted.
    if (!["admin", "static_resources", "node", "stats_flush_interval", "stats_config"].includes(k)) fail(k, "field is not supported by the local host");
  }
  let admin: HostConfig["admin"] = null;
  if (root.admin !== undefined) {
    const a = obj(root.admin, "admin");
    only(a, "admin", ["address"]);
    admin = socketAddress(a.address, "admin.address");
  }
  const sr = obj(root.static_resources, "static_resources");
  only(sr, "static_resources", ["listeners", "clusters"]);
  const listeners = arr(sr.listeners ?? [], "static_resources.listeners")
    .map((l, i) => parseListener(l, `static_resources.listeners[${i}]`));
  const clusters = arr(sr.clusters ?? [], "static_resources.clusters")
    .map((c, i) => parseCluster(c, `static_resources.clusters[${i}]`));
  const seen = new Set<string>();
  listeners.forEach((l, i) => {
    if (seen.has(l.name)) fail(`static_resources.listeners[${i}].name`, `duplicate listener name ${l.name}`);
    seen.add(l.name);
  });
  const cseen = new Set<string>();
  clusters.forEach((c, i) => {
    if (cseen.has(c.name)) fail(`static_resources.clusters[${i}].name`, `duplicate cluster name ${c.name}`);
    cseen.add(c.name);
  });
  // Envoy publishes histograms to the admin endpoint on each stats flush (default every 5 s).
  const statsFlushMs = root.stats_flush_interval === undefined ? 5000 : durationMs(root.stats_flush_interval, "stats_flush_interval");
  const { statsTags, useAllDefaultTags } = parseStatsConfig(root.stats_config);
  return { admin, listeners, clusters, statsFlushMs, statsTags, useAllDefaultTags };
}

/** stats_config: stats_tags with tag_name + regex (RE2, read as a JS RegExp), use_all_default_tags. */
function parseStatsConfig(v: unknown): { statsTags: StatsTag[]; useAllDefaultTags: boolean } {
  if (v === undefined) return { statsTags: [], useAllDefaultTags: true };
  const sc = obj(v, "stats_config");
  only(sc, "stats_config", ["stats_tags", "use_all_default_tags"]);
  const useAllDefaultTags = sc.use_all_default_tags === undefined ? true : sc.use_all_default_tags === true;
  if (sc.use_all_default_tags !== undefined && typeof sc.use_all_default_tags !== "boolean") fail("stats_config.use_all_default_tags", "must be true or false");
  const statsTags = arr(sc.stats_tags ?? [], "stats_config.stats_tags").map((t, i) => {
    const p = `stats_config.stats_tags[${i}]`;
    const o = obj(t, p);
    only(o, p, ["tag_name", "regex"]);
    if (typeof o.tag_name !== "string" || !o.tag_name) fail(`${p}.tag_name`, "must be a non-empty string");
    if (typeof o.regex !== "string" || !o.regex) fail(`${p}.regex`, "required (fixed_value tags are not supported by the local host)");
    let regex: RegExp;
    try { regex = new RegExp(o.regex as string, "d"); } catch (e) { return fail(`${p}.regex`, (e as Error).message); }
    return { name: o.tag_name as string, regex };
  });
  return { statsTags, useAllDefaultTags };
}

export function loadConfig(path: string): HostConfig {
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) { throw new ConfigError(`${path}: cannot read: ${(e as Error).message}`); }
  return parseConfig(text, path);
}

// The plugin configuration (README "Plugin configuration"): the typed model the engine reads,
// and parsePluginConfig, which validates every field of the JSON contract and names the field
// path of the first problem, e.g. `services[0].routes[1].match.attributes.method.regex: ...`.
import { Metadata } from "./metadata";
import { KeyValue, WantedKeys } from "./codec";
import { Regex } from "./regex";
import { newCacheBudget } from "./regex/dfa";
import { parseJson, JsonValue, JSON_STRING, JSON_OBJECT, JSON_BOOL, jsonKindName } from "./json";
import { Errors, checkObject, childPath, itemPath, readString, readInt, readBool, readDuration, readList, readObject, quote } from "./config/fields";
import { clusterNameError } from "./config/cluster";
import { isIPv4, isIPv6 } from "./config/ip";
import { RouteIndex } from "./router";
import { takeRegexOverBudget } from "./regex/dfa";
import { GLOBAL_RATE_LIMIT_FIELDS, GlobalRateLimitConfig, readGlobalRateLimit } from "./config/global-ratelimit";
import { AccessLogConfig, TracingConfig, readAccessLog, readTracing } from "./config/telemetry";
import {
  MAX_CONFIG_BYTES, MAX_SERVICES, MAX_ROUTES_PER_SERVICE, MAX_ROUTES, MAX_ADDRESSES_PER_SERVICE, MAX_ATTRIBUTES_PER_MATCH,
  MAX_DESTINATIONS_PER_ROUTE, MAX_MUTATIONS_PER_ROUTE, MAX_RATE_LIMIT_CONDITIONS,
} from "./config/limits";
import { DEFAULT_MAX_HELD_BYTES, MEMORY_PLAN_BYTES, MIN_MAX_HELD_BYTES } from "./budget";

export const MATCH_EXACT: i32 = 0;
export const MATCH_PREFIX: i32 = 1;
export const MATCH_REGEX: i32 = 2;
export const MATCH_PRESENT: i32 = 3;

/**
 * The attribute length regexes see (config `maxRegexInputBytes`, UTF-8 bytes). A longer value
 * matches no regex, without running it, and is counted (stat regex_input_too_long): the bound
 * keeps one request's regex work small whatever a client sends.
 */
export class RegexInputLimit {
  constructor(public maxBytes: i32) {}
  overLimit: i64 = 0;
  /** Matches answered "no match" because the callback's regex work budget was spent (regex/dfa.ts). */
  overBudget: i64 = 0;

  @inline allows(s: string): bool {
    const n = s.length; // UTF-16 units: a lower bound of UTF-8 bytes, a third of the upper one
    if (n <= this.maxBytes / 3 || (n <= this.maxBytes && String.UTF8.byteLength(s) <= this.maxBytes)) return true;
    this.overLimit++;
    return false;
  }
}

export class StringMatcher {
  kind: i32 = MATCH_EXACT;
  value: string = "";
  regex: Regex | null = null;
  regexLimit: RegexInputLimit | null = null;

  /** `v` is the attribute value, null when the request does not carry the attribute. */
  matches(v: string | null): bool {
    if (v == null) return false; // every matcher, present included, needs the attribute
    const s = changetype<string>(v);
    if (this.kind == MATCH_EXACT) return s == this.value;
    if (this.kind == MATCH_PREFIX) return s.startsWith(this.value);
    if (this.kind == MATCH_REGEX) {
      const limit = changetype<RegexInputLimit>(this.regexLimit);
      if (!limit.allows(s)) return false;
      if (changetype<Regex>(this.regex).fullMatch(s)) return true;
      if (takeRegexOverBudget()) limit.overBudget++;
      return false;
    }
    return true; // MATCH_PRESENT
  }
}

export class AttributeMatch {
  constructor(public key: string, public matcher: StringMatcher) {}
}

export class Match {
  attrs: AttributeMatch[] = [];
  isEmpty(): bool { return this.attrs.length == 0; }
  /** Every attribute must match; an empty match matches every request. */
  matches(md: Metadata): bool {
    for (let i = 0; i < this.attrs.length; i++) {
      const a = unchecked(this.attrs[i]);
      if (!a.matcher.matches(md.getAttribute(a.key))) return false;
    }
    return true;
  }
}

export class WeightedCluster {
  constructor(public cluster: string, public weight: u32) {}
}

export class Route {
  name: string = "";
  index: i32 = 0;
  match: Match = new Match();
  clusters: WeightedCluster[] = [];
  totalWeight: u32 = 0;
  requestMutation: KeyValue[] = [];
  responseMutation: KeyValue[] = [];
  /** Its stats slot (MetaRoot.slotOf), valid while slotGen is the root's configuration generation. */
  statSlot: i32 = -1;
  slotGen: i32 = 0;

  /**
   * The cluster for a connection, by weight: `rand` is any uniformly distributed u32.
   * "" when the route names no cluster (keep the connection's cluster).
   */
  pickCluster(rand: u32): string {
    if (this.totalWeight == 0) return "";
    let r = rand % this.totalWeight;
    for (let i = 0; i < this.clusters.length; i++) {
      const c = unchecked(this.clusters[i]);
      if (r < c.weight) return c.cluster;
      r -= c.weight;
    }
    return ""; // unreachable: totalWeight is the sum of the weights
  }
}

export class TokenBucketConfig {
  maxTokens: u32 = 0;
  tokensPerFill: u32 = 1;
  fillIntervalMs: u64 = 0;
}

export class RateLimitCondition {
  constructor(public match: Match, public bucket: TokenBucketConfig) {}
}

export class LocalRateLimit {
  bucket: TokenBucketConfig | null = null;
  conditions: RateLimitCondition[] = [];
}

export class ServiceConfig {
  name: string = "";
  index: i32 = 0;
  addresses: string[] = [];
  match: Match = new Match();
  defaultCluster: string = "";
  routes: Route[] = [];
  localRateLimit: LocalRateLimit | null = null;
  /** Built by the router at the first request (router.ts RouteIndex). */
  routeIndex: RouteIndex | null = null;
  globalRateLimit: GlobalRateLimitConfig | null = null;
}

export const ON_MISMATCH_KEEP: i32 = 0;
export const ON_MISMATCH_REJECT: i32 = 1;

/** tcp_proxy waits for the first request (ON_DOWNSTREAM_DATA, Envoy >= 1.37): it binds the cluster. */
export const BIND_ON_FIRST_REQUEST: i32 = 0;
/** tcp_proxy connects at accept (older Envoy): the cluster is bound when the connection opens. */
export const BIND_ON_CONNECTION: i32 = 1;

export const DEFAULT_MAX_FRAME_BYTES: i32 = 8388608;
export const DEFAULT_MAX_REGEX_INPUT_BYTES: i32 = 4096;
export const MAX_REGEX_INPUT_BYTES: i32 = 1048576;
/** A frame is held whole until it is complete, and a callback may copy it twice (budget.ts). */
export const MAX_MAX_FRAME_BYTES: i32 = 134217728;
export const DEFAULT_STATS_FLUSH_INTERVAL_MS: u32 = 1000;
export const DEFAULT_DRAIN_WINDOW_MS: i64 = 10000;
export const MAX_DRAIN_WINDOW_MS: i64 = 3600000;
/** Envoy's own default connect_timeout: a connection not connected by then is not coming soon. */
export const DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS: i64 = 5000;
const MAX_UPSTREAM_CONNECT_TIMEOUT_MS: i64 = 3600000;

export class PluginConfig {
  statPrefix: string = "";
  maxFrameBytes: i32 = DEFAULT_MAX_FRAME_BYTES;
  /** Shared by every regex matcher of this config. */
  regexInput: RegexInputLimit = new RegexInputLimit(DEFAULT_MAX_REGEX_INPUT_BYTES);
  /** The VM's budget for bytes held between callbacks (budget.ts); the last configured root sets it. */
  maxHeldBytes: i64 = DEFAULT_MAX_HELD_BYTES;
  /** When newer rules arrive, close open connections they would bind elsewhere (rules-update.ts). */
  drainOnRuleChange: bool = true;
  /** How long such a connection may wait for a quiet moment before its new requests get error replies. */
  drainWindowMs: i64 = DEFAULT_DRAIN_WINDOW_MS;
  /** A connection whose requests went to tcp_proxy and that has no upstream connection this long after is closed (upstream-watch.ts). */
  upstreamConnectTimeoutMs: i64 = DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS;
  onRouteMismatch: i32 = ON_MISMATCH_KEEP;
  bindOn: i32 = BIND_ON_FIRST_REQUEST;
  statsFlushIntervalMs: u32 = DEFAULT_STATS_FLUSH_INTERVAL_MS;
  /** Counters per method name (opt-in: every request's method is then decoded). */
  methodStats: bool = false;
  services: ServiceConfig[] = [];
  /** Every attribute key any match reads (service, route and rate-limit condition matches). */
  requestKeys: WantedKeys = WantedKeys.none();
  tracing: TracingConfig | null = null;
  accessLog: AccessLogConfig | null = null;
  /** Per-route request duration histograms (config/telemetry.ts). */
  latencyHistogram: bool = false;
}

export class ConfigResult {
  config: PluginConfig | null = null;
  /** "" on success, else "<field path>: <reason>"; the path is "(root)" for the document itself. */
  error: string = "";
}

const ROOT_FIELDS: string[] = ["statPrefix", "maxFrameBytes", "maxRegexInputBytes", "onRouteMismatch", "bindOn", "statsFlushIntervalMs", "methodStats", "services",
  "maxHeldBytes", "drainOnRuleChange", "drainWindow", "upstreamConnectTimeout", "tracing", "accessLog", "latencyHistogram"];
const SERVICE_FIELDS: string[] = ["name", "match", "defaultCluster", "routes", "localRateLimit", "globalRateLimit"];
const SERVICE_MATCH_FIELDS: string[] = ["addresses", "attributes"];
const MATCH_FIELDS: string[] = ["attributes"];
const MATCHER_FIELDS: string[] = ["exact", "prefix", "regex", "present"];
const ROUTE_FIELDS: string[] = ["name", "match", "route", "requestMutation", "responseMutation"];
const DESTINATION_FIELDS: string[] = ["cluster", "weight"];
const MUTATION_FIELDS: string[] = ["key", "value"];
const RATE_LIMIT_FIELDS: string[] = ["tokenBucket", "conditions"];
const CONDITION_FIELDS: string[] = ["match", "tokenBucket"];
const BUCKET_FIELDS: string[] = ["maxTokens", "tokensPerFill", "fillInterval"];

const U32_MAX: i64 = 4294967295;

/**
 * All regexes of one config together may compile to at most this many NFA instructions
 * (about 12 bytes each): a hostile config must not exhaust the module's memory.
 */
export const MAX_CONFIG_REGEX_INSTRUCTIONS: i32 = 100000;
let regexInstructions = 0; // of the config being parsed (the module is single-threaded)
let regexInput = new RegexInputLimit(DEFAULT_MAX_REGEX_INPUT_BYTES); // of the config being parsed
let routeCount = 0; // of the config being parsed

/**
 * Parse and validate the plugin configuration. `defaultStatPrefix` (the protocol name) is used
 * when the document has no statPrefix. An empty document `{}` is a valid pass-through config.
 */
export function parsePluginConfig(json: string, defaultStatPrefix: string): ConfigResult {
  const res = new ConfigResult();
  // UTF-16 units never outnumber UTF-8 bytes: the byte count is only needed near the bound.
  if (json.length > MAX_CONFIG_BYTES / 3 && String.UTF8.byteLength(json) > MAX_CONFIG_BYTES) {
    res.error = "(root): the configuration is " + String.UTF8.byteLength(json).toString() + " bytes, more than " + MAX_CONFIG_BYTES.toString();
    return res;
  }
  const parsed = parseJson(json);
  if (parsed.error.length > 0) { res.error = "(root): invalid JSON: " + parsed.error; return res; }
  const root = changetype<JsonValue>(parsed.value);
  const e = new Errors();
  const cfg = new PluginConfig();
  regexInstructions = 0;
  routeCount = 0;
  newCacheBudget();
  if (checkObject(e, root, "", ROOT_FIELDS)) {
    cfg.statPrefix = readString(e, root, "statPrefix", "", false, true, defaultStatPrefix);
    if (!e.failed && !isStatName(cfg.statPrefix)) e.fail("statPrefix", "must match [a-zA-Z0-9_]+, got " + quote(cfg.statPrefix));
    cfg.maxFrameBytes = <i32>readInt(e, root, "maxFrameBytes", "", false, 16, MAX_MAX_FRAME_BYTES, DEFAULT_MAX_FRAME_BYTES);
    cfg.maxHeldBytes = readInt(e, root, "maxHeldBytes", "", false, MIN_MAX_HELD_BYTES, MEMORY_PLAN_BYTES, DEFAULT_MAX_HELD_BYTES);
    checkMemoryPlan(e, cfg);
    cfg.regexInput.maxBytes = <i32>readInt(e, root, "maxRegexInputBytes", "", false, 1, MAX_REGEX_INPUT_BYTES, DEFAULT_MAX_REGEX_INPUT_BYTES);
    regexInput = cfg.regexInput;
    cfg.drainOnRuleChange = readBool(e, root, "drainOnRuleChange", "", true);
    cfg.drainWindowMs = readDuration(e, root, "drainWindow", "", false, "10s", DEFAULT_DRAIN_WINDOW_MS, MAX_DRAIN_WINDOW_MS, "must be at most 1h");
    cfg.upstreamConnectTimeoutMs = readDuration(e, root, "upstreamConnectTimeout", "", false, "5s",
      DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS, MAX_UPSTREAM_CONNECT_TIMEOUT_MS, "must be at most 1h");
    cfg.onRouteMismatch = readChoice(e, root, "onRouteMismatch", "KEEP", "REJECT");
    cfg.bindOn = readChoice(e, root, "bindOn", "FIRST_REQUEST", "CONNECTION");
    cfg.statsFlushIntervalMs = <u32>readInt(e, root, "statsFlushIntervalMs", "", false, 10, 60000, DEFAULT_STATS_FLUSH_INTERVAL_MS);
    cfg.methodStats = readBool(e, root, "methodStats", "", false);
    if (cfg.methodStats) cfg.requestKeys.add("method");
    cfg.tracing = readTracing(e, root, "metaprotocol-" + cfg.statPrefix);
    cfg.accessLog = readAccessLog(e, root, "metaprotocol-" + cfg.statPrefix);
    cfg.latencyHistogram = readBool(e, root, "latencyHistogram", "", false);
    if (cfg.tracing != null) { cfg.requestKeys.add("traceparent"); cfg.requestKeys.add("interface"); cfg.requestKeys.add("method"); }
    if (cfg.accessLog != null) { cfg.requestKeys.add("interface"); cfg.requestKeys.add("method"); }
    const services = readList(e, root, "services", "", MAX_SERVICES);
    if (services != null) {
      for (let i = 0; i < services.length && !e.failed; i++) {
        const s = readService(e, services.at(i), itemPath("services", i), i, cfg.requestKeys);
        if (s != null) cfg.services.push(s);
      }
    }
  }
  if (e.failed) { res.error = e.message; return res; }
  res.config = cfg;
  return res;
}

/**
 * A root field that is one of two words: 0 for the first (the default), 1 for the second.
 * ON_MISMATCH_* and BIND_ON_* are numbered that way.
 */
function readChoice(e: Errors, root: JsonValue, field: string, first: string, second: string): i32 {
  const v = readString(e, root, field, "", false, false, first);
  if (e.failed || v == first) return 0;
  if (v == second) return 1;
  e.fail(field, "must be " + quote(first) + " or " + quote(second) + ", got " + quote(v));
  return 0;
}

/** The held-bytes budget must hold one whole frame, and fit a VM's memory with a callback's buffers. */
function checkMemoryPlan(e: Errors, cfg: PluginConfig): void {
  if (e.failed) return;
  const frame = <i64>cfg.maxFrameBytes;
  if (frame > cfg.maxHeldBytes - (cfg.maxHeldBytes >> 3)) {
    e.fail("maxFrameBytes", frame.toString() + " cannot be held within maxHeldBytes " + cfg.maxHeldBytes.toString() +
      " (a partial frame is held whole, in at most 7/8 of the budget): lower maxFrameBytes or raise maxHeldBytes");
    return;
  }
  const total = cfg.maxHeldBytes + 2 * frame;
  if (total > MEMORY_PLAN_BYTES) {
    e.fail("maxHeldBytes", "maxHeldBytes + 2 x maxFrameBytes is " + total.toString() + ", more than " + MEMORY_PLAN_BYTES.toString() +
      " (a VM's memory is capped at 1 GiB; a callback may copy a frame twice besides what is held)");
  }
}

function readService(e: Errors, v: JsonValue, path: string, index: i32, keys: WantedKeys): ServiceConfig | null {
  if (!checkObject(e, v, path, SERVICE_FIELDS)) return null;
  const s = new ServiceConfig();
  s.index = index;
  s.name = readString(e, v, "name", path, true, true, "");
  const m = readObject(e, v, "match", path, false, SERVICE_MATCH_FIELDS);
  if (m != null) {
    const mp = childPath(path, "match");
    const addrs = readList(e, m, "addresses", mp, MAX_ADDRESSES_PER_SERVICE);
    if (addrs != null) {
      for (let i = 0; i < addrs.length && !e.failed; i++) {
        const a = addrs.at(i);
        const ap = itemPath(childPath(mp, "addresses"), i);
        if (a.kind != JSON_STRING) { e.fail(ap, "must be a string, got " + jsonKindName(a.kind)); break; }
        if (!isIPv4(a.stringValue) && !isIPv6(a.stringValue)) {
          e.fail(ap, "must be an IPv4 or IPv6 address, got " + quote(a.stringValue));
          break;
        }
        s.addresses.push(a.stringValue);
      }
    }
    s.match = readAttributes(e, m, mp, keys);
  }
  s.defaultCluster = readString(e, v, "defaultCluster", path, false, false, "");
  if (!e.failed && v.get("defaultCluster") != null) checkCluster(e, s.defaultCluster, childPath(path, "defaultCluster"));
  const routes = readList(e, v, "routes", path, MAX_ROUTES_PER_SERVICE);
  if (routes != null) {
    routeCount += routes.length;
    if (routeCount > MAX_ROUTES) e.fail(childPath(path, "routes"), "the config's services together have more than " + MAX_ROUTES.toString() + " routes");
    for (let i = 0; i < routes.length && !e.failed; i++) {
      const r = readRoute(e, routes.at(i), itemPath(childPath(path, "routes"), i), i, keys);
      if (r != null) s.routes.push(r);
    }
  }
  if (!e.failed && s.routes.length == 0) s.routes.push(defaultRoute(s.defaultCluster));
  const rl = readObject(e, v, "localRateLimit", path, false, RATE_LIMIT_FIELDS);
  if (rl != null) s.localRateLimit = readRateLimit(e, rl, childPath(path, "localRateLimit"), keys);
  const grl = readObject(e, v, "globalRateLimit", path, false, GLOBAL_RATE_LIMIT_FIELDS);
  if (grl != null) s.globalRateLimit = readGlobalRateLimit(e, grl, childPath(path, "globalRateLimit"), keys);
  return e.failed ? null : s;
}

/** A service without routes: one route matching everything, to defaultCluster when set. */
function defaultRoute(defaultCluster: string): Route {
  const r = new Route();
  r.name = "default";
  if (defaultCluster.length > 0) {
    r.clusters.push(new WeightedCluster(defaultCluster, 1));
    r.totalWeight = 1;
  }
  return r;
}

function readRoute(e: Errors, v: JsonValue, path: string, index: i32, keys: WantedKeys): Route | null {
  if (!checkObject(e, v, path, ROUTE_FIELDS)) return null;
  const r = new Route();
  r.index = index;
  r.name = readString(e, v, "name", path, true, true, "");
  const m = readObject(e, v, "match", path, false, MATCH_FIELDS);
  if (m != null) r.match = readAttributes(e, m, childPath(path, "match"), keys);
  const dests = readList(e, v, "route", path, MAX_DESTINATIONS_PER_ROUTE);
  if (dests != null) {
    const dp = childPath(path, "route");
    let total: i64 = 0;
    for (let i = 0; i < dests.length && !e.failed; i++) {
      const d = dests.at(i);
      const p = itemPath(dp, i);
      if (!checkObject(e, d, p, DESTINATION_FIELDS)) break;
      const cluster = readString(e, d, "cluster", p, true, false, "");
      if (!e.failed) checkCluster(e, cluster, childPath(p, "cluster"));
      const w = readInt(e, d, "weight", p, true, 0, U32_MAX, 0);
      total += w;
      if (!e.failed && total > U32_MAX) e.fail(dp, "weights add up to more than " + U32_MAX.toString());
      r.clusters.push(new WeightedCluster(cluster, <u32>w));
    }
    if (!e.failed && dests.length > 0 && total == 0) e.fail(dp, "at least one weight must be greater than 0");
    r.totalWeight = <u32>total;
  }
  r.requestMutation = readMutations(e, v, "requestMutation", path);
  r.responseMutation = readMutations(e, v, "responseMutation", path);
  return e.failed ? null : r;
}

function readMutations(e: Errors, v: JsonValue, key: string, path: string): KeyValue[] {
  const out: KeyValue[] = [];
  const list = readList(e, v, key, path, MAX_MUTATIONS_PER_ROUTE);
  if (list == null) return out;
  const lp = childPath(path, key);
  for (let i = 0; i < list.length && !e.failed; i++) {
    const item = list.at(i);
    const p = itemPath(lp, i);
    if (!checkObject(e, item, p, MUTATION_FIELDS)) break;
    const k = readString(e, item, "key", p, true, true, "");
    const val = readString(e, item, "value", p, true, false, "");
    out.push(new KeyValue(k, val));
  }
  return out;
}

/** `attributes` of a match object (already checked for unknown fields) at path. */
export function readAttributes(e: Errors, m: JsonValue, path: string, keys: WantedKeys): Match {
  const match = new Match();
  if (e.failed) return match;
  const attrs = m.get("attributes");
  if (attrs == null) return match;
  const ap = childPath(path, "attributes");
  if (attrs.kind != JSON_OBJECT) { e.fail(ap, "must be an object, got " + jsonKindName(attrs.kind)); return match; }
  if (attrs.length > MAX_ATTRIBUTES_PER_MATCH) { e.fail(ap, "at most " + MAX_ATTRIBUTES_PER_MATCH.toString() + " attributes, got " + attrs.length.toString()); return match; }
  for (let i = 0; i < attrs.length && !e.failed; i++) {
    const key = attrs.keyAt(i);
    const kp = childPath(ap, key);
    if (key.length == 0) { e.fail(kp, "attribute name must not be empty"); break; }
    const matcher = readMatcher(e, attrs.at(i), kp);
    if (matcher == null) break;
    match.attrs.push(new AttributeMatch(key, matcher));
    keys.add(key);
  }
  return match;
}

/** Exactly one of {"exact": s}, {"prefix": s}, {"regex": RE2}, {"present": true}. */
function readMatcher(e: Errors, v: JsonValue, path: string): StringMatcher | null {
  if (!checkObject(e, v, path, MATCHER_FIELDS)) return null;
  if (v.length != 1) {
    e.fail(path, "must have exactly one of exact, prefix, regex, present; got " + v.length.toString());
    return null;
  }
  const sm = new StringMatcher();
  const kind = v.keyAt(0);
  if (kind == "present") {
    const p = v.at(0);
    if (p.kind != JSON_BOOL || !p.boolValue) { e.fail(childPath(path, "present"), "must be true"); return null; }
    sm.kind = MATCH_PRESENT;
    return sm;
  }
  sm.value = readString(e, v, kind, path, true, false, "");
  if (e.failed) return null;
  // As Envoy's HeaderMatcher exact_match (which Aeraki's rules reach): "" matches any value of a present attribute.
  if (kind == "exact" && sm.value.length == 0) sm.kind = MATCH_PRESENT;
  else if (kind == "exact") sm.kind = MATCH_EXACT;
  else if (kind == "prefix") sm.kind = MATCH_PREFIX;
  else {
    sm.kind = MATCH_REGEX;
    const re = Regex.compile(sm.value);
    if (re == null) { e.fail(childPath(path, "regex"), Regex.lastError); return null; }
    regexInstructions += re.programLength;
    if (regexInstructions > MAX_CONFIG_REGEX_INSTRUCTIONS) {
      e.fail(childPath(path, "regex"), "the config's regexes together exceed " + MAX_CONFIG_REGEX_INSTRUCTIONS.toString() + " compiled instructions");
      return null;
    }
    sm.regex = re;
    sm.regexLimit = regexInput;
  }
  return sm;
}

function checkCluster(e: Errors, name: string, path: string): void {
  const why = clusterNameError(name);
  if (why.length > 0) e.fail(path, why + " (cluster " + quote(name) + ")");
}

function readRateLimit(e: Errors, v: JsonValue, path: string, keys: WantedKeys): LocalRateLimit | null {
  const rl = new LocalRateLimit();
  const b = readObject(e, v, "tokenBucket", path, false, BUCKET_FIELDS);
  if (b != null) rl.bucket = readBucket(e, b, childPath(path, "tokenBucket"));
  const conds = readList(e, v, "conditions", path, MAX_RATE_LIMIT_CONDITIONS);
  if (conds != null) {
    const cp = childPath(path, "conditions");
    for (let i = 0; i < conds.length && !e.failed; i++) {
      const c = conds.at(i);
      const p = itemPath(cp, i);
      if (!checkObject(e, c, p, CONDITION_FIELDS)) break;
      const m = readObject(e, c, "match", p, true, MATCH_FIELDS);
      const match = m != null ? readAttributes(e, m, childPath(p, "match"), keys) : new Match();
      const tb = readObject(e, c, "tokenBucket", p, true, BUCKET_FIELDS);
      if (tb == null) break;
      const bucket = readBucket(e, tb, childPath(p, "tokenBucket"));
      rl.conditions.push(new RateLimitCondition(match, bucket));
    }
  }
  return e.failed ? null : rl;
}

function readBucket(e: Errors, v: JsonValue, path: string): TokenBucketConfig {
  const b = new TokenBucketConfig();
  b.maxTokens = <u32>readInt(e, v, "maxTokens", path, true, 1, U32_MAX, 1);
  b.tokensPerFill = <u32>readInt(e, v, "tokensPerFill", path, false, 1, U32_MAX, 1);
  b.fillIntervalMs = <u64>readDuration(e, v, "fillInterval", path, true, "1s", 0, i64.MAX_VALUE, "");
  return b;
}

function isStatName(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
    if (!ok) return false;
  }
  return true;
}

// Validates one MetaRouter against the world it refers to and turns it into a normalised
// form the plugin-config builders use. Every problem names the field it comes from.
import type { Condition, KubeObject, MetaRouterSpec, Settings, StringMatch } from "../model/types.js";
import { key } from "../model/types.js";
import type { ServicePort } from "./catalog.js";
import { durationMs, formatDuration } from "./duration.js";
import { re2Error } from "./regex.js";
import { normalizeExportTo, visibleIn } from "./visibility.js";
import { checkGlobalRateLimit, type PluginGlobalRateLimit } from "./global-ratelimit.js";

/** `{present: true}` is Aeraki's empty StringMatch: the attribute only has to be there. */
export type Matcher = { exact: string } | { prefix: string } | { regex: string } | { present: true };
export interface Dest { host: string; subset: string; port?: number; weight: number }
export interface Route {
  name: string;
  match?: Record<string, Matcher>;
  dests: Dest[];
  requestMutation: Array<{ key: string; value: string }>;
  responseMutation: Array<{ key: string; value: string }>;
}
/** `tokensPerFill` is left out when the MetaRouter leaves it out (1, as in Aeraki and the module). */
export interface PluginBucket { maxTokens: number; tokensPerFill?: number; fillInterval: string }
export interface RateLimit {
  tokenBucket?: PluginBucket;
  conditions?: Array<{ match: { attributes: Record<string, Matcher> }; tokenBucket: PluginBucket }>;
}
export interface Router {
  key: string;
  namespace: string;
  created: string;
  host: string;
  exportTo: string[];
  routes: Route[];
  localRateLimit?: RateLimit;
  globalRateLimit?: PluginGlobalRateLimit;
  /** False when spec.gateways names only gateways: the rule is not for sidecars. */
  sidecars: boolean;
}

export interface Issue { type: "Accepted" | "ResolvedRefs"; reason: string; field: string; message: string }
/** A condition that does not stop the MetaRouter from being used (status True unless said). */
export interface Note { type: string; reason: string; message: string; status?: "True" | "False" }

export interface Checked { router?: Router; issues: Issue[]; notes: Note[] }

export interface World {
  ports: ServicePort[];
  /** Every Service and ServiceEntry (the rate limit service is not a metaprotocol one). */
  services: KubeObject[];
  serviceEntries: KubeObject[];
  destinationRules: KubeObject[];
  knownProtocols: Set<string>;
  settings: Settings;
}

/** Attributes that stay the same for every request of a connection, so route exactly. */
export const CONNECTION_STABLE_KEYS = new Set(["interface", "path", "version", "group", "application"]);

/** Istio's short-name rule: a name without dots is qualified with the rule's namespace; "*" stays as is. */
export function resolveHost(host: string, ns: string, settings: Settings): string {
  return host === "" || host === "*" || host.includes(".") ? host : `${host}.${ns}.svc.${settings.clusterDomain}`;
}

function matcher(m: StringMatch | undefined, field: string, issues: Issue[]): Matcher | undefined {
  const isObject = !!m && typeof m === "object" && !Array.isArray(m);
  // Aeraki: "If the value is empty and only the name of attribute is specified, presence of the attribute is checked."
  if (isObject && Object.keys(m).length === 0) return { present: true };
  // Aeraki hands `exact` to Envoy's HeaderMatcher exact_match, where an empty value matches any
  // value of a present attribute; and it reads `regex: "*"` (not valid RE2) as a catch-all.
  if (isObject && Object.keys(m).length === 1 && (m.exact === "" || m.regex === "*")) return { present: true };
  const kinds = isObject ? (["exact", "prefix", "regex"] as const).filter((k) => typeof m[k] === "string") : [];
  if (kinds.length !== 1 || Object.keys(m!).length !== 1) {
    issues.push({ type: "Accepted", reason: "InvalidMatch", field, message: "at most one of exact, prefix, regex (a string) is allowed; {} checks that the attribute is present" });
    return undefined;
  }
  const k = kinds[0];
  const v = m![k]!;
  if (k === "regex") {
    const err = re2Error(v);
    if (err) { issues.push({ type: "Accepted", reason: "InvalidRegex", field: `${field}.regex`, message: `invalid regex ${JSON.stringify(v)}: ${err}` }); return undefined; }
  }
  return { [k]: v } as Matcher;
}

export function matchAttributes(attrs: Record<string, StringMatch> | undefined, field: string, issues: Issue[]) {
  if (attrs === undefined || attrs === null) return undefined;
  if (typeof attrs !== "object" || Array.isArray(attrs)) { issues.push({ type: "Accepted", reason: "InvalidMatch", field, message: "must be a map of attribute name to {exact | prefix | regex}" }); return undefined; }
  if (Object.keys(attrs).length === 0) return undefined;
  const out: Record<string, Matcher> = {};
  for (const k of Object.keys(attrs).sort()) {
    const m = matcher(attrs[k], `${field}.${k}`, issues);
    if (m) out[k] = m;
  }
  return out;
}

/** A list field: absent is empty, anything but a list is an InvalidSpec issue (Aeraki's own CRD may not check types). */
function arrayAt(v: unknown, field: string, issues: Issue[]): any[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  issues.push({ type: "Accepted", reason: "InvalidSpec", field, message: "must be a list" });
  return [];
}

function mutations(list: unknown, field: string, issues: Issue[]) {
  if (list === undefined) return [];
  if (!Array.isArray(list)) { issues.push({ type: "Accepted", reason: "InvalidSpec", field, message: "must be a list of {key, value}" }); return []; }
  return list.flatMap((m: any, i: number) => {
    if (typeof m?.key !== "string" || m.key === "" || typeof m?.value !== "string") {
      issues.push({ type: "Accepted", reason: "InvalidSpec", field: `${field}[${i}]`, message: "key (non-empty) and value must be strings" });
      return [];
    }
    return [{ key: m.key, value: m.value }];
  });
}

function bucket(b: any, field: string, issues: Issue[]): PluginBucket | undefined {
  const bad = (f: string, msg: string) => { issues.push({ type: "Accepted", reason: "InvalidRateLimit", field: f ? `${field}.${f}` : field, message: msg }); };
  if (!b || typeof b !== "object") { bad("", "tokenBucket is required"); return undefined; }
  const ms = durationMs(b.fillInterval);
  let ok = true;
  for (const f of ["maxTokens", "tokensPerFill"]) {
    if (f === "tokensPerFill" && b[f] === undefined) continue; // Aeraki: "If not specified, defaults to a single token."
    if (!Number.isInteger(b[f]) || b[f] < 1) { bad(f, "must be an integer >= 1"); ok = false; }
  }
  if (ms === null || ms < 1) { bad("fillInterval", `must be a duration of at least 1ms such as "1s", got ${JSON.stringify(b.fillInterval)}`); ok = false; }
  if (!ok) return undefined;
  return b.tokensPerFill === undefined
    ? { maxTokens: b.maxTokens, fillInterval: formatDuration(ms!) }
    : { maxTokens: b.maxTokens, tokensPerFill: b.tokensPerFill, fillInterval: formatDuration(ms!) };
}

/** Istio host matching: exact, or a wildcard `*.suffix` / `*` covering the host. */
function hostMatches(pattern: string, host: string): boolean {
  return pattern === host || pattern === "*" || (pattern.startsWith("*.") && host.endsWith(pattern.slice(1)));
}

/**
 * Whether a DestinationRule visible from `fromNs` defines the subset for `host`. As in Istio,
 * the most specific host wins: an exact-host rule hides wildcard ones, a longer wildcard hides
 * a shorter one (rules with the same host are merged, so their subsets add up).
 */
function subsetDefined(host: string, subset: string, fromNs: string, world: World): boolean {
  const rules = world.destinationRules.flatMap((dr) => {
    const ns = dr.metadata.namespace ?? "default";
    if (!visibleIn(normalizeExportTo(dr.spec?.exportTo, ns), fromNs) && ns !== fromNs) return [];
    const drHost = resolveHost(typeof dr.spec?.host === "string" ? dr.spec.host : "", ns, world.settings);
    return drHost && hostMatches(drHost, host) ? [{ drHost, subsets: Array.isArray(dr.spec?.subsets) ? dr.spec.subsets : [] }] : [];
  });
  const specificity = (h: string) => (h === host ? Infinity : h.length);
  const best = Math.max(-1, ...rules.map((r) => specificity(r.drHost)));
  return rules.some((r) => specificity(r.drHost) === best && r.subsets.some((s: any) => s?.name === subset));
}

export function checkMetaRouter(mr: KubeObject, world: World): Checked {
  const issues: Issue[] = [];
  const notes: Note[] = [];
  const spec = (mr.spec ?? {}) as MetaRouterSpec;
  const ns = mr.metadata.namespace ?? "default";
  // As in Istio, a service is visible where its exportTo says, its own namespace included only through "." or its name.
  const seen = (host: string) => world.ports.filter((p) => p.host === host && visibleIn(p.exportTo, ns));

  if (!Array.isArray(spec.hosts) || spec.hosts.length !== 1 || typeof spec.hosts[0] !== "string") {
    issues.push({ type: "Accepted", reason: "InvalidSpec", field: "spec.hosts", message: "exactly one host is required" });
    return { issues, notes };
  }
  const host = resolveHost(spec.hosts[0], ns, world.settings);
  const ports = seen(host);
  if (ports.length === 0) {
    issues.push({ type: "ResolvedRefs", reason: "UnknownHost", field: "spec.hosts[0]",
      message: `no Service or ServiceEntry visible from namespace ${ns} has host ${host} with a tcp-metaprotocol-<protocol> port` });
  }
  const unknown = ports.filter((p) => !world.knownProtocols.has(p.protocol));
  const unknownText = unknown.map((p) => `port ${p.port} (${p.portName}) selects protocol "${p.protocol}"`).join(", ");
  const why = "which has no ApplicationProtocol (or no module): nothing is applied for it";
  if (unknown.length && unknown.length === ports.length) {
    issues.push({ type: "ResolvedRefs", reason: "UnknownProtocol", field: "spec.hosts[0]", message: `${host}: ${unknownText}, ${why}` });
  } else if (unknown.length) {
    notes.push({ type: "PortsSkipped", reason: "UnknownProtocol", message: `spec.hosts[0]: ${host}: ${unknownText}, ${why}; its other ports are configured` });
  }

  const routes: Route[] = [];
  arrayAt(spec.routes, "spec.routes", issues).forEach((r, i) => {
    const f = `spec.routes[${i}]`;
    // Aeraki: the name is only "for debugging purposes" and may be left out; stats need one.
    if (r?.name !== undefined && typeof r.name !== "string") issues.push({ type: "Accepted", reason: "InvalidSpec", field: `${f}.name`, message: "must be a string" });
    const match = matchAttributes(r?.match?.attributes, `${f}.match.attributes`, issues);
    const dests: Dest[] = [];
    const list = arrayAt(r?.route, `${f}.route`, issues);
    list.forEach((d, j) => {
      const df = `${f}.route[${j}]`;
      const dh = d?.destination?.host;
      if (typeof dh !== "string" || dh === "") { issues.push({ type: "Accepted", reason: "InvalidSpec", field: `${df}.destination.host`, message: "required" }); return; }
      const destHost = resolveHost(dh, ns, world.settings);
      const destPorts = seen(destHost);
      let port = d.destination?.port?.number;
      const numbers = [...new Set(destPorts.map((p) => p.port))];
      if (destPorts.length === 0 && destHost !== host) {
        issues.push({ type: "ResolvedRefs", reason: "UnknownHost", field: `${df}.destination.host`, message: `no Service or ServiceEntry visible from namespace ${ns} has host ${destHost}` });
      } else if (port !== undefined && destPorts.length && !numbers.includes(port)) {
        issues.push({ type: "ResolvedRefs", reason: "PortNotFound", field: `${df}.destination.port.number`, message: `${destHost} has no metaprotocol port ${port}` });
      } else if (port === undefined && destHost !== host) {
        // Aeraki: "If a service exposes only a single port it is not required to explicitly select the port."
        if (numbers.length === 1) port = numbers[0];
        else if (!ports.every((p) => numbers.includes(p.port))) {
          issues.push({ type: "ResolvedRefs", reason: "PortNotFound", field: `${df}.destination.port.number`,
            message: `${destHost} has several metaprotocol ports (${numbers.join(", ")}) and not every port of ${host}: select one` });
        }
      }
      const subset = typeof d.destination?.subset === "string" ? d.destination.subset : "";
      if (subset && !subsetDefined(destHost, subset, ns, world)) {
        issues.push({ type: "ResolvedRefs", reason: "SubsetNotFound", field: `${df}.destination.subset`,
          message: `subset "${subset}" is not defined for host ${destHost} in any DestinationRule visible from namespace ${ns}` });
      }
      const w = d.weight;
      if (w !== undefined && (!Number.isInteger(w) || w < 0)) {
        issues.push({ type: "Accepted", reason: "WeightsDoNotAddUp", field: `${df}.weight`, message: "must be a non-negative integer" });
      }
      dests.push({ host: destHost, subset, port, weight: list.length === 1 ? 100 : w ?? 0 });
    });
    // As in Aeraki, one destination takes every request whatever its weight; several must add up to 100.
    if (list.length > 1) {
      const sum = list.reduce((s, d) => s + (Number.isInteger(d?.weight) ? d.weight! : 0), 0);
      if (sum !== 100) issues.push({ type: "Accepted", reason: "WeightsDoNotAddUp", field: `${f}.route`, message: `weights add up to ${sum}, not 100` });
    }
    if (r?.mirror !== undefined || r?.mirrorPercentage !== undefined) {
      notes.push({ type: "Unsupported", reason: "MirrorNotSupported",
        message: `${f}.mirror: ignored, a Wasm network filter cannot open a second upstream connection to mirror traffic; the rest of the route applies` });
    }
    routes.push({
      name: typeof r?.name === "string" && r.name !== "" ? r.name : `route-${i}`, match, dests,
      requestMutation: mutations(r?.requestMutation, `${f}.requestMutation`, issues),
      responseMutation: mutations(r?.responseMutation, `${f}.responseMutation`, issues),
    });
  });

  let localRateLimit: RateLimit | undefined;
  const lrl = spec.localRateLimit;
  if (lrl) {
    localRateLimit = {};
    if (lrl.tokenBucket) localRateLimit.tokenBucket = bucket(lrl.tokenBucket, "spec.localRateLimit.tokenBucket", issues);
    const conds = arrayAt(lrl.conditions, "spec.localRateLimit.conditions", issues).flatMap((c, i) => {
      const f = `spec.localRateLimit.conditions[${i}]`;
      const attrs = matchAttributes(c?.match?.attributes, `${f}.match.attributes`, issues);
      const b = bucket(c?.tokenBucket, `${f}.tokenBucket`, issues);
      return b ? [{ match: { attributes: attrs ?? {} }, tokenBucket: b }] : [];
    });
    if (conds.length) localRateLimit.conditions = conds;
  }
  const gateways = Array.isArray(spec.gateways) ? spec.gateways : [];
  const sidecars = gateways.length === 0 || gateways.includes("mesh");
  if (gateways.some((g) => g !== "mesh")) {
    notes.push({ type: "Unsupported", reason: "GatewaysNotSupported",
      message: sidecars
        ? "spec.gateways: only sidecars (\"mesh\") are configured; the gateway entries are ignored"
        : "spec.gateways: names only gateways, and the controller configures sidecars only, so this MetaRouter is not applied; add \"mesh\" to apply it to sidecars" });
  }
  const globalRateLimit = spec.globalRateLimit !== undefined
    ? checkGlobalRateLimit(spec.globalRateLimit, world, issues, notes, (a, f, i) => matchAttributes(a as Record<string, StringMatch> | undefined, f, i))
    : undefined;
  const perRequest = perRequestSplit(routes);
  if (perRequest) notes.push(perRequest);

  const router: Router = {
    key: key(mr), namespace: ns, created: mr.metadata.creationTimestamp ?? "", host,
    exportTo: normalizeExportTo(spec.exportTo, ns), routes, localRateLimit, globalRateLimit, sidecars,
  };
  return { router, issues, notes };
}

/** Routes on a per-request attribute that send traffic elsewhere split connections, not calls. */
function perRequestSplit(routes: Route[]): Note | undefined {
  const destsOf = (r: Route) => r.dests.map((d) => `${d.host}|${d.subset}|${d.port ?? ""}|${d.weight}`).sort().join(",");
  const all = new Set(routes.filter((r) => r.dests.length).map(destsOf));
  all.add(""); // the default cluster
  if (all.size < 2) return undefined;
  const hits: string[] = [];
  routes.forEach((r, i) => {
    if (!r.dests.length || !r.match) return;
    const keys = Object.keys(r.match).filter((k) => !CONNECTION_STABLE_KEYS.has(k));
    if (keys.length) hits.push(`spec.routes[${i}] (${r.name}) matches ${keys.join(", ")}`);
  });
  // Weights are drawn once per connection too: a client with one connection sends everything to one destination.
  const split = routes.flatMap((r, i) => r.dests.filter((d) => d.weight > 0).length > 1 ? [`spec.routes[${i}] (${r.name})`] : []);
  const messages: string[] = [];
  if (hits.length) {
    messages.push(`${hits.join("; ")}: the destination is chosen once per connection by its first request, and clients ` +
      `send every call of a service over one connection, so later calls follow the first one's route (counted as route_mismatch). ` +
      `Attributes that stay the same for a connection (${[...CONNECTION_STABLE_KEYS].join(", ")}) route exactly`);
  }
  if (split.length) {
    messages.push(`${split.join("; ")} split${split.length === 1 ? "s" : ""} by weight per connection, not per request: ` +
      `each connection draws its destination once, so the split holds over many connections, and a client that sends every call over one connection sends them all to one destination`);
  }
  if (!messages.length) return undefined;
  return { type: "PerConnectionRouting", reason: hits.length ? "RoutesOnPerRequestAttribute" : "WeightsPerConnection", message: messages.join("; ") };
}

export function conditionsFor(mr: KubeObject, checked: Pick<Checked, "issues" | "notes">, extra: Note[] = []): Condition[] {
  const gen = mr.metadata.generation;
  const one = (type: "Accepted" | "ResolvedRefs", okReason: string, okMsg: string): Condition => {
    const list = checked.issues.filter((i) => i.type === type);
    if (!list.length) return { type, status: "True", reason: okReason, message: okMsg, observedGeneration: gen };
    const shown = list.slice(0, 5).map((i) => `${i.field}: ${i.message}`);
    if (list.length > 5) shown.push(`and ${list.length - 5} more`);
    return { type, status: "False", reason: list[0].reason, message: shown.join("; "), observedGeneration: gen };
  };
  const out = [
    one("Accepted", "Accepted", "the MetaRouter is valid"),
    one("ResolvedRefs", "ResolvedRefs", "every host, port and subset resolves"),
  ];
  const byType = new Map<string, Note[]>();
  for (const n of [...checked.notes, ...extra]) byType.set(n.type, [...(byType.get(n.type) ?? []), n]);
  for (const [type, notes] of [...byType].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    out.push({ type, status: notes.some((n) => n.status === "False") ? "False" : "True", reason: notes[0].reason, message: notes.map((n) => n.message).join("; "), observedGeneration: gen });
  }
  return out;
}

// MetaRouter globalRateLimit (Aeraki's fields: match, domain, requestTimeout, denyOnFail,
// rateLimitService, descriptors[]{property, descriptorKey}) -> the plugin config's
// services[].globalRateLimit. The module calls the rate limit service with Envoy's gRPC client,
// which needs HTTP/2 to it: in Istio the service's port must be named grpc-*/http2-* or carry
// appProtocol grpc/http2 (a ServiceEntry: protocol GRPC/HTTP2). Otherwise every check fails and
// denyOnFail decides, so the MetaRouter says so in a condition (GlobalRateLimit=False).
import type { KubeObject } from "../model/types.js";
import { durationMs, formatDuration } from "./duration.js";
import type { Issue, Matcher, Note, World } from "./metarouter.js";

export interface PluginGlobalRateLimit {
  match?: { attributes: Record<string, Matcher> };
  domain: string;
  requestTimeout?: string;
  denyOnFail?: boolean;
  rateLimitService: string;
  descriptors: Array<{ property: string; descriptorKey: string }>;
}

/** Aeraki: "If not set, this defaults to 20ms"; the module holds a request at most 60 s. */
const MAX_TIMEOUT_MS = 60_000;
const CLUSTER = /^outbound\|(\d{1,5})\|([^|]*)\|([^|]+)$/;
const H2_APP_PROTOCOLS = new Set(["grpc", "grpc-web", "http2", "kubernetes.io/h2c"]);
const H2_PROTOCOLS = new Set(["GRPC", "GRPC-WEB", "HTTP2"]);

/** Istio's protocol selection by port name: `<protocol>` or `<protocol>-<suffix>`. */
function h2ByName(name: unknown): boolean {
  if (typeof name !== "string") return false;
  const p = name.split("-")[0].toLowerCase();
  return p === "grpc" || p === "http2";
}

type MatchReader = (attrs: unknown, field: string, issues: Issue[]) => Record<string, Matcher> | undefined;

export function checkGlobalRateLimit(g: any, world: World, issues: Issue[], notes: Note[], readMatch: MatchReader): PluginGlobalRateLimit | undefined {
  const f = "spec.globalRateLimit";
  const bad = (field: string, message: string) => { issues.push({ type: "Accepted", reason: "InvalidRateLimit", field: `${f}.${field}`, message }); };
  if (!g || typeof g !== "object" || Array.isArray(g)) {
    issues.push({ type: "Accepted", reason: "InvalidRateLimit", field: f, message: "must be an object" });
    return undefined;
  }
  const before = issues.length;
  if (typeof g.domain !== "string" || g.domain === "") bad("domain", "required: the rate limit domain of the service's rules");
  let cluster = "";
  if (typeof g.rateLimitService !== "string" || !CLUSTER.test(g.rateLimitService)) {
    bad("rateLimitService", `must be the rate limit service's cluster, outbound|<port>||<host>, got ${JSON.stringify(g.rateLimitService)}`);
  } else cluster = g.rateLimitService;
  let timeout: string | undefined;
  if (g.requestTimeout !== undefined) {
    const ms = durationMs(g.requestTimeout);
    if (ms === null || ms < 1 || ms > MAX_TIMEOUT_MS || ms !== Math.round(ms)) bad("requestTimeout", `must be a duration from 1ms to 60s in whole milliseconds, got ${JSON.stringify(g.requestTimeout)}`);
    else timeout = formatDuration(ms);
  }
  if (g.denyOnFail !== undefined && typeof g.denyOnFail !== "boolean") bad("denyOnFail", "must be true or false");
  const descriptors: PluginGlobalRateLimit["descriptors"] = [];
  if (!Array.isArray(g.descriptors) || g.descriptors.length === 0) bad("descriptors", "required: at least one {property, descriptorKey}");
  else g.descriptors.forEach((d: any, i: number) => {
    if (typeof d?.property !== "string" || d.property === "" || typeof d?.descriptorKey !== "string" || d.descriptorKey === "") {
      bad(`descriptors[${i}]`, "property and descriptorKey must be non-empty strings");
    } else descriptors.push({ property: d.property, descriptorKey: d.descriptorKey });
  });
  const attrs = readMatch(g.match?.attributes, `${f}.match.attributes`, issues);
  if (issues.length > before) return undefined;
  // Aeraki's field order.
  const out = {} as PluginGlobalRateLimit;
  if (attrs) out.match = { attributes: attrs };
  out.domain = g.domain;
  if (timeout) out.requestTimeout = timeout;
  if (g.denyOnFail !== undefined) out.denyOnFail = g.denyOnFail;
  out.rateLimitService = cluster;
  out.descriptors = descriptors;
  const problem = rateLimitServiceProblem(cluster, world);
  if (problem) notes.push({ type: "GlobalRateLimit", status: "False", reason: problem.reason, message: `${f}.rateLimitService: ${problem.message}` });
  return out;
}

/** Why Envoy's gRPC client could not reach `cluster`, if the catalog can tell. */
function rateLimitServiceProblem(cluster: string, world: World): { reason: string; message: string } | undefined {
  const [, portText, , host] = CLUSTER.exec(cluster)!;
  const port = Number(portText);
  const fail = "every check fails, and denyOnFail decides whether requests pass";
  const svc = world.services.find((s) => `${s.metadata.name}.${s.metadata.namespace ?? "default"}.svc.${world.settings.clusterDomain}` === host);
  const entry = svc ? undefined : world.serviceEntries.find((e: KubeObject) => Array.isArray(e.spec?.hosts) && e.spec.hosts.includes(host));
  if (!svc && !entry) return { reason: "RateLimitServiceNotFound", message: `no Service or ServiceEntry has host ${host}: until one does, ${fail}` };
  const ports: any[] = Array.isArray((svc ?? entry)!.spec?.ports) ? (svc ?? entry)!.spec.ports : [];
  const p = ports.find((x) => (svc ? x?.port : x?.number) === port);
  if (!p) return { reason: "RateLimitServicePortNotFound", message: `${host} has no port ${port}; ${fail}` };
  const h2 = h2ByName(p.name) || (svc ? H2_APP_PROTOCOLS.has(String(p.appProtocol ?? "").toLowerCase()) : H2_PROTOCOLS.has(String(p.protocol ?? "").toUpperCase()));
  if (h2) return undefined;
  const how = svc ? "name the port grpc-<suffix> or set appProtocol: grpc" : "set the port's protocol: GRPC";
  return { reason: "RateLimitServiceNotHTTP2", message: `${host} port ${port} (${p.name ?? "unnamed"}) is not HTTP/2, which Envoy's gRPC client needs: ${how}; until then ${fail}` };
}

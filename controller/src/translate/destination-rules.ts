// What a DestinationRule's load balancing means for a metaprotocol port. The module routes inside
// the connection, but tcp_proxy picks the upstream endpoint once per connection: a consistent hash
// on a request attribute (Aeraki's httpHeaderName) has no request to hash when that happens.
import type { KubeObject, Settings } from "../model/types.js";
import type { ServicePort } from "./catalog.js";
import { resolveHost } from "./metarouter.js";

export interface HashProblem { host: string; port: number; field: string; key: string }

const KEYS = ["httpHeaderName", "httpCookie", "httpQueryParameterName"] as const;

function hostMatches(pattern: string, host: string): boolean {
  return pattern === host || pattern === "*" || (pattern.startsWith("*.") && host.endsWith(pattern.slice(1)));
}

/** Every consistentHash of `dr` that would be ignored on a metaprotocol port (useSourceIp works: Istio puts it on tcp_proxy). */
export function consistentHashProblems(dr: KubeObject, ports: ServicePort[], settings: Settings): HashProblem[] {
  const ns = dr.metadata.namespace ?? "default";
  const drHost = resolveHost(typeof dr.spec?.host === "string" ? dr.spec.host : "", ns, settings);
  if (!drHost) return [];
  const out: HashProblem[] = [];
  const policies: Array<{ at: string; tp: any }> = [{ at: "spec.trafficPolicy", tp: dr.spec?.trafficPolicy }];
  (Array.isArray(dr.spec?.subsets) ? dr.spec.subsets : []).forEach((s: any, i: number) => policies.push({ at: `spec.subsets[${i}].trafficPolicy`, tp: s?.trafficPolicy }));
  for (const p of ports.filter((q) => hostMatches(drHost, q.host))) {
    for (const { at, tp } of policies) {
      if (!tp || typeof tp !== "object") continue;
      const levels: Array<{ field: string; lb: any }> = [{ field: `${at}.loadBalancer.consistentHash`, lb: tp.loadBalancer }];
      (Array.isArray(tp.portLevelSettings) ? tp.portLevelSettings : []).forEach((pl: any, i: number) => {
        if (pl?.port?.number === p.port) levels.push({ field: `${at}.portLevelSettings[${i}].loadBalancer.consistentHash`, lb: pl.loadBalancer });
      });
      for (const { field, lb } of levels) {
        const ch = lb?.consistentHash;
        if (!ch || typeof ch !== "object") continue;
        const key = KEYS.find((k) => ch[k] !== undefined);
        if (key) out.push({ host: p.host, port: p.port, field: `${field}.${key}`, key: `${key}: ${JSON.stringify(ch[key])}` });
      }
    }
  }
  return out;
}

export function hashProblemMessage(p: HashProblem): string {
  return `${p.field} (${p.key}) is not applied to ${p.host} port ${p.port}: the sidecar picks the endpoint once per connection ` +
    `(tcp_proxy), before and regardless of any request attribute, so the ring hash gets no key and each connection lands on a ` +
    `random endpoint; all requests of a connection share it. consistentHash.useSourceIp works (per client address)`;
}

// Builds the plugin config JSON documented in README "Plugin configuration" from the
// catalog and the chosen MetaRouter. Field names and defaults follow that contract exactly.
import type { Settings } from "../model/types.js";
import type { ServicePort } from "./catalog.js";
import type { Router, Route } from "./metarouter.js";
import { alternation } from "./regex.js";

export function clusterName(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`;
}

/** What identifies the service on a shared listener: the VIPs, and the Dubbo interface if declared. */
function serviceMatch(p: ServicePort) {
  const match: Record<string, unknown> = {};
  if (p.addresses.length) match.addresses = p.addresses;
  if (p.interfaces.length) {
    match.attributes = { interface: p.interfaces.length === 1 ? { exact: p.interfaces[0] } : { regex: alternation(p.interfaces) } };
  }
  return Object.keys(match).length ? match : undefined;
}

function routeMatch(r: Route) {
  return r.match ? { attributes: r.match } : undefined;
}

function withMutations(out: Record<string, unknown>, r: Route) {
  if (r.requestMutation.length) out.requestMutation = r.requestMutation;
  if (r.responseMutation.length) out.responseMutation = r.responseMutation;
  return out;
}

/** Mutations and limits run where the workload is (inbound) when the service has one. */
export function policyGoesInbound(p: ServicePort): boolean {
  return !!p.selector && typeof p.targetPort === "number";
}

export function outboundService(p: ServicePort, router: Router | undefined) {
  const defaultCluster = clusterName(p.port, "", p.host);
  const out: Record<string, unknown> = { name: p.host };
  const match = serviceMatch(p);
  if (match) out.match = match;
  out.defaultCluster = defaultCluster;
  const policyHere = !policyGoesInbound(p);
  const routes = (router?.routes ?? []).map((r) => {
    const o: Record<string, unknown> = { name: r.name };
    const m = routeMatch(r);
    if (m) o.match = m;
    if (r.dests.length) o.route = r.dests.map((d) => ({ cluster: clusterName(d.port ?? p.port, d.subset, d.host), weight: d.weight }));
    return policyHere ? withMutations(o, r) : o;
  });
  out.routes = routes.length ? routes : [{ name: "default", route: [{ cluster: defaultCluster, weight: 100 }] }];
  if (policyHere && router?.localRateLimit && Object.keys(router.localRateLimit).length) out.localRateLimit = router.localRateLimit;
  if (policyHere && router?.globalRateLimit) out.globalRateLimit = router.globalRateLimit;
  return out;
}

export function inboundService(p: ServicePort, router: Router | undefined) {
  const out: Record<string, unknown> = { name: p.host };
  if (p.interfaces.length) out.match = { attributes: serviceMatch(p)!.attributes };
  const routes = router?.routes ?? [];
  // Every route is kept, in order, so first-match-wins picks the same route as outbound.
  if (routes.some((r) => r.requestMutation.length || r.responseMutation.length)) {
    out.routes = routes.map((r) => {
      const o: Record<string, unknown> = { name: r.name };
      const m = routeMatch(r);
      if (m) o.match = m;
      return withMutations(o, r);
    });
  }
  if (router?.localRateLimit && Object.keys(router.localRateLimit).length) out.localRateLimit = router.localRateLimit;
  if (router?.globalRateLimit) out.globalRateLimit = router.globalRateLimit;
  return out;
}

/** Which side a plugin runs on, for its spans (CLIENT outbound, SERVER inbound) and their service name. */
export interface Side { spanKind: "CLIENT" | "SERVER"; serviceName: string }

export function pluginConfig(statPrefix: string, services: object[], settings: Settings, side?: Side) {
  const cfg: Record<string, unknown> = { statPrefix: statPrefix.replace(/[^a-zA-Z0-9_]/g, "_") };
  if (settings.maxFrameBytes !== undefined) cfg.maxFrameBytes = settings.maxFrameBytes;
  if (settings.onRouteMismatch !== undefined) cfg.onRouteMismatch = settings.onRouteMismatch;
  if (settings.methodStats) cfg.methodStats = true;
  if (settings.latencyHistogram) cfg.latencyHistogram = true;
  const otlp = (o: { service: string; port: number; randomSamplingPercentage?: number }) => {
    const r: Record<string, unknown> = { collectorCluster: clusterName(o.port, "", o.service) };
    if (side) r.serviceName = side.serviceName;
    if (o.randomSamplingPercentage !== undefined) r.randomSamplingPercentage = o.randomSamplingPercentage;
    return r;
  };
  if (settings.tracing) cfg.tracing = { ...otlp(settings.tracing), ...(side ? { spanKind: side.spanKind } : {}) };
  if (settings.accessLog) cfg.accessLog = otlp(settings.accessLog);
  if (services.length) cfg.services = services;
  return cfg;
}

// Routing decisions: which service owns a connection, and which route a request takes.
// Pure functions over the parsed config and a request's metadata (no host calls).
import { Metadata } from "./metadata";
import { PluginConfig, ServiceConfig, Route } from "./config";

/**
 * The first service that claims the connection: by the VIP the client dialed (addresses), or
 * by the first request's attributes (e.g. the Dubbo interface, for clients that dial pod IPs
 * found in a registry). A service listing both is claimed by either; one listing neither
 * claims every connection.
 */
export function selectService(cfg: PluginConfig, md: Metadata, destinationIp: string | null): ServiceConfig | null {
  const services = cfg.services;
  for (let i = 0; i < services.length; i++) {
    const s = unchecked(services[i]);
    const byAddress = s.addresses.length > 0;
    const byAttributes = !s.match.isEmpty();
    if (!byAddress && !byAttributes) return s;
    if (byAddress && destinationIp != null && s.addresses.includes(destinationIp)) return s;
    if (byAttributes && s.match.matches(md)) return s;
  }
  return null;
}

/** Ordered routes, first match wins. */
export function matchRoute(svc: ServiceConfig, md: Metadata): Route | null {
  const routes = svc.routes;
  for (let i = 0; i < routes.length; i++) {
    const r = unchecked(routes[i]);
    if (r.match.matches(md)) return r;
  }
  return null;
}

/**
 * The route a connection takes before any request is seen (bindOn CONNECTION): the first route
 * that needs no request attribute. Null when every route does.
 */
export function connectionRoute(svc: ServiceConfig): Route | null {
  const routes = svc.routes;
  for (let i = 0; i < routes.length; i++) {
    const r = unchecked(routes[i]);
    if (r.match.isEmpty()) return r;
  }
  return null;
}

/** The cluster a route sends to, "" meaning "the connection's own (tcp_proxy) cluster". */
export function routeSendsTo(r: Route, cluster: string): bool {
  if (r.clusters.length == 0) return true;
  for (let i = 0; i < r.clusters.length; i++) {
    if (unchecked(r.clusters[i]).cluster == cluster) return true;
  }
  return false;
}

/** "10.0.0.1:20880" -> "10.0.0.1"; "[::1]:80" -> "::1". */
export function ipOf(address: string): string {
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    return end > 0 ? address.substring(1, end) : address;
  }
  const colon = address.lastIndexOf(":");
  return colon > 0 && address.indexOf(":") == colon ? address.substring(0, colon) : address;
}

// Routing decisions: which service owns a connection, and which route a request takes.
// Pure functions over the parsed config and a request's metadata (no host calls).
import { Metadata } from "./metadata";
import { PluginConfig, ServiceConfig, Route, MATCH_EXACT } from "./config";

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
  if (routes.length < INDEX_MIN_ROUTES) return firstMatch(routes, md);
  let idx = svc.routeIndex;
  if (idx == null) { idx = new RouteIndex(routes); svc.routeIndex = idx; }
  return idx.match(routes, md);
}

function firstMatch(routes: Route[], md: Metadata): Route | null {
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

/** Below this many routes a plain scan is as fast as the index. */
export const INDEX_MIN_ROUTES = 8;

/**
 * Routes by the value of the attribute most of them match exactly (e.g. `method`): a request is
 * tried only against the routes keyed by its value and the routes without that exact match,
 * merged in route order, so first-match-wins is unchanged and the cost does not grow with the
 * number of exact-match routes. Built at the first request of a config.
 */
export class RouteIndex {
  key: string = "";
  /** value -> the first route keyed by it; `next` chains the others, in route order. */
  byValue: Map<string, i32> = new Map<string, i32>();
  next: StaticArray<i32> = new StaticArray<i32>(0);
  /** Routes that must be tried for every value (no exact match on `key`). */
  rest: i32[] = [];
  /**
   * The last value looked up (held, so its address cannot be reused) and its chain: codecs hand
   * out the same string object for a repeated value (a connection's few methods), so a repeat
   * costs a pointer compare instead of hashing the value twice.
   */
  private lastValue: string | null = null;
  private lastFirst: i32 = -1;

  constructor(routes: Route[]) {
    // The key: the attribute with the most exact matchers (few distinct keys: a linear tally).
    const keys: string[] = [], counts: i32[] = [];
    let best = 0;
    for (let i = 0; i < routes.length; i++) {
      const attrs = routes[i].match.attrs;
      for (let j = 0; j < attrs.length; j++) {
        if (attrs[j].matcher.kind != MATCH_EXACT) continue;
        const k = attrs[j].key;
        let at = keys.indexOf(k);
        if (at < 0) { at = keys.length; keys.push(k); counts.push(0); }
        const c = ++counts[at];
        if (c > best) { best = c; this.key = k; }
      }
    }
    const next = new StaticArray<i32>(routes.length);
    for (let i = routes.length - 1; i >= 0; i--) { // backwards: each value's chain ends up ascending
      unchecked(next[i] = -1);
      const v = exactValue(routes[i], this.key);
      if (v == null) { this.rest.unshift(i); continue; }
      const value = changetype<string>(v);
      if (this.byValue.has(value)) unchecked(next[i] = this.byValue.get(value));
      this.byValue.set(value, i);
    }
    this.next = next;
  }

  match(routes: Route[], md: Metadata): Route | null {
    const v = this.key.length > 0 ? md.getAttribute(this.key) : null;
    let a = -1;
    if (v != null) {
      if (changetype<usize>(v) == changetype<usize>(this.lastValue)) a = this.lastFirst;
      else {
        const s = changetype<string>(v);
        a = this.byValue.has(s) ? this.byValue.get(s) : -1;
        this.lastValue = s;
        this.lastFirst = a;
      }
    }
    const rest = this.rest;
    // Merge the keyed chain and the unkeyed list, both ascending: route order is kept.
    let b = 0;
    while (a >= 0 || b < rest.length) {
      let i: i32;
      if (b >= rest.length || (a >= 0 && a < unchecked(rest[b]))) { i = a; a = unchecked(this.next[a]); }
      else i = unchecked(rest[b++]);
      const r = unchecked(routes[i]);
      if (r.match.matches(md)) return r;
    }
    return null;
  }
}

/** The value a route's match requires of `key` exactly, or null. */
function exactValue(r: Route, key: string): string | null {
  const attrs = r.match.attrs;
  for (let j = 0; j < attrs.length; j++) {
    if (attrs[j].key == key && attrs[j].matcher.kind == MATCH_EXACT) return attrs[j].matcher.value;
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

// Whether a config would bind a connection the way it is bound: used when newer rules arrive
// for connections that older rules bound (rules-update.ts). Pure: no host calls.
import { Metadata } from "./metadata";
import { PluginConfig } from "./config";
import { connectionRoute, matchRoute, selectService } from "./router";

/**
 * True when `cfg` could bind this connection to `cluster` ("" = tcp_proxy's own cluster):
 * the service and route it would pick for the connection's binding request `md` (none for
 * bindOn CONNECTION) and dialed address `dst` send to `cluster`, with a weight above 0.
 * A route split over several clusters keeps every connection on any of them.
 */
export function bindingAllowed(cfg: PluginConfig, md: Metadata, dst: string | null, atConnection: bool, cluster: string): bool {
  const svc = selectService(cfg, md, dst);
  if (svc == null) return cluster.length == 0;
  const route = atConnection ? connectionRoute(svc) : matchRoute(svc, md);
  if (route != null && route.clusters.length > 0) {
    for (let i = 0; i < route.clusters.length; i++) {
      const c = unchecked(route.clusters[i]);
      if (c.weight > 0 && c.cluster == cluster) return true;
    }
    return false;
  }
  return svc.defaultCluster == cluster;
}

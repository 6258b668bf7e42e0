// The plugin configuration the Java Dubbo peer tests run behind (dubbo_outbound of
// envoy-dev/envoy.yaml with these rules): one route per attribute kind, in this order.
import { CLUSTERS } from "../../envoy-dev/apps/dubbo/mesh.ts";
import { GREETING, INVENTORY } from "../../peers/java-dubbo/driver.ts";

export const STATS = "metaprotocol_java_peers_";
const to = (cluster: string) => [{ cluster, weight: 100 }];

export function javaPeersConfig(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    statPrefix: "java_peers",
    statsFlushIntervalMs: 100,
    ...extra,
    services: [{
      name: "java-peers.default.svc.cluster.local",
      defaultCluster: CLUSTERS.default,
      routes: [
        { name: "canary-group", match: { attributes: { group: { exact: "canary" } } }, route: to(CLUSTERS.v2),
          requestMutation: [{ key: "x-canary", value: "true" }], responseMutation: [{ key: "x-route", value: "canary-group" }] },
        { name: "version-2", match: { attributes: { version: { exact: "2.0.0" } } }, route: to(CLUSTERS.v2) },
        // A user attachment: every request's arguments are skipped to reach it (byte[], DTO graphs).
        { name: "vip-user", match: { attributes: { "x-user": { exact: "vip" } } }, route: to(CLUSTERS.v2) },
        { name: "inventory", match: { attributes: { interface: { exact: INVENTORY }, version: { exact: "1.0.0" } } }, route: to(CLUSTERS.v1) },
        { name: "hello", match: { attributes: { method: { exact: "sayHello" } } }, route: to(CLUSTERS.v2) },
        { name: "bye", match: { attributes: { method: { exact: "sayBye" } } }, route: to(CLUSTERS.v1) },
        { name: "greeting", match: { attributes: { interface: { exact: GREETING } } }, route: to(CLUSTERS.default) },
      ],
      localRateLimit: {
        tokenBucket: { maxTokens: 1000000, tokensPerFill: 1000000, fillInterval: "1h" },
        // Calls carrying x-limit=tight draw from a bucket of 2, shared by every connection.
        conditions: [{ match: { attributes: { "x-limit": { exact: "tight" } } }, tokenBucket: { maxTokens: 2, tokensPerFill: 2, fillInterval: "1h" } }],
      },
    }],
  });
}

// Starts the Thrift side of envoy-dev/envoy.yaml: one Greeter server per cluster of the
// thrift_outbound listener (default, v1, v2), all speaking one transport + protocol, and a proxy
// (the local host or real Envoy) running build/thrift.wasm with the demo rules exactly as
// envoy.yaml has them (or `pluginConfig` in their place). Transport "header" servers also read
// unframed messages.
import { ENVOY_YAML, allListenersEphemeral } from "../mesh-config.ts";
import type { Proxy, ProxyKind } from "../../proxy/index.ts";
import { startThriftServer, type ThriftServer, type ThriftServerOptions } from "../thrift-server.ts";
import type { ProtocolName, TransportName } from "./stack.ts";

export const LISTENER = "thrift_outbound";
const SVC = "thrift-demo.default.svc.cluster.local";
export const CLUSTERS = {
  default: `outbound|9090||${SVC}`,
  v1: `outbound|9090|v1|${SVC}`,
  v2: `outbound|9090|v2|${SVC}`,
} as const;
export type Subset = keyof typeof CLUSTERS;
/** The demo's stat prefix as /stats/prometheus shows it. */
export const STATS = "metaprotocol_thrift_demo_";

export interface ThriftMesh {
  port: number;
  servers: Record<Subset, ThriftServer>;
  proxy: Proxy;
  /** Waits until counter `series` has grown by at least n since `base` (counters flush on a tick). */
  waitForCounter(series: string, base: number, n: number): Promise<number>;
  stat(series: string): Promise<number>;
  close(): Promise<void>;
}

export interface ThriftMeshOptions extends Pick<ThriftServerOptions, "responseHeaders"> {
  proxy?: ProxyKind;
  pluginConfig?: string;
}

export async function startThriftMesh(transport: TransportName, protocol: ProtocolName, opts: ThriftMeshOptions = {}): Promise<ThriftMesh> {
  const servers = {} as Record<Subset, ThriftServer>;
  try {
    for (const s of Object.keys(CLUSTERS) as Subset[]) {
      servers[s] = await startThriftServer({ responseHeaders: opts.responseHeaders, version: s, transport, protocol });
    }
    const front = await startThriftProxy(Object.fromEntries((Object.keys(CLUSTERS) as Subset[]).map(
      (s) => [s, { host: "127.0.0.1", port: servers[s].port }])) as Record<Subset, Endpoint>, opts);
    return {
      ...front, servers,
      close: async () => {
        await front.close();
        for (const s of Object.values(servers)) await s.close();
      },
    };
  } catch (e) {
    for (const s of Object.values(servers)) await s.close();
    throw e;
  }
}

export interface Endpoint { host: string; port: number }

/** The mesh minus the servers: what a mesh of servers started elsewhere (Go, Java peers) uses. */
export type ThriftProxyMesh = Omit<ThriftMesh, "servers">;

/**
 * The proxy alone, every cluster of thrift_outbound pointed at the given endpoint (servers the
 * caller runs, e.g. the Go and Java peers of tests/peers). Closing it leaves the servers running.
 */
export async function startThriftProxy(endpoints: Record<Subset, Endpoint>, opts: Omit<ThriftMeshOptions, "responseHeaders"> = {}): Promise<ThriftProxyMesh> {
  const { startProxy } = await import("../../proxy/index.ts");
  const proxy = await startProxy(opts.proxy ?? "local", {
    configPath: ENVOY_YAML, // unchanged: only endpoints and ports are overridden
    endpoints: Object.fromEntries((Object.keys(CLUSTERS) as Subset[]).map((s) => [CLUSTERS[s], [endpoints[s]]])),
    listenerPorts: allListenersEphemeral(),
    ...(opts.pluginConfig ? { pluginConfig: { [LISTENER]: opts.pluginConfig } } : {}),
  });
  return {
    port: proxy.listeners[LISTENER].port,
    proxy,
    stat: (s) => proxy.stat(s),
    waitForCounter: async (s, base, n) => (await proxy.waitForStat(s, (v) => v - base >= n, 5000)) - base,
    close: () => proxy.close(),
  };
}

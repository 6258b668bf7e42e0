// Starts the Thrift side of envoy-dev/envoy.yaml in-process: one Greeter server per cluster of
// the thrift_outbound listener (default, v1, v2), all speaking one transport + protocol, and the
// local host running build/thrift.wasm with the demo rules exactly as envoy.yaml has them (or
// `pluginConfig` in their place). Transport "header" servers also read unframed messages.
import { ENVOY_YAML, allListenersEphemeral } from "../mesh-config.ts";
import type { Host } from "../../host/index.ts";
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

export interface ThriftMesh {
  port: number;
  servers: Record<Subset, ThriftServer>;
  host: Host;
  /** Waits until counter `name` has grown by at least n since `base` (counters flush on a tick). */
  waitForCounter(name: string, base: number, n: number): Promise<number>;
  stat(name: string): number;
  close(): Promise<void>;
}

export async function startThriftMesh(
  transport: TransportName, protocol: ProtocolName, pluginConfig?: string,
  serverOptions: Pick<ThriftServerOptions, "responseHeaders"> = {},
): Promise<ThriftMesh> {
  const { startHost } = await import("../../host/index.ts");
  const servers = {} as Record<Subset, ThriftServer>;
  try {
    for (const s of Object.keys(CLUSTERS) as Subset[]) servers[s] = await startThriftServer({ ...serverOptions, version: s, transport, protocol });
    const host = await startHost({
      configPath: ENVOY_YAML, // unchanged: only endpoints and ports are overridden
      endpoints: Object.fromEntries((Object.keys(CLUSTERS) as Subset[]).map((s) => [CLUSTERS[s], [{ host: "127.0.0.1", port: servers[s].port }]])),
      listenerPorts: allListenersEphemeral(),
      adminPort: 0,
      ...(pluginConfig ? { pluginConfig: { [LISTENER]: pluginConfig } } : {}),
    });
    return {
      port: host.listeners[LISTENER].port,
      servers,
      host,
      stat: (name) => host.stats().get(name) ?? 0,
      waitForCounter: async (name, base, n) => (await host.waitForStat(name, (v) => v - base >= n, 5000)) - base,
      close: async () => {
        await host.close();
        for (const s of Object.values(servers)) await s.close();
      },
    };
  } catch (e) {
    for (const s of Object.values(servers)) await s.close();
    throw e;
  }
}

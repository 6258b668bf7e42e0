// Starts the Dubbo side of envoy-dev/envoy.yaml: one provider per cluster of the dubbo_outbound
// listener and a proxy (the local host or real Envoy) running build/dubbo.wasm, every cluster's
// endpoints pointed at those providers, every port picked by the OS. Used by the e2e tests, the
// demo and the benchmark, so all of them exercise exactly the demo rules a user reads in envoy.yaml.
import { ENVOY_YAML, allListenersEphemeral, pluginConfigOf } from "../mesh-config.ts";
// Type-only: erased at run time, so the peers still load without the proxies.
import type { Proxy, ProxyKind } from "../../proxy/index.ts";
export type { Proxy, ProxyKind };
import { startDubboProvider, type DubboProvider } from "../dubbo-provider.ts";

export const LISTENER = "dubbo_outbound";
const SVC = "dubbo-demo.default.svc.cluster.local";
export const CLUSTERS = {
  default: `outbound|20880||${SVC}`,
  v1: `outbound|20880|v1|${SVC}`,
  v2: `outbound|20880|v2|${SVC}`,
} as const;
export type Subset = keyof typeof CLUSTERS;
/** The demo's stat prefix as /stats/prometheus shows it: metaprotocol.dubbo_demo.* -> metaprotocol_dubbo_demo_*. */
export const STATS = "metaprotocol_dubbo_demo_";

/** The dubbo_outbound plugin configuration exactly as written in envoy.yaml. */
export function demoPluginConfig(): Record<string, any> { return pluginConfigOf(LISTENER); }

export interface DubboMesh {
  proxy: Proxy;
  /** The dubbo_outbound listener port: where consumers connect. */
  port: number;
  address: string;
  /** One provider per cluster; the default cluster's provider answers as "default". */
  providers: Record<Subset, DubboProvider>;
  /** A series of /stats/prometheus (e.g. metaprotocol_dubbo_demo_request_total), 0 if absent. */
  stat(series: string): Promise<number>;
  /** Tracks a counter from now on: the module flushes counters on a tick, so wait for them. */
  counter(series: string): Promise<CounterWatch>;
  /** Evidence of a failed VM (trap, abort, failed callback) in the proxy's log. */
  vmFailures(): string[];
  close(): Promise<void>;
}

export interface CounterWatch {
  /** Increase since the watch started, as of now. */
  delta(): Promise<number>;
  /** Waits until the increase is at least `n` (rejects after timeoutMs) and returns the increase. */
  waitFor(n: number, timeoutMs?: number): Promise<number>;
}

export interface MeshOptions {
  /** Which proxy runs the module (default: the local host). */
  proxy?: ProxyKind;
  /** Replaces the plugin configuration of envoy.yaml (JSON text). */
  pluginConfig?: string;
  /** Lets proxy.reconfigure() replace the plugin configuration (Envoy: delivered by ECDS). */
  reconfigurable?: boolean;
  /** Envoy worker threads (default 2). */
  concurrency?: number;
  /** tcp_proxy without upstream_connect_mode (Envoy < 1.37): connects at accept. */
  legacyTcpProxy?: boolean;
  envoyBin?: string;
  /** Provider log lines, e.g. console.log for the demo. */
  log?: (line: string) => void;
}

export async function startDubboMesh(opts: MeshOptions = {}): Promise<DubboMesh> {
  const providers = {} as Record<Subset, DubboProvider>;
  try {
    for (const subset of Object.keys(CLUSTERS) as Subset[]) {
      const tag = `provider ${subset}`;
      providers[subset] = await startDubboProvider({
        version: subset, log: opts.log ? (l) => opts.log!(`[${tag}] ${l}`) : undefined,
      });
    }
    const front = await startDubboProxy(Object.fromEntries((Object.keys(CLUSTERS) as Subset[]).map(
      (s) => [s, { host: "127.0.0.1", port: providers[s].port }])) as Record<Subset, Endpoint>, opts);
    return {
      ...front, providers,
      close: async () => {
        await front.close();
        for (const p of Object.values(providers)) await p.close();
      },
    };
  } catch (e) {
    for (const p of Object.values(providers)) await p.close();
    throw e;
  }
}

export interface Endpoint { host: string; port: number }

/** The mesh minus the providers: what a mesh of providers started elsewhere (Java peers) uses. */
export type DubboProxyMesh = Omit<DubboMesh, "providers">;

/**
 * The proxy alone, every cluster of dubbo_outbound pointed at the given endpoint (providers the
 * caller runs, e.g. the Java peers of tests/peers). Closing it leaves the providers running.
 */
export async function startDubboProxy(endpoints: Record<Subset, Endpoint>, opts: MeshOptions = {}): Promise<DubboProxyMesh> {
  // Imported lazily so that the peers work (and their tests run) without the proxies.
  const { startProxy } = await import("../../proxy/index.ts");
  const proxy = await startProxy(opts.proxy ?? "local", {
    configPath: ENVOY_YAML, // unchanged: only endpoints and ports are overridden
    endpoints: Object.fromEntries((Object.keys(CLUSTERS) as Subset[]).map((s) => [CLUSTERS[s], [endpoints[s]]])),
    listenerPorts: allListenersEphemeral(),
    ...(opts.pluginConfig ? { pluginConfig: { [LISTENER]: opts.pluginConfig } } : {}),
    ...(opts.reconfigurable ? { reconfigurable: [LISTENER] } : {}),
    concurrency: opts.concurrency, envoyBin: opts.envoyBin, legacyTcpProxy: opts.legacyTcpProxy,
  });
  const port = proxy.listeners[LISTENER].port;
  return {
    proxy, port, address: `127.0.0.1:${port}`,
    stat: (s) => proxy.stat(s),
    counter: async (s) => {
      const base = await proxy.stat(s);
      return {
        delta: async () => (await proxy.stat(s)) - base,
        waitFor: async (n, timeoutMs = 5000) => (await proxy.waitForStat(s, (v) => v - base >= n, timeoutMs)) - base,
      };
    },
    vmFailures: () => proxy.vmFailures(),
    close: () => proxy.close(),
  };
}

// Starts the Dubbo side of envoy-dev/envoy.yaml in-process: one provider per cluster of the
// dubbo_outbound listener and the local host running build/dubbo.wasm, every cluster's
// endpoints pointed at those providers, every port picked by the OS. Used by the e2e tests
// and the demo, so both exercise exactly the demo rules a user reads in envoy.yaml.
import { ENVOY_YAML, allListenersEphemeral, pluginConfigOf } from "../mesh-config.ts";
// Type-only: erased at run time, so the peers still load without the host.
import type { Host } from "../../host/index.ts";
export type { Host };
import { startDubboProvider, type DubboProvider } from "../dubbo-provider.ts";

export const LISTENER = "dubbo_outbound";
/** The host's counter of VM failures for the dubbo plugin (name = envoy.yaml's config.name). */
export const VM_FAILED_STAT = "wasm.plugin.metaprotocol-dubbo.vm_failed";
const SVC = "dubbo-demo.default.svc.cluster.local";
export const CLUSTERS = {
  default: `outbound|20880||${SVC}`,
  v1: `outbound|20880|v1|${SVC}`,
  v2: `outbound|20880|v2|${SVC}`,
} as const;
export type Subset = keyof typeof CLUSTERS;

/** The dubbo_outbound plugin configuration exactly as written in envoy.yaml. */
export function demoPluginConfig(): Record<string, any> { return pluginConfigOf(LISTENER); }

export interface DubboMesh {
  host: Host;
  /** The dubbo_outbound listener port: where consumers connect. */
  port: number;
  address: string;
  /** One provider per cluster; the default cluster's provider answers as "default". */
  providers: Record<Subset, DubboProvider>;
  /** A counter or gauge by its Envoy name (e.g. metaprotocol.dubbo_demo.request_total), 0 if absent. */
  stat(name: string): number;
  /** Tracks a counter from now on: the module flushes counters on a tick, so wait for them. */
  counter(name: string): CounterWatch;
  /** Evidence of a failed VM (trap, abort, failed callback) in the host's logs and stats. */
  vmFailures(): string[];
  close(): Promise<void>;
}

export interface CounterWatch {
  /** Increase since the watch started, as of now. */
  delta(): number;
  /** Waits until the increase is at least `n` (rejects after timeoutMs) and returns the increase. */
  waitFor(n: number, timeoutMs?: number): Promise<number>;
}

// What a failed Wasm VM leaves behind: log lines about traps/aborts ("Wasm VM failed: ..."), and
// the host's wasm.plugin.<name>.vm_failed / fail_closed / fail_open counters. Matched loosely on
// purpose: a false alarm is visible, a miss is not.
const VM_FAILURE_LOG = /\btrap|unreachable|\babort|vm (has )?failed|failed vm|wasm.*(crash|panic)|RuntimeError/i;

export interface MeshOptions {
  /** Replaces the plugin configuration of envoy.yaml (JSON text). */
  pluginConfig?: string;
  /** Provider log lines, e.g. console.log for the demo. */
  log?: (line: string) => void;
}

export async function startDubboMesh(opts: MeshOptions = {}): Promise<DubboMesh> {
  // Imported lazily so that the peers work (and their tests run) without the host.
  const { startHost } = await import("../../host/index.ts");
  const providers = {} as Record<Subset, DubboProvider>;
  try {
    for (const subset of Object.keys(CLUSTERS) as Subset[]) {
      const tag = `provider ${subset}`;
      providers[subset] = await startDubboProvider({
        version: subset, log: opts.log ? (l) => opts.log!(`[${tag}] ${l}`) : undefined,
      });
    }
    const endpoints = Object.fromEntries((Object.keys(CLUSTERS) as Subset[]).map(
      (s) => [CLUSTERS[s], [{ host: "127.0.0.1", port: providers[s].port }]]));
    const host = await startHost({
      configPath: ENVOY_YAML, // unchanged: only endpoints and ports are overridden
      endpoints,
      listenerPorts: allListenersEphemeral(),
      adminPort: 0,
      ...(opts.pluginConfig ? { pluginConfig: { [LISTENER]: opts.pluginConfig } } : {}),
    });
    const port = host.listeners[LISTENER].port;
    return {
      host, port, address: `127.0.0.1:${port}`, providers,
      stat: (name) => host.stats().get(name) ?? 0,
      counter: (name) => {
        const base = host.stats().get(name) ?? 0;
        return {
          delta: () => (host.stats().get(name) ?? 0) - base,
          waitFor: async (n, timeoutMs = 5000) => (await host.waitForStat(name, (v) => v - base >= n, timeoutMs)) - base,
        };
      },
      vmFailures: () => [
        ...host.logs.filter((l) => VM_FAILURE_LOG.test(l)),
        ...[...host.stats()].filter(([k, v]) => /fail/i.test(k) && /wasm|vm/i.test(k) && v > 0).map(([k, v]) => `${k}: ${v}`),
      ],
      close: async () => {
        await host.close();
        for (const p of Object.values(providers)) await p.close();
      },
    };
  } catch (e) {
    for (const p of Object.values(providers)) await p.close();
    throw e;
  }
}

// Starts the Dubbo side of envoy-dev/envoy.yaml in-process: one provider per cluster of the
// dubbo_outbound listener and the local host running build/dubbo.wasm, every cluster's
// endpoints pointed at those providers, every port picked by the OS. Used by the e2e tests
// and the demo, so both exercise exactly the demo rules a user reads in envoy.yaml.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { startDubboProvider, type DubboProvider } from "../dubbo-provider.ts";

export const ENVOY_YAML = fileURLToPath(new URL("../../envoy.yaml", import.meta.url));
export const LISTENER = "dubbo_outbound";
const SVC = "dubbo-demo.default.svc.cluster.local";
export const CLUSTERS = {
  default: `outbound|20880||${SVC}`,
  v1: `outbound|20880|v1|${SVC}`,
  v2: `outbound|20880|v2|${SVC}`,
} as const;
export type Subset = keyof typeof CLUSTERS;

/** The dubbo_outbound plugin configuration exactly as written in envoy.yaml. */
export function demoPluginConfig(): Record<string, any> {
  const doc = parse(readFileSync(ENVOY_YAML, "utf8"));
  const listener = doc.static_resources.listeners.find((l: any) => l.name === LISTENER);
  const wasm = listener.filter_chains[0].filters.find((f: any) => f.name === "envoy.filters.network.wasm");
  return JSON.parse(wasm.typed_config.config.configuration.value);
}

/**
 * envoy.yaml reduced to the dubbo_outbound listener and its clusters, otherwise unchanged.
 * The host starts every listener of a file, and the thrift one would need build/thrift.wasm
 * and its fixed port 9090: the Dubbo tests and demo must depend on dubbo.wasm alone.
 */
function writeDubboOnlyConfig(): { path: string; remove(): void } {
  const doc = parse(readFileSync(ENVOY_YAML, "utf8"));
  const clusters = new Set<string>(Object.values(CLUSTERS));
  doc.static_resources.listeners = doc.static_resources.listeners.filter((l: any) => l.name === LISTENER);
  doc.static_resources.clusters = doc.static_resources.clusters.filter((c: any) => clusters.has(c.name));
  const dir = mkdtempSync(join(tmpdir(), "dubbo-mesh-"));
  const path = join(dir, "envoy.yaml");
  writeFileSync(path, stringify(doc));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The shape of envoy-dev/host's startHost() that this project relies on. */
export interface Host {
  listeners: Record<string, { port: number }>;
  adminPort: number;
  logs: string[];
  stats(): Map<string, number>;
  prometheus(): string;
  waitForStat(name: string, pred: (v: number) => boolean, timeoutMs?: number): Promise<number>;
  reconfigure(listener: string, json: string): boolean;
  close(): Promise<void>;
}

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

// What a failed Wasm VM leaves behind: Envoy's "wasm log" lines about traps/aborts, and the
// wasm.*failed* stats. Matched loosely on purpose: a false alarm is visible, a miss is not.
const VM_FAILURE_LOG = /\btrap|unreachable|\babort|vm (has )?failed|failed vm|wasm.*(crash|panic)|RuntimeError/i;

export interface MeshOptions {
  /** Replaces the plugin configuration of envoy.yaml (JSON text). */
  pluginConfig?: string;
  /** Provider log lines, e.g. console.log for the demo. */
  log?: (line: string) => void;
}

export async function startDubboMesh(opts: MeshOptions = {}): Promise<DubboMesh> {
  // Imported lazily so that the peers work (and their tests run) without the host.
  const { startHost } = (await import("../../host/index.ts")) as unknown as {
    startHost(o: Record<string, unknown>): Promise<Host>;
  };
  const providers = {} as Record<Subset, DubboProvider>;
  const config = writeDubboOnlyConfig();
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
      configPath: config.path,
      endpoints,
      listenerPorts: { [LISTENER]: 0 },
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
        config.remove();
      },
    };
  } catch (e) {
    for (const p of Object.values(providers)) await p.close();
    config.remove();
    throw e;
  }
}

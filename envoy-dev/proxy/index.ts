// The proxy under test: the local host (envoy-dev/host, a fast in-process double) or real Envoy
// (envoy.ts), behind one interface so every end-to-end test runs in both. Both are read the same
// way, over their admin HTTP endpoint, so the names a test asserts are the names users see.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { startHost, type Host } from "../host/index.ts";
import { startEnvoy, logTail, runningEnvoys, type RealEnvoy } from "./envoy.ts";
import { parsePrometheus } from "./prometheus.ts";

export type ProxyKind = "local" | "envoy";

/** Which proxies the suites run in: PROXIES=local,envoy (default both). */
export function proxyKinds(): ProxyKind[] {
  const v = (process.env.PROXIES ?? "local,envoy").split(",").map((s) => s.trim()).filter(Boolean);
  for (const k of v) if (k !== "local" && k !== "envoy") throw new Error(`PROXIES: unknown proxy "${k}" (local, envoy)`);
  return v as ProxyKind[];
}

export interface ProxyOptions {
  configPath: string;
  endpoints?: Record<string, { host: string; port: number }[]>;
  listenerPorts?: Record<string, number>;
  pluginConfig?: Record<string, string>;
  wasmDir?: string;
  /** Listeners whose plugin configuration reconfigure() may replace (Envoy: delivered by ECDS). */
  reconfigurable?: string[];
  /** Envoy worker threads (default 2). The local host has one event loop; shared data is real in both. */
  concurrency?: number;
  /** Envoy binary (default: the pinned release, installed on first use). */
  envoyBin?: string;
  /** Envoy component log levels, e.g. "wasm:debug". */
  componentLogLevel?: string;
  /**
   * tcp_proxy as Envoy < 1.37 has it: upstream_connect_mode and max_early_data_bytes removed
   * (it connects at accept). Pair it with the plugin config's bindOn: CONNECTION.
   */
  legacyTcpProxy?: boolean;
  /** Module log lines as they come (local host only; Envoy writes them to its log file). */
  onLog?: (level: number, line: string) => void;
}

export interface Proxy {
  kind: ProxyKind;
  /** "local host" or "Envoy 1.40.0". */
  name: string;
  listeners: Record<string, { port: number }>;
  adminPort: number;
  /** Log lines so far, module logs included. */
  logs(): string[];
  /** Every series of /stats/prometheus: `name` or `name{label="v",...}` -> value. */
  stats(): Promise<Map<string, number>>;
  /** One series of /stats/prometheus (0 if absent). */
  stat(series: string): Promise<number>;
  prometheus(): Promise<string>;
  waitForStat(series: string, predicate: (v: number) => boolean, timeoutMs?: number): Promise<number>;
  /** A new plugin configuration for a listener: Envoy by ECDS, the host by a new root. False if refused. */
  reconfigure(listener: string, pluginConfigJson: string): Promise<boolean>;
  /** Evidence of a failed Wasm VM (trap, abort, failed callback) in the logs. */
  vmFailures(): string[];
  /** The local host itself, for what only it can tell (ABI call counts); null in Envoy. */
  local: Host | null;
  envoy: RealEnvoy | null;
  close(): Promise<void>;
}

// What a failed Wasm VM leaves in the log, in Envoy ("Wasm VM failed", "Function: proxy_on_... failed")
// and in the local host, on lines that name Wasm (Envoy's own start-up lines list extensions such
// as "abort_action"). Matched loosely on purpose: a false alarm is visible, a miss is not.
const VM_FAILURE_LOG = /\btrap|unreachable|\babort|vm (has )?failed|failed vm|wasm.*(crash|panic)|RuntimeError|Function: proxy_on_\w+ failed/i;

export async function startProxy(kind: ProxyKind, opts: ProxyOptions): Promise<Proxy> {
  const o = opts.legacyTcpProxy ? { ...opts, configPath: withLegacyTcpProxy(opts.configPath) } : opts;
  if (kind === "local") {
    const host = await startHost({
      configPath: o.configPath, endpoints: o.endpoints, listenerPorts: o.listenerPorts, adminPort: 0,
      pluginConfig: o.pluginConfig, wasmDir: o.wasmDir, onLog: o.onLog,
    });
    return wrap("local", "local host", host.listeners, host.adminPort, () => host.logs, {
      local: host, envoy: null,
      reconfigure: async (l, json) => host.reconfigure(l, json),
      close: () => host.close(),
    });
  }
  const e = await startEnvoy({
    configPath: o.configPath, endpoints: o.endpoints, listenerPorts: o.listenerPorts, adminPort: 0,
    pluginConfig: o.pluginConfig, wasmDir: o.wasmDir ?? new URL("../../build", import.meta.url).pathname,
    ecdsListeners: o.reconfigurable, concurrency: o.concurrency, bin: o.envoyBin, componentLogLevel: o.componentLogLevel,
  });
  return wrap("envoy", `Envoy ${e.version}`, e.listeners, e.adminPort, e.logs, {
    local: null, envoy: e,
    reconfigure: (l, json) => e.reconfigure(l, json),
    close: () => e.close(),
  });
}

function wrap(kind: ProxyKind, name: string, listeners: Proxy["listeners"], adminPort: number, logs: () => string[],
  rest: Pick<Proxy, "local" | "envoy" | "reconfigure" | "close">): Proxy {
  const prometheus = async () => {
    const r = await fetch(`http://127.0.0.1:${adminPort}/stats/prometheus`);
    if (r.status !== 200) throw new Error(`${name}: /stats/prometheus answered ${r.status}`);
    return r.text();
  };
  const stats = async () => parsePrometheus(await prometheus());
  const p: Proxy = {
    kind, name, listeners, adminPort, logs, prometheus, stats, ...rest,
    stat: async (s) => (await stats()).get(s) ?? 0,
    async waitForStat(series, predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = (await stats()).get(series) ?? 0;
        if (predicate(v)) return v;
        if (Date.now() >= deadline) throw new Error(`${name}: waitForStat(${series}) timed out after ${timeoutMs} ms, value ${v}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    vmFailures: () => logs().filter((l) => /wasm/i.test(l) && VM_FAILURE_LOG.test(l)),
  };
  return p;
}

/** A copy of the bootstrap whose tcp_proxy filters lack the fields Envoy 1.37 added. */
function withLegacyTcpProxy(path: string): string {
  const boot = parse(readFileSync(path, "utf8"));
  for (const l of boot.static_resources?.listeners ?? []) {
    for (const chain of l.filter_chains ?? []) {
      for (const f of chain.filters ?? []) {
        if (f.name !== "envoy.filters.network.tcp_proxy") continue;
        delete f.typed_config.upstream_connect_mode;
        delete f.typed_config.max_early_data_bytes;
      }
    }
  }
  const out = join(mkdtempSync(join(tmpdir(), "metaprotocol-legacy-")), "envoy.yaml");
  writeFileSync(out, stringify(boot));
  return out;
}

/** Log tails of every real Envoy still running: appended to a failing test's message. */
export function envoyLogTails(lines = 40): string {
  return [...runningEnvoys].map((e) => `--- Envoy ${e.version} log tail (${e.logFile}) ---\n${logTail(e, lines)}`).join("\n");
}

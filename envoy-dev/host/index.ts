// The local host: runs the listeners, Wasm network filters and clusters of an envoy.yaml
// with Envoy's semantics, for development and tests. Never a production proxy.
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import type { Server as HttpServer } from "node:http";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startAdmin } from "./admin.ts";
import { ClusterManager } from "./cluster.ts";
import { loadConfig, type ListenerConfig } from "./config.ts";
import { Connection } from "./connection.ts";
import { GrpcClient } from "./grpc.ts";
import { Plugin, VmRegistry, VmSlot } from "./plugin.ts";
import { SharedData } from "./shared-data.ts";
import { StatsStore } from "./stats.ts";
import { TcpProxy } from "./tcp-proxy.ts";
import { errText, type VmEnv } from "./vm.ts";
import { WasmNetworkFilter } from "./wasm-filter.ts";
import { checkSignatures } from "./wasm-signatures.ts";
import { withMemoryCap } from "./memory-cap.ts";

export { ConfigError } from "./config.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface HostOptions {
  configPath: string;
  wasmDir?: string;
  endpoints?: Record<string, { host: string; port: number }[]>;
  listenerPorts?: Record<string, number>;
  adminPort?: number;
  pluginConfig?: Record<string, string>;
  onLog?: (level: number, message: string) => void;
  /** Module log lines below this level are dropped, as Envoy's logger does (default 2 = info). */
  logLevel?: number;
  /** Bind address for listeners and admin (default 127.0.0.1: a development tool stays local). */
  bindAddress?: string;
}

export interface Host {
  listeners: Record<string, { port: number }>;
  adminPort: number;
  logs: string[];
  stats(): Map<string, number>;
  prometheus(): string;
  waitForStat(name: string, predicate: (v: number) => boolean, timeoutMs?: number): Promise<number>;
  reconfigure(listener: string, pluginConfigJson: string): boolean;
  /** Calls per ABI function name (host imports and module callbacks) since start: for benchmarks. */
  abiCalls(): Map<string, number>;
  close(): Promise<void>;
}

function makeEnv(logs: string[], onLog: HostOptions["onLog"], logLevel: number, stats = new StatsStore(), shared = new SharedData()): VmEnv {
  return {
    stats, shared, logLevel, abiCalls: new Map(),
    log(level, line) {
      logs.push(line);
      if (logs.length > 10000) logs.splice(0, logs.length - 10000);
      try { onLog?.(level, line); } catch { /* a caller's logger must not break the host */ }
    },
  };
}

export async function startHost(opts: HostOptions): Promise<Host> {
  const cfg = loadConfig(opts.configPath);
  for (const name of [...Object.keys(opts.listenerPorts ?? {}), ...Object.keys(opts.pluginConfig ?? {})]) {
    if (!cfg.listeners.some((l) => l.name === name)) throw new Error(`no listener named ${name} in ${opts.configPath}`);
  }
  const logs: string[] = [];
  const env = makeEnv(logs, opts.onLog, opts.logLevel ?? 2);
  const stats = env.stats;
  stats.setTagExtraction(cfg.statsTags, cfg.useAllDefaultTags);
  const statsFlush = setInterval(() => stats.flushHistograms(), cfg.statsFlushMs);
  statsFlush.unref();
  const clusters = new ClusterManager(cfg.clusters, opts.endpoints, stats);
  env.grpc = new GrpcClient(clusters);
  const registry = new VmRegistry(env);
  const wasmDir = opts.wasmDir ?? join(REPO, "build");
  const bind = opts.bindAddress ?? "127.0.0.1";
  const servers: Server[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const plugins = new Map<string, Plugin>();
  let admin: HttpServer | null = null;

  const closeAll = async () => {
    clearInterval(statsFlush);
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (admin) { admin.closeAllConnections(); await new Promise<void>((r) => admin!.close(() => r())); }
    for (const p of plugins.values()) p.shutdown();
    registry.dispose();
    env.grpc?.close();
  };

  try {
    for (const l of cfg.listeners) {
      if (!l.wasm) continue;
      const file = join(wasmDir, basename(l.wasm.filename));
      let code: Buffer;
      try { code = await readFile(file); } catch (e) {
        throw new Error(`listener ${l.name}: cannot read Wasm module ${file} (code.local.filename ${l.wasm.filename}): ${errText(e)}`);
      }
      const before = logs.length;
      let slot: VmSlot;
      try { slot = await registry.slot(code, l.wasm.vmId, l.wasm.vmConfiguration); } catch (e) {
        throw new Error(`listener ${l.name}: ${errText(e)}${logTail(logs, before)}`);
      }
      const plugin = new Plugin(slot, l.wasm, l.wasm.failurePolicy, env);
      const why = plugin.startRoot(opts.pluginConfig?.[l.name] ?? l.wasm.configuration);
      if (why) throw new Error(`listener ${l.name}: plugin ${l.wasm.pluginName}: ${why}${logTail(logs, before)}`);
      plugins.set(l.name, plugin);
    }
    const ports: Record<string, { port: number }> = {};
    for (const l of cfg.listeners) {
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        accept(socket, l);
      });
      servers.push(server);
      const port = opts.listenerPorts?.[l.name] ?? l.port;
      await new Promise<void>((resolve, reject) => {
        server.once("error", (e) => reject(new Error(`listener ${l.name}: cannot listen on ${bind}:${port}: ${errText(e)}`)));
        server.listen(port, bind, () => resolve());
      });
      ports[l.name] = { port: (server.address() as import("node:net").AddressInfo).port };
    }
    let adminPort = 0;
    if (cfg.admin || opts.adminPort !== undefined) {
      const port = opts.adminPort ?? cfg.admin!.port;
      try { admin = await startAdmin(bind, port, stats, clusters); } catch (e) {
        throw new Error(`admin: cannot listen on ${bind}:${port}: ${errText(e)}`);
      }
      adminPort = (admin.address() as import("node:net").AddressInfo).port;
    }

    function accept(socket: import("node:net").Socket, l: ListenerConfig): void {
      const conn = new Connection(socket, l.bufferLimit);
      const plugin = plugins.get(l.name);
      if (plugin) {
        const f = new WasmNetworkFilter(plugin, conn);
        conn.addReadFilter(f);
        conn.addWriteFilter(f);
      }
      conn.addReadFilter(new TcpProxy(conn, l.tcpProxy, clusters, stats, (level, line) => env.log(level, line)));
      conn.start();
    }

    return {
      listeners: ports,
      adminPort,
      logs,
      stats: () => stats.snapshot(),
      prometheus: () => stats.prometheus(),
      waitForStat(name, predicate, timeoutMs = 5000) {
        return new Promise((resolve, reject) => {
          const deadline = Date.now() + timeoutMs;
          const check = () => {
            const v = stats.snapshot().get(name) ?? 0;
            if (predicate(v)) return resolve(v);
            if (Date.now() >= deadline) return reject(new Error(`waitForStat(${name}): timed out after ${timeoutMs} ms, value ${v}`));
            setTimeout(check, 10);
          };
          check();
        });
      },
      reconfigure(listener, json) {
        const p = plugins.get(listener);
        if (!p) throw new Error(`reconfigure: listener ${listener} has no Wasm filter`);
        const why = p.startRoot(json);
        if (why) env.log(3, `[warning] [${p.info.name}] configuration update refused, the previous one keeps serving: ${why}`);
        return why === null;
      },
      abiCalls: () => new Map(env.abiCalls),
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

function logTail(logs: string[], from: number): string {
  const lines = logs.slice(from);
  return lines.length ? `\nmodule log:\n${lines.join("\n")}` : "";
}

/** Loads the module in a fresh VM and runs vm_start + configure: for config acceptance tests. */
export async function tryConfigure(wasmPath: string, pluginConfigJson: string, rootId = ""): Promise<{ accepted: boolean; logs: string[] }> {
  const code = await readFile(wasmPath);
  const module = await WebAssembly.compile(withMemoryCap(code) as Uint8Array<ArrayBuffer>);
  checkSignatures(code);
  return configureOnce(module, wasmPath, pluginConfigJson, rootId);
}

/** tryConfigure on an already compiled module, synchronously (the controller's pre-apply check). */
export function configureOnce(module: WebAssembly.Module, filename: string, pluginConfigJson: string, rootId = ""): { accepted: boolean; logs: string[] } {
  const logs: string[] = [];
  const env = makeEnv(logs, undefined, 0);
  const slot = new VmSlot(module, "try-configure", "", env);
  const plugin = new Plugin(slot, {
    pluginName: rootId || "try-configure", rootId, vmId: "try-configure", runtime: "envoy.wasm.runtime.v8",
    filename, configuration: pluginConfigJson, vmConfiguration: "", failurePolicy: "FAIL_CLOSED", reloadBaseMs: 1000,
  }, "FAIL_CLOSED", env);
  const why = plugin.startRoot(pluginConfigJson);
  if (why) logs.push(`[host] ${why}`);
  plugin.shutdown();
  slot.vm.dispose();
  return { accepted: why === null, logs };
}

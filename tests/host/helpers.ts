// Shared helpers for the local host tests: fixture compilation, loopback echo upstreams,
// a small client, and envoy.yaml generation.
import { spawnSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync, existsSync, mkdtempSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { startProxy, type Proxy, type ProxyKind, type ProxyOptions } from "../../envoy-dev/proxy/index.ts";

export const ROOT = new URL("../..", import.meta.url).pathname;
const FIXTURES = join(ROOT, "tests/fixtures/host");
export const WASM_DIR = join(tmpdir(), "metaprotocol-host-fixtures");

/**
 * Compiles <dir>/<name>.ts (default tests/fixtures/host) to <WASM_DIR>/<name>.wasm (cached by
 * mtime). tests/host/fixtures holds probes owned by these tests.
 */
export function compileFixture(name: string, opts: { defaultAbort?: boolean } = {}): string {
  mkdirSync(WASM_DIR, { recursive: true });
  const src = join(FIXTURES, `${name}.ts`);
  const out = join(WASM_DIR, `${name}.wasm`);
  if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs) return out;
  const args = [src, "--config", join(FIXTURES, "asconfig.json"), "--outFile", out];
  if (!opts.defaultAbort) args.push("--use", `abort=${relative(ROOT, src).replace(/\.ts$/, "")}/onAbort`);
  const r = spawnSync(join(ROOT, "node_modules/.bin/asc"), args, { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`asc ${name} failed:\n${r.stdout}${r.stderr}`);
  return out;
}

export interface Upstream { port: number; server: Server; accepted: number; close(): Promise<void> }

/** An echo server; with a tag, every echoed chunk is prefixed so a test can tell who served. */
export async function echoServer(tag = ""): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const up: Upstream = {
    port: 0, accepted: 0, server: null as unknown as Server,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); up.server.close(() => r()); }),
  };
  up.server = createServer((s) => {
    up.accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    s.on("data", (d) => s.write(tag ? Buffer.concat([Buffer.from(tag), d]) : d));
  });
  await new Promise<void>((r) => up.server.listen(0, "127.0.0.1", () => r()));
  up.port = (up.server.address() as { port: number }).port;
  return up;
}

export interface Client {
  socket: Socket;
  received(): Buffer;
  closed: Promise<void>;
  waitFor(pred: (b: Buffer) => boolean, timeoutMs?: number): Promise<Buffer>;
  send(b: string | Buffer): void;
}

export async function client(port: number): Promise<Client> {
  const socket = connect({ port, host: "127.0.0.1" });
  socket.on("error", () => {});
  let buf = Buffer.alloc(0);
  const waiters = new Set<() => void>();
  socket.on("data", (d) => { buf = Buffer.concat([buf, d]); for (const w of waiters) w(); });
  const closedP = new Promise<void>((r) => socket.on("close", () => { r(); for (const w of waiters) w(); }));
  // Bounded: a test waiting for a close that never comes fails instead of hanging.
  const closed = Promise.race([closedP, new Promise<void>((_, reject) => {
    setTimeout(() => reject(new Error(`connection not closed within 5 s; got ${JSON.stringify(buf.toString())}`)), 5000).unref();
  })]);
  closed.catch(() => {});
  await new Promise<void>((r, j) => { socket.once("connect", () => r()); socket.once("error", j); });
  return {
    socket, closed,
    received: () => buf,
    send: (b) => { socket.write(b); },
    waitFor(pred, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pred(buf)) { cleanup(); resolve(buf); }
          else if (socket.destroyed) { cleanup(); reject(new Error(`connection closed; got ${JSON.stringify(buf.toString())}`)); }
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`timeout; got ${JSON.stringify(buf.toString())}`)); }, timeoutMs);
        const cleanup = () => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
  };
}

export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

export function tmpYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "host-yaml-"));
  const p = join(dir, "envoy.yaml");
  writeFileSync(p, text);
  return p;
}

export interface ListenerSpec {
  name?: string;
  wasm?: string; // file name under WASM_DIR
  config?: string;
  failurePolicy?: string;
  /** reload_config.backoff.base_interval in ms (FAIL_RELOAD). */
  reloadBaseMs?: number;
  cluster?: string;
  connectMode?: "IMMEDIATE" | "ON_DOWNSTREAM_DATA";
  vmId?: string;
}

/** One listener (wasm + tcp_proxy, or tcp_proxy only) and STATIC clusters. */
export function yamlFor(l: ListenerSpec, clusters: Record<string, number[]>, adminPort = 0, statsFlushMs?: number): string {
  const name = l.name ?? "probe";
  const wasm = l.wasm ? `
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config:
            name: ${name}-plugin
            root_id: ${name}-root
            vm_config:
              vm_id: ${l.vmId ?? name + "-vm"}
              runtime: envoy.wasm.runtime.v8
              code: { local: { filename: /etc/envoy/wasm/${l.wasm} } }
            failure_policy: ${l.failurePolicy ?? "FAIL_CLOSED"}${l.reloadBaseMs ? `
            reload_config: { backoff: { base_interval: ${l.reloadBaseMs / 1000}s } }` : ""}
            configuration:
              "@type": type.googleapis.com/google.protobuf.StringValue
              value: ${JSON.stringify(l.config ?? "")}` : "";
  const mode = l.connectMode ?? "ON_DOWNSTREAM_DATA";
  const cl = Object.entries(clusters).map(([n, ports]) => `
  - name: ${JSON.stringify(n)}
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: ${JSON.stringify(n)}
      endpoints:
      - lb_endpoints:${ports.map((p) => `
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }`).join("")}`).join("");
  return `${statsFlushMs ? `stats_flush_interval: ${statsFlushMs / 1000}s\n` : ""}admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } }
static_resources:
  listeners:
  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:${wasm}
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: ${name}_tcp
          cluster: ${JSON.stringify(l.cluster ?? Object.keys(clusters)[0])}
          upstream_connect_mode: ${mode}${mode === "ON_DOWNSTREAM_DATA" ? "\n          max_early_data_bytes: 65536" : ""}
  clusters:${cl}
`;
}

/** Log lines of a proxy (a function) or of the local host (an array). */
export function logsOf(p: { logs: string[] | (() => string[]) }): string[] {
  return typeof p.logs === "function" ? p.logs() : p.logs;
}

/** Waits (bounded) until a log line containing `needle` appears. */
export async function waitLog(p: { logs: string[] | (() => string[]) }, needle: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!logsOf(p).some((l) => l.includes(needle))) {
    if (Date.now() > deadline) throw new Error(`log line "${needle}" not seen; logs:\n${logsOf(p).slice(-40).join("\n")}`);
    await sleep(10);
  }
}

/** The module's own log lines (what it passed to proxy_log), without either proxy's prefix. */
export function moduleLines(p: { logs: string[] | (() => string[]) }, needle: string): string[] {
  return logsOf(p).map((l) => { const i = l.indexOf(needle); return i < 0 ? null : l.slice(i); }).filter((l): l is string => l !== null);
}

/** A proxy of `kind` running `yaml` (from yamlFor), modules from WASM_DIR. */
export function proxyWith(kind: ProxyKind, yaml: string, extra: Partial<ProxyOptions> = {}): Promise<Proxy> {
  return startProxy(kind, { configPath: tmpYaml(yaml), wasmDir: WASM_DIR, ...extra });
}

/** Polls a condition every 10 ms, at most timeoutMs. */
export async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

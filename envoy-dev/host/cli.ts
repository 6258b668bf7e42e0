// Command line for the local host:
//   npm run host -- -c envoy-dev/envoy.yaml --endpoint '<cluster>=127.0.0.1:20881' \
//     --port dubbo_outbound=20880 --admin-port 9901 --wasm-dir build [--log-level debug]
// Prints the listening ports and runs until SIGINT/SIGTERM.
import { parseArgs } from "node:util";
import { LOG_LEVEL_NAMES } from "./abi.ts";
import { startHost, type HostOptions } from "./index.ts";

const USAGE = `usage: npm run host -- -c <envoy.yaml> [--endpoint <cluster>=<host>:<port>]... [--port <listener>=<port>]...
       [--admin-port <port>] [--wasm-dir <dir>] [--plugin-config <listener>=<json>]... [--log-level trace|debug|info|warn|error]`;

function die(msg: string): never {
  console.error(`host: ${msg}\n${USAGE}`);
  process.exit(2);
}

function splitPair(v: string, what: string): [string, string] {
  const i = v.lastIndexOf("=");
  if (i <= 0) die(`${what} "${v}": expected <name>=<value>`);
  return [v.slice(0, i), v.slice(i + 1)];
}

function port(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) die(`${what}: "${v}" is not a port`);
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      config: { type: "string", short: "c" },
      endpoint: { type: "string", multiple: true },
      port: { type: "string", multiple: true },
      "admin-port": { type: "string" },
      "wasm-dir": { type: "string" },
      "plugin-config": { type: "string", multiple: true },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (e) { die((e as Error).message); }
const v = parsed.values;
if (v.help) { console.log(USAGE); process.exit(0); }
if (!v.config) die("-c <envoy.yaml> is required");

const endpoints: NonNullable<HostOptions["endpoints"]> = {};
for (const e of v.endpoint ?? []) {
  // Cluster names contain '|' but never '='; the address is host:port.
  const [cluster, addr] = splitPair(e, "--endpoint");
  const i = addr.lastIndexOf(":");
  if (i <= 0) die(`--endpoint "${e}": expected <cluster>=<host>:<port>`);
  (endpoints[cluster] ??= []).push({ host: addr.slice(0, i), port: port(addr.slice(i + 1), "--endpoint") });
}
const listenerPorts: Record<string, number> = {};
for (const p of v.port ?? []) { const [l, n] = splitPair(p, "--port"); listenerPorts[l] = port(n, "--port"); }
const pluginConfig: Record<string, string> = {};
for (const p of v["plugin-config"] ?? []) {
  const i = p.indexOf("=");
  if (i <= 0) die(`--plugin-config "${p}": expected <listener>=<json>`);
  pluginConfig[p.slice(0, i)] = p.slice(i + 1);
}
const logLevel = v["log-level"] === undefined ? 2 : LOG_LEVEL_NAMES.indexOf(v["log-level"] === "warning" ? "warn" : v["log-level"]);
if (logLevel < 0) die(`--log-level "${v["log-level"]}": expected one of ${LOG_LEVEL_NAMES.join(", ")}`);

try {
  const host = await startHost({
    configPath: v.config,
    wasmDir: v["wasm-dir"],
    endpoints,
    listenerPorts,
    adminPort: v["admin-port"] === undefined ? undefined : port(v["admin-port"], "--admin-port"),
    pluginConfig,
    logLevel,
    onLog: (_level, line) => console.log(line),
  });
  for (const [name, l] of Object.entries(host.listeners)) console.log(`host: listener ${name} on 127.0.0.1:${l.port}`);
  if (host.adminPort) console.log(`host: admin on http://127.0.0.1:${host.adminPort} (/stats, /stats/prometheus, /ready, /clusters)`);
  console.log("host: running; Ctrl-C to stop (a development tool, never a production proxy)");
  const stop = async () => { await host.close(); process.exit(0); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (e) {
  console.error(`host: ${(e as Error).message}`);
  process.exit(1);
}

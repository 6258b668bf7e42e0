// `npm run bench:host`: requests per second through the local host for pipelined Dubbo calls on one
// connection, with and without dubbo.wasm, for rule sets that need more and more parsing.
// The upstream is a minimal Dubbo responder so that the numbers measure the proxy, not a
// provider. Each scenario runs BENCH_ROUNDS times (default 7) after a warm-up and reports the
// median and the range. BENCH_REQUESTS (default 40000), BENCH_WINDOW (default 64) and
// BENCH_ONLY (a substring of a scenario name) tune it.
import { createServer, connect, type Server, type Socket } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import YAML from "yaml";
import { startHost } from "../host/index.ts";
import { envCount } from "./env.ts";

const require = createRequire(import.meta.url);
const hessian = require("hessian.js");
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENVOY_YAML = join(ROOT, "envoy-dev", "envoy.yaml");
const TOTAL = envCount("BENCH_REQUESTS", 40000);
const WINDOW = envCount("BENCH_WINDOW", 64);
const ROUNDS = envCount("BENCH_ROUNDS", 7);
const HOST = "dubbo-demo.default.svc.cluster.local";
const V1 = `outbound|20880|v1|${HOST}`;

function requestFrame(method: string, attachments: Record<string, string>): Buffer {
  const enc = new hessian.EncoderV2();
  for (const v of ["2.0.2", "org.apache.dubbo.samples.DemoService", "", method, "Ljava/lang/String;", "alice", attachments]) enc.write(v);
  const body = enc.get();
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0xdabb, 0); h[2] = 0xc2; h.writeUInt32BE(body.length, 12);
  return Buffer.concat([h, body]);
}

/** Answers every request frame with a small value response carrying the same id. */
function startResponder(): Promise<{ server: Server; port: number }> {
  const enc = new hessian.EncoderV2(); enc.write(1); enc.write("ok");
  const body = enc.get();
  const server = createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on("data", (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      const out: Buffer[] = [];
      let pos = 0;
      while (buf.length - pos >= 16) {
        const len = 16 + buf.readUInt32BE(pos + 12);
        if (buf.length - pos < len) break;
        const h = Buffer.alloc(16);
        h.writeUInt16BE(0xdabb, 0); h[2] = (buf[pos + 2] & 0x20) | 0x02; h[3] = 20;
        buf.copy(h, 4, pos + 4, pos + 12);
        h.writeUInt32BE(body.length, 12);
        out.push(h, body);
        pos += len;
      }
      buf = buf.subarray(pos);
      if (out.length) s.write(Buffer.concat(out));
    });
    s.on("error", () => {});
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r({ server, port: (server.address() as any).port })));
}

/** Pipelines TOTAL requests over one connection, WINDOW in flight. */
function drive(port: number, frame: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(port, "127.0.0.1");
    let sent = 0, received = 0, buf = Buffer.alloc(0);
    const start = process.hrtime.bigint();
    const send = (n: number) => {
      const parts: Buffer[] = [];
      for (let i = 0; i < n && sent < TOTAL; i++, sent++) {
        const f = Buffer.from(frame);
        f.writeBigUInt64BE(BigInt(sent + 1), 4);
        parts.push(f);
      }
      if (parts.length) sock.write(Buffer.concat(parts));
    };
    sock.on("connect", () => send(WINDOW));
    sock.on("data", (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let pos = 0, got = 0;
      while (buf.length - pos >= 16) {
        const len = 16 + buf.readUInt32BE(pos + 12);
        if (buf.length - pos < len) break;
        if (buf[pos + 3] !== 20) return reject(new Error(`status ${buf[pos + 3]}`));
        pos += len; got++;
      }
      buf = buf.subarray(pos);
      received += got;
      if (received >= TOTAL) {
        const secs = Number(process.hrtime.bigint() - start) / 1e9;
        sock.destroy();
        resolve(TOTAL / secs);
      } else send(got);
    });
    sock.on("error", reject);
  });
}

/** Host calls the module made per data callback, over the whole run: the Envoy-independent cost. */
function hostCallsPerCallback(calls: Map<string, number>): string {
  let callbacks = 0, hostCalls = 0;
  for (const [name, n] of calls) {
    if (name === "proxy_on_downstream_data" || name === "proxy_on_upstream_data") callbacks += n;
    else if (!name.startsWith("proxy_on_") && name !== "malloc") hostCalls += n;
  }
  return callbacks ? `${(hostCalls / callbacks).toFixed(2)} host calls/callback` : "";
}

interface Scenario { name: string; withFilter: boolean; config?: object; frame: Buffer }

const plain = requestFrame("sayHello", { path: "org.apache.dubbo.samples.DemoService" });
const tenant = requestFrame("sayHello", { path: "org.apache.dubbo.samples.DemoService", "x-tenant": "acme" });
const scenarios: Scenario[] = [
  { name: "tcp_proxy only, no filter (baseline)", withFilter: false, frame: plain },
  { name: "dubbo.wasm, one default route (header only)", withFilter: true, frame: plain,
    config: { services: [{ name: HOST, defaultCluster: V1 }] } },
  { name: "dubbo.wasm, method route (reads interface/method)", withFilter: true, frame: plain,
    config: { services: [{ name: HOST, routes: [{ name: "m", match: { attributes: { method: { exact: "sayHello" } } }, route: [{ cluster: V1, weight: 1 }] }] }] } },
  { name: "dubbo.wasm, attachment match (skips arguments)", withFilter: true, frame: tenant,
    config: { services: [{ name: HOST, routes: [{ name: "t", match: { attributes: { "x-tenant": { exact: "acme" } } }, route: [{ cluster: V1, weight: 1 }] }] }] } },
  { name: "dubbo.wasm, + request and response mutation", withFilter: true, frame: tenant,
    config: { services: [{ name: HOST, routes: [{ name: "t", match: { attributes: { "x-tenant": { exact: "acme" } } }, route: [{ cluster: V1, weight: 1 }],
      requestMutation: [{ key: "x-canary", value: "true" }], responseMutation: [{ key: "x-route", value: "t" }] }] }] } },
];

/** envoy.yaml with the Wasm filter removed from the Dubbo listener: the baseline. */
function baselineYaml(dir: string): string {
  const doc = YAML.parse(readFileSync(ENVOY_YAML, "utf8"));
  for (const l of doc.static_resources.listeners) {
    for (const fc of l.filter_chains) fc.filters = fc.filters.filter((f: any) => f.name !== "envoy.filters.network.wasm");
  }
  const p = join(dir, "envoy-baseline.yaml");
  writeFileSync(p, YAML.stringify(doc));
  return p;
}

async function main() {
  const up = await startResponder();
  const dir = mkdtempSync(join(tmpdir(), "mpw-bench-"));
  const endpoints: Record<string, { host: string; port: number }[]> = {};
  for (const sub of ["", "v1", "v2"]) endpoints[`outbound|20880|${sub}|${HOST}`] = [{ host: "127.0.0.1", port: up.port }];
  for (const sub of ["", "v1", "v2"]) endpoints[`outbound|9090|${sub}|thrift-demo.default.svc.cluster.local`] = [{ host: "127.0.0.1", port: up.port }];
  console.log(`pipelined Dubbo calls on one connection: ${TOTAL} requests x ${ROUNDS} rounds, ${WINDOW} in flight, frames of ${plain.length}/${tenant.length} bytes; median (min..max)`);
  try {
    const only = process.env.BENCH_ONLY ? scenarios.filter((s) => s.name.includes(process.env.BENCH_ONLY!)) : scenarios;
    for (const s of only) {
      const host = await startHost({
        configPath: s.withFilter ? ENVOY_YAML : baselineYaml(dir), endpoints, adminPort: 0,
        listenerPorts: { dubbo_outbound: 0, thrift_outbound: 0 },
        pluginConfig: s.config ? { dubbo_outbound: JSON.stringify(s.config) } : undefined,
      });
      try {
        await drive(host.listeners.dubbo_outbound.port, s.frame); // warm-up (JIT, buffers)
        const runs: number[] = [];
        for (let i = 0; i < ROUNDS; i++) runs.push(await drive(host.listeners.dubbo_outbound.port, s.frame));
        runs.sort((a, b) => a - b);
        const k = (n: number) => `${Math.round(n / 1000)}k`;
        console.log(`${s.name.padEnd(52)} ${k(runs[runs.length >> 1]).padStart(6)} req/s  (${k(runs[0])}..${k(runs[runs.length - 1])})${s.withFilter ? "  " + hostCallsPerCallback(host.abiCalls()) : ""}`);
      } finally { await host.close(); }
    }
  } finally {
    up.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });

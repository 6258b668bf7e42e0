// `npm run bench`: pipelined Dubbo calls over many connections through REAL Envoy
// (--concurrency 1: one worker), for rule sets that need more and more of each frame, against
// tcp_proxy alone and against Envoy's native generic_proxy with its Dubbo codec (the C++ design
// Aeraki's MetaProtocol Proxy descends from). Load comes from a Go load generator (with the
// upstream responder in the same process, so the load side and Envoy get a core each); the same
// load run with no proxy shows the load side's own ceiling. For every scenario: requests/s,
// p50/p99 latency, Envoy's CPU per request (from /proc/<pid>/stat), medians of rounds, and ratios
// to tcp_proxy alone. Saturated, latency is mostly queueing behind the window, so each scenario
// also runs at a fixed rate far below saturation (open loop, one request at a time per
// connection): p50/p99 there, minus tcp_proxy alone's, is the latency the filter adds.
// BENCH_ROUNDS (5), BENCH_SECONDS (3), BENCH_CONNS (16), BENCH_WINDOW (16), BENCH_RATE (2000
// requests/s in all; 0 skips the fixed-rate runs), BENCH_RATE_ROUNDS (3), BENCH_ONLY (substrings
// of scenario names, "|" between them) tune it. BENCH_COMPARE_MODULES=<dir> runs every dubbo.wasm
// scenario a second time with <dir>/dubbo.wasm, in the same rounds (an A/B of two builds).
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { startEnvoy, type RealEnvoy } from "../proxy/envoy.ts";
import { dubboloadBinary } from "./build-load.ts";
import { requestFrame } from "./frames.ts";
import { genericProxy } from "./generic-proxy.ts";
import { floorWasm } from "./inprocess/builds.ts";
import { envCount } from "./env.ts";
import { startGrpcOk, type GrpcOk } from "./grpc-ok.ts";
import { startRateLimitService, type RateLimitService } from "../services/ratelimit.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const ENVOY_YAML = join(REPO, "envoy-dev", "envoy.yaml");
const ROUNDS = envCount("BENCH_ROUNDS", 5);
const SECONDS = envCount("BENCH_SECONDS", 3);
const CONNS = envCount("BENCH_CONNS", 16);
const WINDOW = envCount("BENCH_WINDOW", 16);
const RATE = envCount("BENCH_RATE", 2000, 0);
const RATE_ROUNDS = envCount("BENCH_RATE_ROUNDS", 3);
const HOST = "dubbo-demo.default.svc.cluster.local";
const V1 = `outbound|20880|v1|${HOST}`;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s

/** gRPC services a scenario's module calls: a collector stand-in (grpc-ok.ts), envoyproxy/ratelimit + Redis. */
type Callee = "otel" | "rls" | "rls-ok";
/** tcp: no Wasm filter; floor: the read-only floor module (what any Wasm network filter costs). */
interface Scenario { name: string; kind: "tcp" | "floor" | "wasm" | "generic"; config?: object; frame: Buffer; callees?: Callee[]; wasmDir?: string }

const plain = requestFrame("sayHello", {});
const tenant = requestFrame("sayHello", { "x-tenant": "acme" });
const method = { method: { exact: "sayHello" } };
// The frames carry a caller's traceparent (an instrumented consumer); here the caller did not sample.
const unsampled = requestFrame("sayHello", { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" });
const defaultRoute = { name: HOST, defaultCluster: V1 };
const otlp = (extra: object = {}) => ({ collectorCluster: "otel", serviceName: "bench", ...extra });
const globalLimit = (cluster: string) => ({ domain: "bench", rateLimitService: cluster, requestTimeout: "1s", descriptors: [{ property: "method", descriptorKey: "method" }] });
const SCENARIOS: Scenario[] = [
  { name: "tcp_proxy alone", kind: "tcp", frame: plain },
  // A Wasm network filter that parses nothing: Envoy's cost of calling into V8 and copying each
  // read into module memory. What the modules below add beyond it is their own work.
  { name: "floor.wasm (reads every byte, parses nothing)", kind: "floor", frame: plain },
  { name: "dubbo.wasm default route (header only)", kind: "wasm", frame: plain, config: { services: [{ name: HOST, defaultCluster: V1 }] } },
  { name: "dubbo.wasm method route", kind: "wasm", frame: plain,
    config: { services: [{ name: HOST, routes: [{ name: "m", match: { attributes: method }, route: [{ cluster: V1, weight: 1 }] }] }] } },
  { name: "dubbo.wasm attachment route", kind: "wasm", frame: tenant,
    config: { services: [{ name: HOST, routes: [{ name: "t", match: { attributes: { "x-tenant": { exact: "acme" } } }, route: [{ cluster: V1, weight: 1 }] }] }] } },
  { name: "dubbo.wasm attachment route + mutations", kind: "wasm", frame: tenant,
    config: { services: [{ name: HOST, routes: [{ name: "t", match: { attributes: { "x-tenant": { exact: "acme" } } }, route: [{ cluster: V1, weight: 1 }],
      requestMutation: [{ key: "x-canary", value: "true" }], responseMutation: [{ key: "x-route", value: "t" }] }] }] } },
  { name: "generic_proxy + dubbo codec (native C++)", kind: "generic", frame: plain },
  // Observability and the global limit, each added to the default route (compare with its row).
  { name: "default route + tracing, caller sampled (span, traceparent rewritten)", kind: "wasm", frame: plain, callees: ["otel"],
    config: { services: [defaultRoute], tracing: otlp() } },
  { name: "default route + tracing, caller not sampled (no span, no rewrite)", kind: "wasm", frame: unsampled, callees: ["otel"],
    config: { services: [defaultRoute], tracing: otlp() } },
  { name: "default route + access log (every request)", kind: "wasm", frame: plain, callees: ["otel"],
    config: { services: [defaultRoute], accessLog: otlp() } },
  { name: "default route + latency histogram", kind: "wasm", frame: plain, config: { services: [defaultRoute], latencyHistogram: true } },
  { name: "default route + global rate limit (envoyproxy/ratelimit + Redis, every request)", kind: "wasm", frame: plain, callees: ["rls"],
    config: { services: [{ ...defaultRoute, globalRateLimit: globalLimit("rls") }] } },
  { name: "default route + global rate limit (a stand-in answering OK at once, every request)", kind: "wasm", frame: plain, callees: ["rls-ok"],
    config: { services: [{ ...defaultRoute, globalRateLimit: globalLimit("rls-ok") }] } },
];

/** envoy.yaml's Dubbo listener as each scenario needs it: the Wasm filter kept or removed, or generic_proxy. */
function bootstrapFor(s: Scenario, dir: string, callees: Record<Callee, number>): string {
  const doc = YAML.parse(readFileSync(ENVOY_YAML, "utf8"));
  const l = doc.static_resources.listeners.find((x: any) => x.name === "dubbo_outbound");
  doc.static_resources.listeners = [l];
  const chain = l.filter_chains[0];
  if (s.kind === "tcp") chain.filters = chain.filters.filter((f: any) => f.name !== "envoy.filters.network.wasm");
  if (s.kind === "generic") chain.filters = [genericProxy(V1)];
  if (s.kind === "floor") {
    const wasm = chain.filters.find((f: any) => f.name === "envoy.filters.network.wasm");
    wasm.typed_config.config.vm_config.code.local.filename = "floor.wasm";
  }
  for (const c of s.callees ?? []) {
    doc.static_resources.clusters.push({
      name: c, type: "STATIC", connect_timeout: "1s",
      typed_extension_protocol_options: { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config: { http2_protocol_options: {} } } },
      load_assignment: { cluster_name: c, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: callees[c] } } } }] }] },
    });
  }
  const p = join(dir, `envoy-${s.kind}-${(s.callees ?? []).join("-")}.yaml`);
  writeFileSync(p, YAML.stringify(doc));
  return p;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => { const p = (s.address() as any).port; s.close(() => resolve(p)); });
  });
}

interface LoadResult { requests: number; errors: number; seconds: number; rps: number; p50us: number; p99us: number; cpuSeconds: number }

/** One run of the load generator; with `rate`, open loop at that many requests/s in all. */
function load(bin: string, frame: Buffer, respondPort: number, target: string | null, rate = 0): Promise<LoadResult> {
  const args = ["-frame", frame.toString("hex"), "-respond", `127.0.0.1:${respondPort}`, "-conns", String(CONNS),
    "-window", String(WINDOW), "-duration", `${SECONDS}s`, "-warmup", "1s", ...(target ? ["-target", target] : ["-direct"]),
    ...(rate > 0 ? ["-rate", String(rate)] : [])];
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GOMAXPROCS: "1" } });
    let out = "", err = "";
    p.stdout.on("data", (d) => { out += d; });
    p.stderr.on("data", (d) => { err += d; });
    p.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`dubboload exited ${code}: ${err.trim()}`));
      try { resolve(JSON.parse(out)); } catch { reject(new Error(`dubboload printed ${out}`)); }
    });
  });
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of stat)
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

export async function runEnvoyBench(): Promise<void> {
  const bin = dubboloadBinary();
  const dir = mkdtempSync(join(tmpdir(), "mpw-envoy-bench-"));
  const port = await freePort();
  const endpoints: Record<string, { host: string; port: number }[]> = {};
  for (const sub of ["", "v1", "v2"]) endpoints[`outbound|20880|${sub}|${HOST}`] = [{ host: "127.0.0.1", port }];
  // BENCH_ONLY: substrings of scenario names, "|" between them; tcp_proxy alone and the floor always run (the bases).
  const wanted = process.env.BENCH_ONLY?.split("|");
  const floorDir = dirname(floorWasm());
  let only = wanted ? SCENARIOS.filter((s) => s.kind === "tcp" || s.kind === "floor" || wanted.some((w) => s.name.includes(w))) : SCENARIOS;
  const compare = process.env.BENCH_COMPARE_MODULES;
  if (compare) only = only.flatMap((s) => s.kind === "wasm" ? [s, { ...s, name: `${s.name} [${compare}]`, wasmDir: compare }] : [s]);
  const needs = new Set(only.flatMap((s) => s.callees ?? []));
  let otel: GrpcOk | null = null, rls: RateLimitService | null = null, rlsOk: GrpcOk | null = null;
  if (needs.has("otel")) otel = await startGrpcOk();
  if (needs.has("rls-ok")) rlsOk = await startGrpcOk(Buffer.from([0x08, 0x01])); // RateLimitResponse{overall_code: OK}
  if (needs.has("rls")) rls = await startRateLimitService({ rules: { domain: "bench", descriptors: [{ key: "method", rate_limit: { unit: "second", requests_per_unit: 1_000_000_000 } }] } });
  const callees = { otel: otel?.port ?? 0, rls: rls?.grpcPort ?? 0, "rls-ok": rlsOk?.port ?? 0 };
  try {
    const direct: LoadResult[] = [];
    for (let i = 0; i < ROUNDS; i++) direct.push(await load(bin, plain, port, null));
    const ceiling = median(direct.map((r) => r.rps));
    let envoyVersion = "";
    const rows: string[] = [];
    let baseRps = 0, baseCpu = 0, baseP99 = 0;
    const paced: string[] = [];
    // Every scenario's Envoy runs at once (one loaded at a time), and the rounds go round the
    // scenarios, so that a busy machine slows them alike: the ratios hold even when times drift.
    type Round = { rps: number; p50: number; p99: number; cpuUs: number; loadCpu: number; errors: number };
    const runs: { s: Scenario; envoy: RealEnvoy | null; target: string; rounds: Round[]; paced: LoadResult[]; failed: string }[] = [];
    try {
      for (const s of only) {
        const run = { s, envoy: null as RealEnvoy | null, target: "", rounds: [] as Round[], paced: [] as LoadResult[], failed: "" };
        runs.push(run);
        try {
          run.envoy = await startEnvoy({
            configPath: bootstrapFor(s, dir, callees), endpoints, listenerPorts: { dubbo_outbound: 0 }, adminPort: 0, concurrency: 1,
            wasmDir: s.kind === "floor" ? floorDir : s.wasmDir ?? join(REPO, "build"), logLevel: "warning",
            pluginConfig: s.config ? { dubbo_outbound: JSON.stringify(s.config) } : undefined,
          });
          envoyVersion = run.envoy.version;
          run.target = `127.0.0.1:${run.envoy.listeners.dubbo_outbound.port}`;
        } catch (e) { run.failed = (e as Error).message.split("\n")[0]; }
      }
      for (let i = 0; i < ROUNDS; i++) {
        for (const run of runs) {
          if (run.failed) continue;
          try {
            const t0 = cpuTicks(run.envoy!.pid);
            const r = await load(bin, run.s.frame, port, run.target);
            // Envoy's CPU over the whole run (warm-up included) per request of the whole run.
            const ticks = cpuTicks(run.envoy!.pid) - t0;
            const total = r.requests * (1 + 1 / SECONDS); // the 1 s warm-up at about the same rate
            run.rounds.push({ rps: r.rps, p50: r.p50us, p99: r.p99us, cpuUs: (ticks / CLK_TCK) * 1e6 / total, loadCpu: r.cpuSeconds / r.seconds, errors: r.errors });
          } catch (e) { run.failed = (e as Error).message.split("\n")[0]; }
        }
        console.error(`envoy bench: round ${i + 1}/${ROUNDS} done`);
      }
      for (let i = 0; RATE > 0 && i < RATE_ROUNDS; i++) {
        for (const run of runs) {
          if (run.failed) continue;
          try { run.paced.push(await load(bin, run.s.frame, port, run.target, RATE)); } catch (e) { run.failed = (e as Error).message.split("\n")[0]; }
        }
      }
      let paceBase: { p50: number; p99: number } | null = null;
      for (const { s, envoy, rounds, paced: pr, failed } of runs) {
        if (failed) { rows.push(`| ${s.name} | failed: ${failed} |`); continue; }
        const m = { rps: median(rounds.map((r) => r.rps)), p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)),
          cpuUs: median(rounds.map((r) => r.cpuUs)), loadCpu: median(rounds.map((r) => r.loadCpu)), errors: rounds.reduce((a, r) => a + r.errors, 0) };
        if (s.kind === "tcp") { baseRps = m.rps; baseCpu = m.cpuUs; baseP99 = m.p99; }
        const ratio = baseRps ? `${(m.rps / baseRps).toFixed(2)}x` : "-";
        const cpuRatio = baseCpu ? `${(m.cpuUs / baseCpu).toFixed(2)}x` : "-";
        const added = baseRps && s.kind !== "tcp" ? `${(m.p99 - baseP99).toFixed(0)}` : "-";
        let note = m.errors ? ` ${m.errors} errors` : "";
        if (s.kind === "generic") {
          const st = await envoy!.admin("/stats?filter=upstream_(cx|rq)_total");
          const v = (k: string) => Number(new RegExp(`${V1.replace(/\|/g, "\\|")}\\.${k}: (\\d+)`).exec(st)?.[1] ?? 0);
          note += ` (${v("upstream_cx_total")} upstream connections for ${v("upstream_rq_total")} requests)`;
        }
        if (RATE > 0) {
          const pm = { p50: median(pr.map((r) => r.p50us)), p99: median(pr.map((r) => r.p99us)), rps: median(pr.map((r) => r.rps)), errors: pr.reduce((a, r) => a + r.errors, 0) };
          if (s.kind === "tcp") paceBase = pm;
          const add = (v: number, b: number | undefined) => paceBase && s.kind !== "tcp" ? `${(v - b!).toFixed(0)}` : "-";
          paced.push(`| ${s.name} | ${Math.round(pm.rps)} | ${pm.p50.toFixed(0)} | ${pm.p99.toFixed(0)} | ${add(pm.p50, paceBase?.p50)} | ${add(pm.p99, paceBase?.p99)} |${pm.errors ? ` ${pm.errors} errors` : ""}`);
        }
        rows.push(`| ${s.name} | ${Math.round(m.rps / 1000)}k (${Math.round(Math.min(...rounds.map((r) => r.rps)) / 1000)}k..${Math.round(Math.max(...rounds.map((r) => r.rps)) / 1000)}k) | ${ratio} | ${m.p50.toFixed(0)} | ${m.p99.toFixed(0)} | ${added} | ${m.cpuUs.toFixed(2)} | ${cpuRatio} | ${Math.round(m.loadCpu * 100)}% |${note}`);
      }
    } finally { for (const run of runs) await run.envoy?.close(); }
    console.log(`Envoy ${envoyVersion}, --concurrency 1; ${CONNS} connections x ${WINDOW} pipelined Dubbo requests of ${plain.length}/${tenant.length} bytes; ` +
      `${ROUNDS} rounds of ${SECONDS} s, medians (min..max of req/s).`);
    console.log(`Load side alone (Go load generator + responder, one core, no proxy): ${Math.round(ceiling / 1000)}k req/s.`);
    console.log("");
    console.log("| scenario | req/s | vs tcp_proxy | p50 us | p99 us | p99 added us | Envoy CPU us/req | CPU vs tcp_proxy | load-side CPU |");
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) console.log(r);
    if (RATE > 0) {
      console.log("");
      console.log(`Fixed rate: ${RATE} requests/s in all over the ${CONNS} connections, one request at a time per connection (open loop, ` +
        `latency from the write of each request to its answer); ${RATE_ROUNDS} rounds of ${SECONDS} s, medians.`);
      console.log("");
      console.log("| scenario | req/s | p50 us | p99 us | p50 added us | p99 added us |");
      console.log("|---|---|---|---|---|---|");
      for (const r of paced) console.log(r);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await otel?.close();
    await rls?.close();
    await rlsOk?.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) runEnvoyBench().catch((e) => { console.error(e); process.exit(1); });

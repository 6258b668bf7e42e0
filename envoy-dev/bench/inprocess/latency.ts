// The latency a module adds to one request: the time of the data callback that carries it. The
// filter never holds a whole frame back (it decides as the frame is read), so in Envoy the only
// delay it adds is that callback's run time, collections included. Envoy on a shared machine
// cannot resolve tens of microseconds (the load side alone has a p99 of about a millisecond), so
// this measures the callbacks in-process, with the same V8 and optimizing tier as Envoy, one
// request or response per callback (no batching to amortize anything), over a population of
// connections that keep opening and closing so that collections happen as they would.
//
// Run: `npm run bench:latency` (builds first). Knobs: LATENCY_CALLS (default 200,000),
// LATENCY_CONNECTIONS (open at once, default 1,000), LATENCY_CHURN (a connection is replaced every
// N calls, default 50).
import { InProcessProxy, type InProcessConnection } from "../../inprocess/driver.ts";
import { REPO, floorWasm } from "./builds.ts";
import { CLUSTER, loadBatches } from "./scenarios.ts";
import { join } from "node:path";
import { envCount } from "../env.ts";

const CALLS = envCount("LATENCY_CALLS", 200_000);
const CONNECTIONS = envCount("LATENCY_CONNECTIONS", 1000);
const CHURN = envCount("LATENCY_CHURN", 50);

const batch = loadBatches().find((b) => b.name === "dubbo hessian2 echoOrder")!;
const req = batch.requests[0], rsp = batch.responses[0];
const svc = (extra: object) => JSON.stringify({ statPrefix: "lat", services: [{ name: "bench.default.svc.cluster.local", ...extra }] });
const route = (attributes: object, extra: object = {}) => ({ name: "r", match: { attributes }, route: [{ cluster: CLUSTER, weight: 1 }], ...extra });

const CASES: { name: string; wasm: string; config: string }[] = [
  { name: "floor: read-only module", wasm: floorWasm(), config: "{}" },
  { name: "dubbo.wasm method route", wasm: join(REPO, "build/dubbo.wasm"), config: svc({ routes: [route({ method: { exact: "echoOrder" } })] }) },
  { name: "dubbo.wasm attachment route + mutations", wasm: join(REPO, "build/dubbo.wasm"),
    config: svc({ routes: [route({ "x-tenant": { exact: "acme" } }, { requestMutation: [{ key: "x-canary", value: "true" }], responseMutation: [{ key: "x-route", value: "r" }] })] }) },
];

function pct(sorted: Float64Array, p: number): number { return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]; }

function run(c: (typeof CASES)[number]): { down: Float64Array; up: Float64Array; ms: number } {
  const p = InProcessProxy.start({ wasm: c.wasm, config: c.config });
  const conns: InProcessConnection[] = [];
  const open = () => { const k = p.connect(); k.downstream(req); k.takeUpstream(); k.upstream(rsp); k.takeClient(); return k; };
  for (let i = 0; i < CONNECTIONS; i++) conns.push(open());
  const down = new Float64Array(CALLS), up = new Float64Array(CALLS);
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const k = conns[i % CONNECTIONS];
    let t = performance.now();
    k.downstream(req);
    down[i] = performance.now() - t;
    k.takeUpstream();
    t = performance.now();
    k.upstream(rsp);
    up[i] = performance.now() - t;
    k.takeClient();
    if (i % CHURN === CHURN - 1) { const j = (i / CHURN) % CONNECTIONS | 0; conns[j].close(); conns[j] = open(); }
  }
  const ms = performance.now() - t0;
  if (p.failed) throw new Error(`${c.name}: the VM failed: ${p.failReason}`);
  p.dispose();
  down.sort(); up.sort();
  return { down, up, ms };
}

const us = (ms: number) => (ms * 1000).toFixed(1);
console.log(`## Latency per callback (in-process)\n`);
console.log(`Node ${process.version} (V8 ${process.versions.v8}, --no-liftoff); ${CALLS} calls of hessian2 echoOrder (request ${req.length} B, response ${rsp.length} B), one per callback, over ${CONNECTIONS} open connections, one replaced every ${CHURN} calls. Times include the local host's JavaScript glue; the floor module's row shows it.\n`);
console.log("| case | request p50 us | p99 | p99.9 | max | response p50 us | p99 | p99.9 | max |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const c of CASES) {
  const r = run(c);
  const row = (a: Float64Array) => [pct(a, 0.5), pct(a, 0.99), pct(a, 0.999), a[a.length - 1]].map(us).join(" | ");
  console.log(`| ${c.name} | ${row(r.down)} | ${row(r.up)} |`);
}

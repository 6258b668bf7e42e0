// The admin endpoint over real HTTP: module metrics in /stats and /stats/prometheus the way
// Envoy renders them, host stats with Envoy's tags, /ready, /clusters.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHost } from "../../envoy-dev/host/index.ts";
import { compileFixture, echoServer, client, tmpYaml, yamlFor, waitLog, WASM_DIR, type Upstream } from "./helpers.ts";

let up: Upstream;
before(async () => { compileFixture("probe"); up = await echoServer(); });
after(async () => { await up.close(); });

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

test("module metrics and host stats in /stats and /stats/prometheus; /ready; /clusters", async () => {
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "tick lifecycle", cluster: "outbound|20880|v1|demo.svc.cluster.local" },
      { "outbound|20880|v1|demo.svc.cluster.local": [up.port] })),
    wasmDir: WASM_DIR, adminPort: 0,
  });
  try {
    const c = await client(host.listeners.probe.port);
    c.send("a"); await c.waitFor((b) => b.length >= 1);
    c.send("bb"); await c.waitFor((b) => b.length >= 3);
    c.socket.end(); // FIN: Envoy delivers end_stream as a third, empty on_downstream_data
    await waitLog(host, "probe: on_log");
    await host.waitForStat("probe.ticks", (v) => v >= 2);

    const stats = await get(host.adminPort, "/stats");
    assert.equal(stats.status, 200);
    assert.match(stats.body, /^probe\.data_calls: 3$/m);
    assert.doesNotMatch(stats.body, /wasmcustom/);
    assert.match(stats.body, /^cluster\.outbound\|20880\|v1\|demo\.svc\.cluster\.local\.upstream_cx_total: 1$/m);

    const prom = await get(host.adminPort, "/stats/prometheus");
    assert.equal(prom.status, 200);
    assert.match(prom.body, /^# TYPE probe_data_calls counter\nprobe_data_calls\{\} 3$/m);
    assert.match(prom.body, /^probe_data_size_bucket\{le="0.5"\} 1\nprobe_data_size_bucket\{le="1"\} 2$/m);
    assert.match(prom.body, /^probe_data_size_count\{\} 3$/m);
    assert.match(prom.body, /^envoy_cluster_upstream_cx_total\{envoy_cluster_name="outbound\|20880\|v1\|demo\.svc\.cluster\.local"\} 1$/m);
    assert.match(prom.body, /^envoy_tcp_downstream_cx_total\{envoy_tcp_prefix="probe_tcp"\} 1$/m);
    assert.equal(prom.body, host.prometheus());

    assert.deepEqual(await get(host.adminPort, "/ready"), { status: 200, body: "LIVE\n" });
    const clusters = await get(host.adminPort, "/clusters");
    assert.match(clusters.body, new RegExp(`^outbound\\|20880\\|v1\\|demo\\.svc\\.cluster\\.local::127\\.0\\.0\\.1:${up.port}::`, "m"));
    assert.equal((await get(host.adminPort, "/nope")).status, 404);
  } finally { await host.close(); }
});

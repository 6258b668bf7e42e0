// tcp_proxy picks its cluster when it connects: the module's set_envoy_filter_state decides
// which upstream serves; ON_DOWNSTREAM_DATA connects only on data; unknown clusters close.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHost } from "../../envoy-dev/host/index.ts";
import { compileFixture, echoServer, client, tmpYaml, yamlFor, waitLog, until, WASM_DIR, sleep, type Upstream } from "./helpers.ts";

let a: Upstream, b: Upstream;
before(async () => { compileFixture("probe"); a = await echoServer("A:"); b = await echoServer("B:"); });
after(async () => { await a.close(); await b.close(); });

const clusters = () => ({ "outbound|1||a.local": [a.port], "outbound|1|v2|b.local": [b.port] });

test("set_envoy_filter_state(envoy.tcp_proxy.cluster) picks the cluster tcp_proxy connects to", async () => {
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "pause-new route properties" }, clusters())),
    wasmDir: WASM_DIR,
  });
  try {
    const c1 = await client(host.listeners.probe.port);
    c1.send("outbound|1|v2|b.local\nping\n");
    assert.equal((await c1.waitFor((x) => x.length >= 7)).toString(), "B:ping\n");
    const c2 = await client(host.listeners.probe.port);
    c2.send("outbound|1||a.local\npong\n");
    assert.equal((await c2.waitFor((x) => x.length >= 7)).toString(), "A:pong\n");
    await waitLog(host, "probe: cluster after set=");
    assert.ok(host.logs.some((l) => l.includes("probe: route outbound|1|v2|b.local status=0")));
    const stats = host.stats();
    assert.equal(stats.get("cluster.outbound|1|v2|b.local.upstream_cx_total"), 1);
    assert.equal(stats.get("cluster.outbound|1||a.local.upstream_cx_total"), 1);
    c1.socket.destroy(); c2.socket.destroy();
  } finally { await host.close(); }
});

test("ON_DOWNSTREAM_DATA: no upstream connection before the first byte", async () => {
  const before = a.accepted;
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "pause-new route" }, clusters())),
    wasmDir: WASM_DIR,
  });
  try {
    const c = await client(host.listeners.probe.port);
    await sleep(150);
    assert.equal(a.accepted, before, "connected before any data");
    assert.equal(host.stats().get("cluster.outbound|1||a.local.upstream_cx_total"), 0);
    c.send("outbound|1||a.local\nx\n");
    await c.waitFor((x) => x.toString() === "A:x\n");
    assert.equal(a.accepted, before + 1);
    c.socket.destroy();
  } finally { await host.close(); }
});

test("a cluster that does not exist: the downstream is closed and downstream_cx_no_route counted", async () => {
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "pause-new route" }, clusters())),
    wasmDir: WASM_DIR,
  });
  try {
    const c = await client(host.listeners.probe.port);
    c.send("outbound|1||nope.local\nhello\n");
    await c.closed;
    assert.equal(c.received().length, 0);
    assert.equal(await host.waitForStat("tcp.probe_tcp.downstream_cx_no_route", (v) => v === 1), 1);
  } finally { await host.close(); }
});

test("IMMEDIATE with only tcp_proxy: connects at accept and relays both ways", async () => {
  const before = b.accepted;
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ connectMode: "IMMEDIATE", cluster: "outbound|1|v2|b.local" }, clusters())),
    wasmDir: WASM_DIR,
  });
  try {
    const c = await client(host.listeners.probe.port);
    // No byte sent yet: the upstream is reached at accept time.
    await until(() => b.accepted === before + 1, "the upstream to accept");
    c.send("hi");
    assert.equal((await c.waitFor((x) => x.length >= 4)).toString(), "B:hi");
    c.socket.destroy();
    await host.waitForStat("cluster.outbound|1|v2|b.local.upstream_cx_active", (v) => v === 0);
  } finally { await host.close(); }
});

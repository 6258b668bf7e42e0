// tcp_proxy picks its cluster when it connects: the module's set_envoy_filter_state decides
// which upstream serves; ON_DOWNSTREAM_DATA connects only on data; unknown clusters close.
// In real Envoy and in the local host.
import { before, after, test as plainTest } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { clusterSeries } from "../../envoy-dev/proxy/prometheus.ts";
import { compileFixture, echoServer, client, yamlFor, waitLog, proxyWith, until, sleep, type Upstream } from "./helpers.ts";

let a: Upstream, b: Upstream;
before(async () => { compileFixture("probe"); a = await echoServer("A:"); b = await echoServer("B:"); });
after(async () => { await a.close(); await b.close(); });

const clusters = () => ({ "outbound|1||a.local": [a.port], "outbound|1|v2|b.local": [b.port] });

eachProxy("routing by filter state", (kind) => {
  test("set_envoy_filter_state(envoy.tcp_proxy.cluster) picks the cluster tcp_proxy connects to", async () => {
    const p = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "pause-new route properties" }, clusters()));
    try {
      const c1 = await client(p.listeners.probe.port);
      c1.send("outbound|1|v2|b.local\nping\n");
      assert.equal((await c1.waitFor((x) => x.length >= 7)).toString(), "B:ping\n");
      const c2 = await client(p.listeners.probe.port);
      c2.send("outbound|1||a.local\npong\n");
      assert.equal((await c2.waitFor((x) => x.length >= 7)).toString(), "A:pong\n");
      await waitLog(p, "probe: cluster after set=");
      await waitLog(p, "probe: route outbound|1|v2|b.local status=0");
      assert.equal(await p.stat(clusterSeries("upstream_cx_total", "outbound|1|v2|b.local")), 1);
      assert.equal(await p.stat(clusterSeries("upstream_cx_total", "outbound|1||a.local")), 1);
      c1.socket.destroy(); c2.socket.destroy();
    } finally { await p.close(); }
  });

  test("ON_DOWNSTREAM_DATA: no upstream connection before the first byte", async () => {
    const before = a.accepted;
    const p = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "pause-new route" }, clusters()));
    try {
      const c = await client(p.listeners.probe.port);
      await sleep(150);
      assert.equal(a.accepted, before, "connected before any data");
      assert.equal(await p.stat(clusterSeries("upstream_cx_total", "outbound|1||a.local")), 0);
      c.send("outbound|1||a.local\nx\n");
      await c.waitFor((x) => x.toString() === "A:x\n");
      assert.equal(a.accepted, before + 1);
      c.socket.destroy();
    } finally { await p.close(); }
  });

  test("a cluster that does not exist: the downstream is closed and downstream_cx_no_route counted", async () => {
    const p = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "pause-new route" }, clusters()));
    try {
      const c = await client(p.listeners.probe.port);
      c.send("outbound|1||nope.local\nhello\n");
      await c.closed;
      assert.equal(c.received().length, 0);
      assert.equal(await p.waitForStat('envoy_tcp_downstream_cx_no_route{envoy_tcp_prefix="probe_tcp"}', (v) => v === 1), 1);
    } finally { await p.close(); }
  });

  test("IMMEDIATE with only tcp_proxy: connects at accept and relays both ways", async () => {
    const before = b.accepted;
    const p = await proxyWith(kind, yamlFor({ connectMode: "IMMEDIATE", cluster: "outbound|1|v2|b.local" }, clusters()));
    try {
      const c = await client(p.listeners.probe.port);
      // No byte sent yet: the upstream is reached at accept time.
      await until(() => b.accepted === before + 1, "the upstream to accept");
      c.send("hi");
      assert.equal((await c.waitFor((x) => x.length >= 4)).toString(), "B:hi");
      c.socket.destroy();
      await p.waitForStat(clusterSeries("upstream_cx_active", "outbound|1|v2|b.local"), (v) => v === 0);
    } finally { await p.close(); }
  });
});

plainTest("local host: an unreachable upstream closes the client and says so in the log", async () => {
  const p = await proxyWith("local", yamlFor({ connectMode: "IMMEDIATE", cluster: "dead" }, { dead: [1] }));
  try {
    const c = await client(p.listeners.probe.port);
    await c.closed;
    await waitLog(p, "cannot reach dead at 127.0.0.1:1");
  } finally { await p.close(); }
});

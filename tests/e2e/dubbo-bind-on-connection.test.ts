// bindOn CONNECTION: how the module routes where tcp_proxy cannot wait for the first request
// (Envoy < 1.37, Istio < 1.29: no upstream_connect_mode; tcp_proxy connects when the connection
// is accepted). The cluster is bound in on_new_connection by the dialed address and the first
// route that needs no request attribute (weights apply there); requests are still matched one by
// one, so mutations, limits, error replies and stats work per request, and a request whose own
// route sends elsewhere is a route mismatch (KEEP or REJECT). Runs on the local host and on real
// Envoy; `npm run test:matrix` runs it on every Envoy release of the matrix, 1.36 included.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE, versionOfAnswer } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { binomialBounds } from "../../envoy-dev/apps/dubbo/binomial.ts";
import { CLUSTERS, STATS, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

const config = (onRouteMismatch: "KEEP" | "REJECT") => JSON.stringify({
  statPrefix: "dubbo_demo",
  statsFlushIntervalMs: 50,
  bindOn: "CONNECTION",
  onRouteMismatch,
  services: [{
    name: "dubbo-demo.default.svc.cluster.local",
    // The dialed VIP claims the connection before any byte is read (127.0.0.1 in the tests).
    match: { addresses: ["127.0.0.1"] },
    routes: [
      // Needs a request attribute: cannot decide where a connection goes, only check requests.
      { name: "hello-v2", match: { attributes: { method: { exact: "sayHello" } } }, route: [{ cluster: CLUSTERS.v2, weight: 100 }] },
      // Needs none: the connection's route, 20/80 per connection.
      { name: "split", route: [{ cluster: CLUSTERS.v1, weight: 20 }, { cluster: CLUSTERS.v2, weight: 80 }],
        requestMutation: [{ key: "x-canary", value: "split" }] },
    ],
    localRateLimit: { tokenBucket: { maxTokens: 1000, tokensPerFill: 1000, fillInterval: "1h" },
      conditions: [{ match: { attributes: { method: { exact: "sayBye" } } }, tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillInterval: "1h" } }] },
  }],
});

eachProxy("dubbo e2e: bindOn CONNECTION, tcp_proxy connecting at accept (Envoy < 1.37)", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy, legacyTcpProxy: true, pluginConfig: config("KEEP") }); });
  after(async () => { await mesh?.close(); });

  test("the split route's weights apply per connection (200 connections, exact binomial bounds)", async () => {
    const n = 200;
    const served = { v1: 0, v2: 0, other: 0 };
    for (let batch = 0; batch < n / 20; batch++) {
      const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const c = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
        try { return await c.call("echo", `u${batch * 20 + i}`); } finally { await c.close(); }
      }));
      for (const r of results) {
        assert.equal(r.err, null);
        const v = versionOfAnswer(r.res);
        if (v === "v1" || v === "v2") served[v]++; else served.other++;
      }
    }
    const { lo, hi } = binomialBounds(n, 0.2, 1e-4);
    assert.equal(served.other, 0);
    assert.ok(served.v1 >= lo && served.v1 <= hi, `v1 served ${served.v1} of ${n}, expected within [${lo}, ${hi}]`);
  });

  test("per request: mutation applied, a method route to another cluster is a counted mismatch (KEEP), a heartbeat first is answered at once", async () => {
    const mismatch = await mesh.counter(STATS + "route_mismatch");
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      // Bound before any byte: a heartbeat as the first frame has an upstream to answer it.
      assert.deepEqual(await raw.heartbeat(7n), { id: 7n, status: 20, event: true, value: null });
      const echo = await raw.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["e"] });
      const bound = versionOfAnswer(echo.value);
      assert.ok(bound === "v1" || bound === "v2", String(echo.value));
      const call = mesh.providers[bound].calls.find((k) => k.args[0] === "e");
      assert.equal(call?.attachments["x-canary"], "split");
      // sayHello's route says v2 only: on a v1 connection that is a mismatch, kept on v1.
      const hello = await raw.request({ id: 2n, path: DEMO_SERVICE, method: "sayHello", args: ["h"] });
      assert.match(String(hello.value), new RegExp(`from ${bound}$`));
      if (bound === "v1") assert.equal(await mismatch.waitFor(1), 1);
    } finally { await raw.close(); }
    assert.deepEqual(mesh.vmFailures(), []);
  });

  test("local rate limit: the over-limit reply comes at once through the probe", async () => {
    const c = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
    try {
      assert.equal((await c.call("sayBye", "first")).err, null);
      const second = await c.call("sayBye", "second");
      assert.ok(second.err, "a second sayBye must be refused");
      assert.match(second.err.message, /rate limit/);
      assert.ok(second.ms < 3000, `${second.ms} ms`);
    } finally { await c.close(); }
  });
});

eachProxy("dubbo e2e: bindOn CONNECTION with onRouteMismatch REJECT", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy, legacyTcpProxy: true, pluginConfig: config("REJECT") }); });
  after(async () => { await mesh?.close(); });

  test("a sayHello on a connection bound to v1 gets an error reply; on one bound to v2 it is served", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < 2; i++) {
      const raw = await RawDubboConnection.connect(mesh.port);
      try {
        const echo = await raw.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["which"] });
        const bound = versionOfAnswer(echo.value)!;
        const hello = await raw.request({ id: 2n, path: DEMO_SERVICE, method: "sayHello", args: ["h"] });
        if (bound === "v1") {
          assert.equal(hello.status, 60);
          assert.match(String(hello.error), /routing is decided per connection/);
        } else {
          assert.equal(hello.value, "Hello h, from v2");
        }
        seen.add(bound);
      } finally { await raw.close(); }
    }
    assert.equal(seen.size, 2, "both kinds of connection were seen");
  });
});

// Method routing and weighted split through build/dubbo.wasm in the local host and real Envoy,
// with the demo rules of envoy-dev/envoy.yaml: sayHello -> v2, sayBye 20 v1 / 80 v2, DemoService -> v1.
// Routing is decided per connection (README "Limits"): each scenario uses its own consumer.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { versionOfAnswer, type DemoMethod } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { binomialBounds } from "../../envoy-dev/apps/dubbo/binomial.ts";
import { STATS, demoPluginConfig, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

const MISMATCH = STATS + "route_mismatch";

async function oneCall(mesh: DubboMesh, method: DemoMethod, arg: string) {
  const c = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
  try {
    return await c.call(method, arg);
  } finally {
    await c.close();
  }
}

eachProxy("dubbo e2e: routing (demo rules, onRouteMismatch KEEP)", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy }); });
  after(async () => { await mesh?.close(); });

  test("sayHello is answered by v2, echo by v1 (one fresh connection each)", async () => {
    const hello = await oneCall(mesh, "sayHello", "alice");
    assert.equal(hello.err, null);
    assert.equal(hello.res, "Hello alice, from v2");
    const echo = await oneCall(mesh, "echo", "ping");
    assert.equal(echo.err, null);
    assert.equal(echo.res, "ping (echo from v1)");
    assert.equal(mesh.providers.default.calls.length, 0, "nothing reached the default cluster");
  });

  test("per-connection limit: after sayHello bound the connection to v2, echo on it still goes to v2 and is counted", async () => {
    const mismatches = await await mesh.counter(MISMATCH);
    const c = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
    try {
      assert.equal((await c.call("sayHello", "first")).res, "Hello first, from v2");
      const echo = await c.call("echo", "second");
      assert.equal(echo.err, null);
      assert.equal(echo.res, "second (echo from v2)", "KEEP: forwarded to the bound cluster");
    } finally {
      await c.close();
    }
    assert.equal(await mismatches.waitFor(1), 1);
    assert.deepEqual(mesh.vmFailures(), []);
  });

  test("sayBye splits 20/80 over 200 fresh connections (exact binomial bounds, miss rate 1e-4)", async () => {
    const n = 200;
    const served = { v1: 0, v2: 0, other: 0 };
    const errors: string[] = [];
    const v1Before = mesh.providers.v1.connections;
    const v2Before = mesh.providers.v2.connections;
    for (let batch = 0; batch < n / 10; batch++) {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => oneCall(mesh, "sayBye", `u${batch * 10 + i}`)));
      for (const r of results) {
        if (r.err) { errors.push(r.err.message); continue; }
        const v = versionOfAnswer(r.res);
        if (v === "v1" || v === "v2") served[v]++; else served.other++;
      }
    }
    assert.deepEqual(errors, []);
    assert.equal(served.other, 0);
    assert.equal(served.v1 + served.v2, n);
    const { lo, hi } = binomialBounds(n, 0.2, 1e-4);
    assert.ok(served.v1 >= lo && served.v1 <= hi, `v1 served ${served.v1} of ${n}, expected within [${lo}, ${hi}]`);
    // Each answer came over its own upstream connection, as tcp_proxy opens one per downstream one.
    assert.equal(mesh.providers.v1.connections - v1Before, served.v1);
    assert.equal(mesh.providers.v2.connections - v2Before, served.v2);
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

eachProxy("dubbo e2e: onRouteMismatch REJECT", (proxy) => {
  let mesh: DubboMesh;
  before(async () => {
    mesh = await startDubboMesh({ proxy, pluginConfig: JSON.stringify({ ...demoPluginConfig(), onRouteMismatch: "REJECT" }) });
  });
  after(async () => { await mesh?.close(); });

  test("a later echo on a connection bound to v2 gets a Dubbo error reply, reaches no provider, is counted", async () => {
    const mismatches = await await mesh.counter(MISMATCH);
    const c = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
    try {
      assert.equal((await c.call("sayHello", "first")).res, "Hello first, from v2");
      const echo = await c.call("echo", "second");
      assert.equal(echo.res, null);
      assert.ok(echo.err, "expected an error reply");
      assert.doesNotMatch(echo.err.message, /timeout|closed/, "an error reply, not a timeout or a dropped connection");
      // The connection survives the rejection: the bound route still works.
      assert.equal((await c.call("sayHello", "third")).res, "Hello third, from v2");
    } finally {
      await c.close();
    }
    const echoes = Object.values(mesh.providers).flatMap((p) => p.calls).filter((k) => k.method === "echo");
    assert.deepEqual(echoes, []);
    assert.equal(await mismatches.waitFor(1), 1);
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

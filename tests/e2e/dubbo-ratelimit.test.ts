// Local rate limits (MetaRouter localRateLimit) through build/dubbo.wasm: a request over the
// limit gets a Dubbo error reply at once (status 100, server threadpool exhausted: "come back
// later"), reaches no provider, and is counted. Buckets live in Envoy shared data, so every
// connection of the listener draws from the same one.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { STATS, demoPluginConfig, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

const STATUS_THREADPOOL_EXHAUSTED = 100;

/** The demo rules with a rate limit on the demo service. */
function limited(localRateLimit: object): string {
  const cfg = demoPluginConfig();
  cfg.services[0].localRateLimit = localRateLimit;
  return JSON.stringify(cfg);
}
const callsOf = (mesh: DubboMesh, method: string) =>
  Object.values(mesh.providers).flatMap((p) => p.calls).filter((c) => c.method === method).length;

eachProxy("dubbo e2e: local rate limit, one bucket for the whole listener", (proxy) => {
  let mesh: DubboMesh;
  before(async () => {
    mesh = await startDubboMesh({ proxy, pluginConfig: limited({ tokenBucket: { maxTokens: 3, tokensPerFill: 3, fillInterval: "1h" } }) });
  });
  after(async () => { await mesh?.close(); });

  test("three calls pass, the fourth gets an over-limit error reply at once, across connections", async () => {
    const over = await mesh.counter(STATS + "ratelimit_over_limit");
    const local = await mesh.counter(STATS + "local_reply");
    const a = new DubboConsumer({ address: mesh.address, interface: DEMO_SERVICE, timeoutSeconds: 30 });
    const b = new DubboConsumer({ address: mesh.address, interface: DEMO_SERVICE, timeoutSeconds: 30 });
    try {
      for (const [c, arg] of [[a, "1"], [b, "2"], [a, "3"]] as const) {
        const r = await c.call("echo", arg);
        assert.equal(r.err, null, `call ${arg} within the limit failed: ${r.err?.message}`);
      }
      const r = await b.call("echo", "4");
      assert.equal(r.res, null);
      assert.ok(r.err, "the fourth call must be refused");
      assert.match(r.err.message, /rate limit/);
      assert.ok(r.ms < 3000, `error reply after ${r.ms.toFixed(0)} ms`);
    } finally {
      await a.close(); await b.close();
    }
    assert.equal(await over.waitFor(1), 1);
    assert.equal(await local.waitFor(1), 1);
    assert.equal(callsOf(mesh, "echo"), 3, "the refused call reached no provider");
  });

  test("on the wire: status 100 with the request's id", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const id = 0x1234_5678_9abc_def0n;
      const r = await raw.request({ id, path: DEMO_SERVICE, method: "echo", args: ["5"] });
      assert.equal(r.id, id);
      assert.equal(r.status, STATUS_THREADPOOL_EXHAUSTED);
      assert.match(String(r.error), /rate limit exceeded for service dubbo-demo/);
    } finally {
      await raw.close();
    }
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

eachProxy("dubbo e2e: rate-limit conditions and refill", (proxy) => {
  let mesh: DubboMesh;
  before(async () => {
    mesh = await startDubboMesh({ proxy, pluginConfig: limited({
      tokenBucket: { maxTokens: 100, tokensPerFill: 100, fillInterval: "1h" },
      // sayBye has its own, tighter bucket that refills every 2 s.
      conditions: [{ match: { attributes: { method: { exact: "sayBye" } } }, tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillInterval: "2s" } }],
    }) });
  });
  after(async () => { await mesh?.close(); });

  test("a condition's bucket limits only the requests it matches, and refills", async () => {
    const c = new DubboConsumer({ address: mesh.address, interface: DEMO_SERVICE, timeoutSeconds: 30 });
    try {
      assert.equal((await c.call("sayBye", "first")).err, null);
      const second = await c.call("sayBye", "second");
      assert.ok(second.err, "a second sayBye within 2 s must be refused");
      assert.match(second.err.message, /rate limit/);
      // Other methods draw from the service bucket, which has room.
      for (let i = 0; i < 5; i++) assert.equal((await c.call("echo", `e${i}`)).err, null);
      await new Promise((r) => setTimeout(r, 2300));
      assert.equal((await c.call("sayBye", "after refill")).err, null, "the bucket refills after fillInterval");
    } finally {
      await c.close();
    }
    assert.equal(callsOf(mesh, "sayBye"), 2);
    assert.equal(await mesh.proxy.waitForStat(STATS + "ratelimit_over_limit", (v) => v >= 1), 1);
  });
});

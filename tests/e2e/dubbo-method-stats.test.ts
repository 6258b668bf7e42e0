// Per-method metrics (plugin config methodStats): counters per method name, defined when a
// method is first seen, with a cap so that clients choosing method names cannot grow Envoy's
// stats without bound.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { STATS, demoPluginConfig, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

const M = STATS + "method_";

eachProxy("dubbo e2e: per-method stats", (proxy) => {
  let mesh: DubboMesh;
  before(async () => {
    // The demo rules send every DemoService method to a provider (route demo-v1).
    const cfg = demoPluginConfig();
    cfg.methodStats = true;
    cfg.statsFlushIntervalMs = 50;
    mesh = await startDubboMesh({ proxy, pluginConfig: JSON.stringify(cfg) });
  });
  after(async () => { await mesh?.close(); });

  test("requests and error responses are counted per method", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      for (const [id, method] of [[1n, "echo"], [2n, "echo"], [3n, "noSuchMethod"]] as const) {
        await raw.request({ id, path: DEMO_SERVICE, method, args: ["x"] });
      }
    } finally { await raw.close(); }
    assert.equal(await mesh.proxy.waitForStat(`${M}echo_request_total`, (v) => v >= 2), 2);
    assert.equal(await mesh.proxy.waitForStat(`${M}noSuchMethod_request_total`, (v) => v >= 1), 1);
    // The provider answers an unknown method with an error status: counted for that method only.
    assert.equal(await mesh.proxy.waitForStat(`${M}noSuchMethod_response_error`, (v) => v >= 1), 1);
    assert.equal(await mesh.stat(`${M}echo_response_error`), 0);
    assert.match((await mesh.proxy.prometheus()), /^metaprotocol_dubbo_demo_method_echo_request_total\{\} 2$/m);
  });

  test("at most 256 method names get their own counters; the rest count as other", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      // Pipelined: one write of 300 requests with distinct method names.
      const calls = [];
      for (let i = 0; i < 300; i++) calls.push(raw.request({ id: BigInt(100 + i), path: DEMO_SERVICE, method: `m${i}`, args: ["x"] }));
      await Promise.all(calls);
    } finally { await raw.close(); }
    const named = async () => [...(await mesh.proxy.stats()).keys()].filter((k) => k.startsWith(M) && k.endsWith("_request_total") && !k.startsWith(`${M}other_`));
    // 2 names from the test above + 254 of these 300 fill the 256 slots; 46 go to "other".
    assert.equal(await mesh.proxy.waitForStat(`${M}other_request_total`, (v) => v >= 46), 46);
    assert.equal((await named()).length, 256);
  });
});

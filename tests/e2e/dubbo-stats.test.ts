// Stats shared by several VMs and roots: Envoy runs one VM per worker thread, and after a config
// update the old root keeps serving its connections beside the new one. They all share each
// metric by name, so the module must add deltas, never overwrite a value.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { STATS, LISTENER, demoPluginConfig, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

const ACTIVE = STATS + "downstream_cx_active";

eachProxy("dubbo e2e: stats across roots", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy, pluginConfig: JSON.stringify({ ...demoPluginConfig(), statsFlushIntervalMs: 50 }), reconfigurable: true }); });
  after(async () => { await mesh?.close(); });

  test("downstream_cx_active counts the connections of an old and a new root together", async () => {
    const a = await RawDubboConnection.connect(mesh.port);
    const b = { conn: null as RawDubboConnection | null };
    try {
      assert.equal((await a.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["old root"] })).status, 20);
      assert.equal(await mesh.proxy.waitForStat(ACTIVE, (v) => v === 1), 1);
      // A config update: a new root context serves new connections, the old one keeps `a`.
      assert.ok(await mesh.proxy.reconfigure(LISTENER, JSON.stringify({ ...demoPluginConfig(), statsFlushIntervalMs: 60 })));
      b.conn = await RawDubboConnection.connect(mesh.port);
      assert.equal((await b.conn.request({ id: 2n, path: DEMO_SERVICE, method: "echo", args: ["new root"] })).status, 20);
      assert.equal(await mesh.proxy.waitForStat(ACTIVE, (v) => v === 2), 2, "both roots' connections are counted");
      // Let both roots flush a few more times: the sum must stay 2 (no root overwrites the other).
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await mesh.stat(ACTIVE), 2);
    } finally {
      await a.close();
      await b.conn?.close();
    }
    assert.equal(await mesh.proxy.waitForStat(ACTIVE, (v) => v === 0), 0);
  });
});

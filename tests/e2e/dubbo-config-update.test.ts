// A rule change while connections are open, delivered as Istio delivers it: Envoy gets the Wasm
// filter's new config by ECDS (here from a watched file), the local host by a new root context.
// New connections follow the new rules at once. Connections opened before the update keep the
// root context (and rules) they started with until they close; this shows exactly that.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { CLUSTERS, LISTENER, STATS, demoPluginConfig, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

/** The demo rules with sayHello sent to `subset` (a canary shift and its rollback). */
function helloTo(subset: "v1" | "v2"): string {
  const cfg = demoPluginConfig();
  cfg.statsFlushIntervalMs = 50;
  cfg.services[0].routes[0].route = [{ cluster: CLUSTERS[subset], weight: 100 }];
  return JSON.stringify(cfg);
}

async function hello(c: RawDubboConnection, id: bigint): Promise<string> {
  const r = await c.request({ id, path: DEMO_SERVICE, method: "sayHello", args: ["x"] });
  return String(r.value);
}

eachProxy("dubbo e2e: a config update with connections open", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy, reconfigurable: true, pluginConfig: helloTo("v2") }); });
  after(async () => { await mesh?.close(); });

  test("new connections follow the new rule at once; an open connection keeps the rule it started with", async () => {
    const old = await RawDubboConnection.connect(mesh.port);
    try {
      assert.equal(await hello(old, 1n), "Hello x, from v2");
      assert.equal(await mesh.proxy.reconfigure(LISTENER, helloTo("v1")), true);
      const fresh = await RawDubboConnection.connect(mesh.port);
      try {
        assert.equal(await hello(fresh, 1n), "Hello x, from v1", "a connection opened after the update");
      } finally { await fresh.close(); }
      // Bound to v2 by its first request, and still under the old root context's rules.
      assert.equal(await hello(old, 2n), "Hello x, from v2", "the open connection after the update");
      // Rollback: again only new connections see it.
      assert.equal(await mesh.proxy.reconfigure(LISTENER, helloTo("v2")), true);
      const after = await RawDubboConnection.connect(mesh.port);
      try { assert.equal(await hello(after, 1n), "Hello x, from v2"); } finally { await after.close(); }
      assert.equal(await hello(old, 3n), "Hello x, from v2");
    } finally { await old.close(); }
    // Both roots' connections were counted, and all have closed.
    assert.equal(await mesh.proxy.waitForStat(STATS + "downstream_cx_active", (v) => v === 0), 0);
    assert.deepEqual(mesh.vmFailures(), []);
  });

  test("a refused update leaves the last good rules serving new connections", async () => {
    const refused = JSON.parse(helloTo("v1"));
    refused.services[0].routes[0].match.attributes.method = { regex: "(" }; // not a valid regex
    assert.equal(await mesh.proxy.reconfigure(LISTENER, JSON.stringify(refused)), false);
    const c = await RawDubboConnection.connect(mesh.port);
    try { assert.equal(await hello(c, 1n), "Hello x, from v2"); } finally { await c.close(); }
    assert.ok(mesh.proxy.logs().some((l) => /plugin config refused: services\[0\]\.routes\[0\]\.match\.attributes\.method\.regex/.test(l)));
  });
});

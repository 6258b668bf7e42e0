// Several services on one port share one listener and one plugin config (the controller writes
// it that way). The module gives each connection to the service that claims it: by the VIP the
// client dialed (Envoy's destination.address), or by the first request's interface.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { STATS, CLUSTERS, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

const OTHER = "org.apache.dubbo.samples.OtherService";
const config = {
  statPrefix: "dubbo_demo",
  statsFlushIntervalMs: 50,
  services: [
    // Another service's VIP: never what these tests dial.
    { name: "elsewhere.default.svc.cluster.local", match: { addresses: ["10.96.7.7"] },
      routes: [{ name: "elsewhere", route: [{ cluster: CLUSTERS.default, weight: 1 }] }] },
    // Claimed by interface (a consumer that dialed a pod IP it found in a registry).
    { name: "other.default.svc.cluster.local", match: { addresses: ["10.96.8.8"], attributes: { interface: { exact: OTHER } } },
      routes: [{ name: "other", route: [{ cluster: CLUSTERS.v1, weight: 1 }] }] },
    // Claimed by the address the local host listens on (127.0.0.1): the dialed VIP.
    { name: "dubbo-demo.default.svc.cluster.local", match: { addresses: ["127.0.0.1"] },
      routes: [{ name: "demo", route: [{ cluster: CLUSTERS.v2, weight: 1 }] }] },
  ],
};

eachProxy("dubbo e2e: services sharing a port", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy, pluginConfig: JSON.stringify(config) }); });
  after(async () => { await mesh?.close(); });

  async function call(path: string) {
    const raw = await RawDubboConnection.connect(mesh.port);
    try { return await raw.request({ id: 1n, path, method: "echo", args: ["who"] }); }
    finally { await raw.close(); }
  }

  test("the dialed address claims the connection for its service", async () => {
    const r = await call(DEMO_SERVICE);
    assert.equal(r.status, 20, String(r.error));
    assert.match(String(r.value), /from v2/);
  });

  test("the interface claims it when the address is not the service's VIP", async () => {
    // The sample provider exports only DemoService, so it answers OtherService with its own
    // "not found" (status 60) naming itself: that reply proves which subset got the call.
    const notFound = await mesh.counter(STATS + "route_not_found");
    const r = await call(OTHER);
    assert.equal(r.status, 60);
    assert.match(String(r.error), new RegExp(`provider: 127\\.0\\.0\\.1:${mesh.providers.v1.port}$`));
    await new Promise((res) => setTimeout(res, 150)); // two stats flushes
    assert.equal((await notFound.delta()), 0, "the module routed it; the provider refused it");
  });
});

// Another TCP service may use the same port number: WasmPlugin and EnvoyFilter select
// listeners by port, so its connections reach this filter too. When every service in the
// config is identified by address, a connection to any other address is left untouched.
eachProxy("dubbo e2e: a connection to an address no service claims passes through", (proxy) => {
  let mesh: DubboMesh;
  const addressOnly = {
    statPrefix: "dubbo_demo", statsFlushIntervalMs: 50,
    services: [{ name: "elsewhere.default.svc.cluster.local", match: { addresses: ["10.96.7.7"] },
      routes: [{ name: "elsewhere", route: [{ cluster: CLUSTERS.v2, weight: 1 }] }] }],
  };
  before(async () => { mesh = await startDubboMesh({ proxy, pluginConfig: JSON.stringify(addressOnly) }); });
  after(async () => { await mesh?.close(); });

  test("bytes go to tcp_proxy's own cluster, unparsed and uncounted as requests", async () => {
    const passthrough = await mesh.counter(STATS + "downstream_cx_passthrough");
    const requests = await mesh.counter(STATS + "request_total");
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const r = await raw.request({ id: 7n, path: DEMO_SERVICE, method: "echo", args: ["not ours"] });
      assert.match(String(r.value), /from default/, "served by tcp_proxy's cluster, not the route's v2");
    } finally { await raw.close(); }
    assert.equal(await passthrough.waitFor(1), 1);
    await new Promise((res) => setTimeout(res, 150)); // two stats flushes
    assert.equal((await requests.delta()), 0, "a passed-through connection is not parsed");
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

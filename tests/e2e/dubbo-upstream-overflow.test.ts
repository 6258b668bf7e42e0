// Upstream circuit breakers. tcp_proxy checks the cluster's max_connections before it asks the
// connection pool, and closes the client at once when it is reached. The pool checks again (the
// host's per_host_thresholds, and the cluster's, which another worker may have taken meanwhile):
// then it queues the request, with no timeout, until one of that pool's connections closes, and
// the client hears nothing (the soak in Envoy 1.40 with the default 1,024 connections saw calls
// unanswered for more than 10 s). Staged here with per_host_thresholds max_connections 1 and one
// Envoy worker: connection A holds the host's only connection, B's request waits in the pool.
// The module closes B once it has had no upstream connection for upstreamConnectTimeout: its
// request never reached a provider, so the client may retry it.
import { after, before, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { eachProxy, test } from "../support/proxies.ts";
import { startProxy, type Proxy } from "../../envoy-dev/proxy/index.ts";
import { ENVOY_YAML, allListenersEphemeral } from "../../envoy-dev/apps/mesh-config.ts";
import { startDubboProvider, type DubboProvider } from "../../envoy-dev/apps/dubbo-provider.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { encodeRequest } from "../../envoy-dev/apps/dubbo/codec.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { within } from "../../envoy-dev/apps/dubbo/deadline.ts";
import { CLUSTERS, LISTENER, STATS, demoPluginConfig } from "../../envoy-dev/apps/dubbo/mesh.ts";

/** envoy.yaml with these circuit breakers on the v1 cluster (where echo goes, route demo-v1). */
function withV1Breakers(breakers: object): string {
  const boot = parse(readFileSync(ENVOY_YAML, "utf8"));
  boot.static_resources.clusters.find((c: any) => c.name === CLUSTERS.v1).circuit_breakers = breakers;
  const out = join(mkdtempSync(join(tmpdir(), "metaprotocol-overflow-")), "envoy.yaml");
  writeFileSync(out, stringify(boot));
  return out;
}

/** Envoy's cluster counter for the v1 cluster (its tag extractor cuts the name at the first dot). */
async function v1ClusterStat(proxy: Proxy, name: string): Promise<number> {
  let n = 0;
  for (const [k, v] of await proxy.stats()) if (k.startsWith("envoy_cluster_") && k.includes(`_${name}{`) && k.includes("|v1|")) n += v;
  return n;
}

const echo = (c: RawDubboConnection, id: bigint, arg: string) => c.request({ id, path: DEMO_SERVICE, method: "echo", args: [arg] });

function mesh(kind: "local" | "envoy", breakers: object, pluginConfig: object): { get: () => { proxy: Proxy; provider: DubboProvider } } {
  let proxy: Proxy;
  let provider: DubboProvider;
  before(async () => {
    provider = await startDubboProvider({ version: "v1" });
    const ep = [{ host: "127.0.0.1", port: provider.port }];
    proxy = await startProxy(kind, {
      configPath: withV1Breakers(breakers), listenerPorts: allListenersEphemeral(),
      endpoints: { [CLUSTERS.default]: ep, [CLUSTERS.v1]: ep, [CLUSTERS.v2]: ep },
      pluginConfig: { [LISTENER]: JSON.stringify(pluginConfig) },
      // One worker: Envoy's connection pools are per worker, and A and B must share one.
      concurrency: 1,
    });
  });
  after(async () => { await proxy?.close(); await provider?.close(); });
  return { get: () => ({ proxy, provider }) };
}

eachProxy("dubbo e2e: upstream circuit breakers", (kind) => {
  describe("the host's connection limit is reached: the pool holds the request", () => {
    const m = mesh(kind, { per_host_thresholds: [{ max_connections: 1 }] }, { ...demoPluginConfig(), upstreamConnectTimeout: "1s" });

    test("a connection the pool holds is closed within upstreamConnectTimeout, its request never sent", async (t) => {
      const { proxy, provider } = m.get();
      const port = proxy.listeners[LISTENER].port;
      const a = await RawDubboConnection.connect(port);
      assert.equal((await within(echo(a, 1n, "a1"), 5000, "A's answer")).status, 20);
      const b = await RawDubboConnection.connect(port);
      // A failure must not leave A holding the host's connection for the next test.
      t.after(async () => { await b.close(); await a.close(); });
      const t0 = Date.now();
      const answer = echo(b, 1n, "b1").then(() => "answered", (e: Error) => e.message);
      await within(b.closed, 5000, "B closing (Envoy's pool holds its request with no timeout)");
      const ms = Date.now() - t0;
      assert.ok(ms >= 900, `closed after ${ms} ms, before upstreamConnectTimeout`);
      assert.match(await answer, /closed before response/);
      assert.deepEqual(provider.calls.map((c) => String(c.args[0])), ["a1"], "B's request reached no provider");
      assert.ok(await v1ClusterStat(proxy, "upstream_cx_overflow") >= 1, "the pool counted the overflow");
      assert.equal(await proxy.waitForStat(STATS + "upstream_connect_timeout", (v) => v >= 1), 1);
      // A keeps its upstream connection.
      assert.equal((await within(echo(a, 2n, "a2"), 5000, "A's second answer")).status, 20);
      await a.close();
      assert.deepEqual(proxy.vmFailures(), []);
    });

    test("a slow provider is not the pool: a connected upstream keeps its connection past the timeout", async () => {
      const { proxy, provider } = m.get();
      const before = await proxy.stat(STATS + "upstream_connect_timeout");
      const c = await RawDubboConnection.connect(proxy.listeners[LISTENER].port);
      // Oneway calls are never answered: the upstream sends nothing, yet it is connected.
      c.write(encodeRequest({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["oneway"], twoWay: false }));
      await new Promise((r) => setTimeout(r, 2500));
      assert.ok(c.isOpen, "closed although its upstream is connected");
      assert.equal(await proxy.stat(STATS + "upstream_connect_timeout"), before);
      assert.equal((await within(echo(c, 2n, "c2"), 5000, "the answer")).status, 20);
      assert.ok(provider.calls.some((x) => x.oneway && String(x.args[0]) === "oneway"));
      await c.close();
    });
  });

  describe("the cluster's connection limit is reached: tcp_proxy closes at once", () => {
    const m = mesh(kind, { thresholds: [{ max_connections: 1 }] }, demoPluginConfig());

    test("the client is closed at once and its request reaches no provider", async () => {
      const { proxy, provider } = m.get();
      const port = proxy.listeners[LISTENER].port;
      const a = await RawDubboConnection.connect(port);
      assert.equal((await within(echo(a, 1n, "a1"), 5000, "A's answer")).status, 20);
      const b = await RawDubboConnection.connect(port);
      const t0 = Date.now();
      const answer = echo(b, 1n, "b1").then(() => "answered", (e: Error) => e.message);
      await within(b.closed, 5000, "B closing");
      assert.ok(Date.now() - t0 < 900, `closed after ${Date.now() - t0} ms`);
      assert.match(await answer, /closed before response/);
      assert.deepEqual(provider.calls.map((c) => String(c.args[0])), ["a1"]);
      assert.equal(await v1ClusterStat(proxy, "upstream_cx_overflow"), 1);
      assert.equal(await proxy.stat(STATS + "upstream_connect_timeout"), 0);
      await a.close();
    });
  });
});

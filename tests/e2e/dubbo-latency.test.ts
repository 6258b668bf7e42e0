// Per-route request duration histograms (plugin config latencyHistogram) through
// build/dubbo.wasm, read from /stats/prometheus of real Envoy and of the local host. The route
// (and, with methodStats, the method) ride in the metric name in Istio's tag encoding,
// `route=.=<route>;.;`: with the bootstrap's stats_tags regexes (Istio: extraStatTags) Envoy's
// tag extraction turns them into Prometheus labels; without them the name keeps them as text.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { startSidecar, type Sidecar } from "../support/sidecar.ts";
import { startDubboProvider, type DubboProvider } from "../../envoy-dev/apps/dubbo-provider.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";

const SERVICE = "dubbo-demo.default.svc.cluster.local";
/** What Istio's bootstrap writes for meshConfig.defaultConfig.extraStatTags: [route, method]. */
const EXTRA_STAT_TAGS = { route: "(route=\\.=(.*?);\\.;)", method: "(method=\\.=(.*?);\\.;)" };
const METRIC = "metaprotocol_lat_request_duration_microseconds";

function config(methodStats: boolean): object {
  return {
    statPrefix: "lat", statsFlushIntervalMs: 100, latencyHistogram: true, methodStats,
    services: [{ name: SERVICE, routes: [
      { name: "hello", match: { attributes: { method: { exact: "sayHello" } } } },
      { name: "rest" },
    ] }],
  };
}

async function calls(port: number, methods: string[]): Promise<void> {
  const raw = await RawDubboConnection.connect(port);
  try {
    let id = 1n;
    for (const m of methods) assert.equal((await raw.request({ id: id++, path: DEMO_SERVICE, method: m, args: ["x"] })).status, 20);
  } finally { await raw.close(); }
}

eachProxy("dubbo: per-route latency histograms in /stats/prometheus", (kind) => {
  let provider: DubboProvider;
  const sidecars: Sidecar[] = [];
  before(async () => { provider = await startDubboProvider({ version: "v1" }); });
  after(async () => { for (const s of sidecars) await s.close(); await provider?.close(); });
  const sidecar = async (methodStats: boolean, statsTags?: Record<string, string>) => {
    const s = await startSidecar(kind, { protocol: "dubbo", pluginConfig: config(methodStats), upstream: { name: "provider", port: provider.port }, statsTags });
    sidecars.push(s);
    return s;
  };

  test("with Istio's extraStatTags regexes: a histogram per route, labelled route=...", async () => {
    const s = await sidecar(false, EXTRA_STAT_TAGS);
    await calls(s.port, ["sayHello", "sayHello", "sayHello", "echo", "sayBye"]);
    const hello = await s.proxy.waitForStat(`${METRIC}_count{route="hello"}`, (v) => v >= 3, 8000);
    assert.equal(hello, 3);
    assert.equal(await s.proxy.waitForStat(`${METRIC}_count{route="rest"}`, (v) => v >= 2, 8000), 2);
    const text = await s.proxy.prometheus();
    assert.match(text, new RegExp(`^# TYPE ${METRIC} histogram$`, "m"));
    assert.match(text, new RegExp(`^${METRIC}_bucket\\{route="hello",le="\\+Inf"\\} 3$`, "m"));
    const sum = await s.proxy.stat(`${METRIC}_sum{route="hello"}`);
    assert.ok(sum > 0 && sum < 3 * 5_000_000, `sum ${sum} us`);
  });

  test("with methodStats: route and method labels", async () => {
    const s = await sidecar(true, EXTRA_STAT_TAGS);
    await calls(s.port, ["sayHello", "echo", "echo"]);
    assert.equal(await s.proxy.waitForStat(`${METRIC}_count{route="rest",method="echo"}`, (v) => v >= 2, 8000), 2);
    assert.equal(await s.proxy.waitForStat(`${METRIC}_count{route="hello",method="sayHello"}`, (v) => v >= 1, 8000), 1);
  });

  test("without stats_tags the labels stay in the name (still graphable)", async () => {
    const s = await sidecar(false);
    await calls(s.port, ["sayHello"]);
    assert.equal(await s.proxy.waitForStat("metaprotocol_lat_route___hello___request_duration_microseconds_count", (v) => v >= 1, 8000), 1);
  });
});

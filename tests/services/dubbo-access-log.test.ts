// Access log through build/dubbo.wasm: one OTLP log record per request (answered, failed,
// oneway, answered locally), read back from a real OpenTelemetry Collector, in real Envoy and the
// local host; the documented body line and attributes, the trace id shared with the request's
// span, sampling, and the cost contract: no host call per request (records are batched and
// exported from the root's tick), counted by the local host.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { startCollector, type Collector, type ReceivedLog } from "../../envoy-dev/services/collector.ts";
import { startDubboProvider, type DubboProvider } from "../../envoy-dev/apps/dubbo-provider.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { encodeRequest } from "../../envoy-dev/apps/dubbo/codec.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { startSidecar, type Sidecar } from "../support/sidecar.ts";
import { sleep } from "../host/helpers.ts";

const SERVICE = "dubbo-demo.default.svc.cluster.local";

let collector: Collector;
before(async () => { collector = await startCollector(); }, { timeout: 1_800_000 });
after(async () => { await collector?.close(); });

function config(serviceName: string, logPercent = 100): object {
  return {
    statPrefix: "al", statsFlushIntervalMs: 100,
    accessLog: { collectorCluster: "otel", serviceName, randomSamplingPercentage: logPercent },
    tracing: { collectorCluster: "otel", serviceName, spanKind: "CLIENT" },
    services: [{
      name: SERVICE,
      routes: [{ name: "demo", match: { attributes: { interface: { exact: DEMO_SERVICE } } } }],
      localRateLimit: { conditions: [{ match: { attributes: { method: { exact: "sayBye" } } }, tokenBucket: { maxTokens: 1, fillInterval: "1h" } }] },
    }],
  };
}

const of = (svc: string) => (l: ReceivedLog[]) => l.filter((x) => x.resource["service.name"] === svc);

eachProxy("dubbo: access log as OTLP log records (OpenTelemetry Collector)", (kind) => {
  let provider: DubboProvider;
  const sidecars: Sidecar[] = [];
  before(async () => { provider = await startDubboProvider({ version: "v1" }); });
  after(async () => { for (const s of sidecars) await s.close(); await provider?.close(); });
  const sidecar = async (svc: string, percent = 100) => {
    const s = await startSidecar(kind, { protocol: "dubbo", pluginConfig: config(svc, percent), upstream: { name: "provider", port: provider.port }, grpc: { otel: collector.grpcPort } });
    sidecars.push(s);
    return s;
  };

  test("one record per request: answered, failed, oneway, over a limit, no route; body line and attributes", async () => {
    const svc = `log-${kind}-${process.pid}`;
    const s = await sidecar(svc);
    const raw = await RawDubboConnection.connect(s.port);
    try {
      assert.equal((await raw.request({ id: 1n, path: DEMO_SERVICE, method: "sayHello", args: ["ok"] })).status, 20);
      assert.notEqual((await raw.request({ id: 2n, path: DEMO_SERVICE, method: "noSuchMethod", args: ["x"] })).status, 20);
      raw.write(encodeRequest({ id: 3n, path: DEMO_SERVICE, method: "echo", args: ["oneway"], twoWay: false }));
      assert.equal((await raw.request({ id: 4n, path: DEMO_SERVICE, method: "sayBye", args: ["first"] })).status, 20);
      assert.equal((await raw.request({ id: 5n, path: DEMO_SERVICE, method: "sayBye", args: ["second"] })).status, 100);
      assert.equal((await raw.request({ id: 6n, path: "org.example.Other", method: "hi", args: ["x"] })).status, 60);
    } finally { await raw.close(); }
    const logs = of(svc)(await collector.waitForLogs((l) => of(svc)(l).length >= 6, 10000));
    assert.equal(logs.length, 6, JSON.stringify(logs.map((l) => l.body)));
    const byId = new Map(logs.map((l) => [Number(l.attributes.request_id), l]));
    const status = (id: number) => byId.get(id)!.attributes["metaprotocol.status"];
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(status), ["ok", "error", "oneway", "ok", "over_limit", "route_not_found"]);
    assert.deepEqual([1, 2, 5].map((id) => byId.get(id)!.severityText), ["INFO", "WARN", "WARN"]);

    const ok = byId.get(1)!;
    const a = ok.attributes;
    assert.equal(a["rpc.system"], "dubbo");
    assert.equal(a["rpc.service"], DEMO_SERVICE);
    assert.equal(a["rpc.method"], "sayHello");
    assert.equal(a["metaprotocol.route"], "demo");
    assert.equal(a.upstream_cluster, "provider");
    assert.equal(a["peer.address"], "127.0.0.1");
    assert.ok(Number(a.request_size) > 16 && Number(a.response_size) > 16);
    assert.ok(Number(a.duration_us) >= 0 && Number(a.duration_us) < 5_000_000);
    assert.ok(Number(a["connection.id"]) > 0);
    assert.match(ok.traceId, /^[0-9a-f]{32}$/);
    // Documented body: <protocol> "<service>/<method>" <status> <req bytes> <rsp bytes> <duration us> <route> <cluster> <request id> <connection id> <trace id>
    assert.equal(ok.body, `dubbo "${DEMO_SERVICE}/sayHello" ok ${a.request_size} ${a.response_size} ${a.duration_us} demo provider 1 ${a["connection.id"]} ${ok.traceId}`);
    assert.match(String(byId.get(3)!.body), / oneway \d+ - \d+ demo provider 3 /);
    assert.match(String(byId.get(6)!.body), /^dubbo "org\.example\.Other\/hi" route_not_found \d+ - \d+ - /);
    // The record's trace id is the request's span's.
    const spans = await collector.waitForSpans((x) => x.some((y) => y.traceId === ok.traceId), 10000);
    assert.equal(spans.find((y) => y.traceId === ok.traceId)!.spanId, ok.spanId);
  });

  test("randomSamplingPercentage 0 logs nothing", async () => {
    const svc = `log0-${kind}-${process.pid}`;
    const s = await sidecar(svc, 0);
    const raw = await RawDubboConnection.connect(s.port);
    try { assert.equal((await raw.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["quiet"] })).status, 20); } finally { await raw.close(); }
    await sleep(1000);
    assert.equal(of(svc)(collector.logs()).length, 0);
  });

  if (kind === "local") {
    test("no host call per request: one buffer read and one clock read per data callback, exports on the tick", async () => {
      const svc = `logcost-${process.pid}`;
      const s = await sidecar(svc);
      const local = s.proxy.local!;
      const raw = await RawDubboConnection.connect(s.port);
      try {
        await raw.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["warm"] });
        const before = local.abiCalls();
        for (let i = 0; i < 200; i++) assert.equal((await raw.request({ id: BigInt(2 + i), path: DEMO_SERVICE, method: "echo", args: [`c${i}`] })).status, 20);
        const after = local.abiCalls();
        const d = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
        const callbacks = d("proxy_on_downstream_data") + d("proxy_on_upstream_data");
        assert.ok(callbacks >= 400);
        assert.equal(d("proxy_get_buffer_bytes"), callbacks);
        assert.ok(d("proxy_get_current_time_nanoseconds") <= callbacks, `clock read ${d("proxy_get_current_time_nanoseconds")} times in ${callbacks} callbacks`);
        // What remains follows the tick (counters flushed, the batch exported), not the requests.
        const ticks = d("proxy_on_tick");
        assert.ok(d("proxy_grpc_call") <= 2 * (ticks + 1), `${d("proxy_grpc_call")} exports (spans, logs) in ${ticks} ticks`);
        assert.ok(d("proxy_increment_metric") <= 25 * (ticks + 1), `${d("proxy_increment_metric")} counter flushes in ${ticks} ticks`);
        assert.ok(d("proxy_get_property") <= 3, `${d("proxy_get_property")} property reads: once per connection`);
        for (const k of ["proxy_log", "proxy_record_metric", "proxy_define_metric"]) assert.equal(d(k), 0, k);
      } finally { await raw.close(); }
      await collector.waitForLogs((l) => of(svc)(l).length >= 201, 10000);
    });
  }
});

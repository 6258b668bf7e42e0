// Tracing through build/dubbo.wasm, read back from a real OpenTelemetry Collector, in real Envoy
// and the local host. One call crosses a consumer and a provider instrumented with the
// OpenTelemetry JS SDK and two sidecars between them (two proxies: the consumer's outbound one,
// spans of kind CLIENT, and the provider's inbound one, kind SERVER). Each sidecar continues the
// trace from the `traceparent` Dubbo attachment it receives and writes its own span's context
// on the request, so the four spans form one trace: consumer -> outbound -> inbound -> provider.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { startCollector, type Collector, type ReceivedSpan } from "../../envoy-dev/services/collector.ts";
import { startDubboProvider, type DubboProvider } from "../../envoy-dev/apps/dubbo-provider.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { encodeRequest } from "../../envoy-dev/apps/dubbo/codec.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { startSidecar, counterAtLeast, type Sidecar } from "../support/sidecar.ts";
import { appTracing, SpanKind, type AppTracing } from "./otel-app.ts";
import { sleep } from "../host/helpers.ts";

const SERVICE = "dubbo-demo.default.svc.cluster.local";
const KIND_SERVER = 2, KIND_CLIENT = 3;

let collector: Collector;
before(async () => { collector = await startCollector(); }, { timeout: 1_800_000 });
after(async () => { await collector?.close(); });

function tracingConfig(spanKind: "CLIENT" | "SERVER", serviceName: string, percent = 100, extra: object = {}): object {
  return {
    statPrefix: spanKind === "CLIENT" ? "out" : "in", statsFlushIntervalMs: 100,
    tracing: { collectorCluster: "otel", serviceName, spanKind, randomSamplingPercentage: percent },
    services: [{ name: SERVICE, routes: [{ name: "demo", match: { attributes: { interface: { exact: DEMO_SERVICE } } } }] }],
    ...extra,
  };
}

const byTrace = (traceId: string) => (s: ReceivedSpan[]) => s.filter((x) => x.traceId === traceId);

eachProxy("dubbo: one trace across a consumer, two sidecars and a provider (OpenTelemetry Collector)", (kind) => {
  let provider: DubboProvider, inbound: Sidecar, outbound: Sidecar, consumer: AppTracing, providerApp: AppTracing;
  const tag = `${kind}-${process.pid}`;
  before(async () => {
    consumer = appTracing(`consumer-${tag}`, collector.grpcPort);
    providerApp = appTracing(`provider-${tag}`, collector.grpcPort);
    // The provider's instrumentation: a SERVER span per call, child of the context it received.
    provider = await startDubboProvider({
      version: "v1",
      onCall: (c) => { providerApp.start(`${c.interface}/${c.method}`, SpanKind.SERVER, providerApp.extract(c.attachments)).end(); },
    });
    inbound = await startSidecar(kind, {
      protocol: "dubbo", listener: "dubbo_inbound", pluginConfig: tracingConfig("SERVER", `inbound-${tag}`),
      upstream: { name: "inbound|20880||", port: provider.port }, grpc: { otel: collector.grpcPort },
    });
    outbound = await startSidecar(kind, {
      protocol: "dubbo", listener: "dubbo_outbound", pluginConfig: tracingConfig("CLIENT", `outbound-${tag}`),
      upstream: { name: `outbound|20880||${SERVICE}`, port: inbound.port }, grpc: { otel: collector.grpcPort },
    });
  });
  after(async () => {
    await outbound?.close(); await inbound?.close(); await provider?.close();
    await consumer?.close(); await providerApp?.close();
  });

  test("consumer -> outbound (CLIENT) -> inbound (SERVER) -> provider: one trace, each span the parent of the next", async () => {
    const raw = await RawDubboConnection.connect(outbound.port);
    const span = consumer.start(`${DEMO_SERVICE}/sayHello`, SpanKind.CLIENT);
    const headers = consumer.inject(span);
    const traceId = span.spanContext().traceId;
    try {
      const r = await raw.request({ id: 42n, path: DEMO_SERVICE, method: "sayHello", args: ["trace"], attachments: headers });
      assert.equal(r.status, 20);
    } finally { span.end(); await raw.close(); }
    const spans = byTrace(traceId)(await collector.waitForSpans((s) => byTrace(traceId)(s).length >= 4, 10000));
    const [c, o, i, p] = [`consumer-${tag}`, `outbound-${tag}`, `inbound-${tag}`, `provider-${tag}`]
      .map((svc) => { const f = spans.filter((x) => x.resource["service.name"] === svc); assert.equal(f.length, 1, `${svc}: ${JSON.stringify(spans)}`); return f[0]; });
    assert.equal(o.parentSpanId, c.spanId, "the outbound sidecar continues the consumer's span");
    assert.equal(i.parentSpanId, o.spanId, "the inbound sidecar continues the outbound one");
    assert.equal(p.parentSpanId, i.spanId, "the provider continues the inbound sidecar's span");
    assert.deepEqual([o.kind, i.kind], [KIND_CLIENT, KIND_SERVER]);
    for (const s of [o, i]) {
      assert.equal(s.name, `${DEMO_SERVICE}/sayHello`);
      assert.equal(s.scope, "metaprotocol-wasm");
      assert.deepEqual(
        { system: s.attributes["rpc.system"], service: s.attributes["rpc.service"], method: s.attributes["rpc.method"], id: s.attributes.request_id,
          component: s.attributes.component, peer: s.attributes["peer.address"], route: s.attributes["metaprotocol.route"], status: s.attributes["metaprotocol.status"] },
        { system: "dubbo", service: DEMO_SERVICE, method: "sayHello", id: 42, component: "proxy", peer: "127.0.0.1", route: "demo", status: "ok" });
      assert.ok(Number(s.attributes.request_size) > 16 && Number(s.attributes.response_size) > 16, JSON.stringify(s.attributes));
      assert.equal(s.attributes.error, undefined);
      assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
    }
    assert.equal(o.attributes.upstream_cluster, `outbound|20880||${SERVICE}`);
    assert.equal(i.attributes.upstream_cluster, "inbound|20880||");
    // The sidecars' spans lie within the consumer's.
    assert.ok(BigInt(o.startTimeUnixNano) >= BigInt(c.startTimeUnixNano) && BigInt(o.endTimeUnixNano) <= BigInt(c.endTimeUnixNano));
    // What the provider received: the inbound sidecar's context, sampled.
    const call = provider.calls.find((x) => x.id === 42n && x.args[0] === "trace")!;
    assert.equal(call.attachments.traceparent, `00-${traceId}-${i.spanId}-01`);
  });

  test("a request without trace context starts a trace at the outbound sidecar", async () => {
    const raw = await RawDubboConnection.connect(outbound.port);
    try { assert.equal((await raw.request({ id: 7n, path: DEMO_SERVICE, method: "echo", args: ["fresh"] })).status, 20); } finally { await raw.close(); }
    const call = provider.calls.find((x) => x.args[0] === "fresh")!;
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(call.attachments.traceparent));
    assert.ok(m, `traceparent ${call.attachments.traceparent}`);
    const spans = byTrace(m[1])(await collector.waitForSpans((s) => byTrace(m[1])(s).length >= 3, 10000));
    const o = spans.find((s) => s.resource["service.name"] === `outbound-${tag}`)!;
    const i = spans.find((s) => s.resource["service.name"] === `inbound-${tag}`)!;
    assert.equal(o.parentSpanId, "", "the outbound span is the root");
    assert.equal(i.parentSpanId, o.spanId);
    assert.equal(m[2], i.spanId);
  });

  test("an error response marks both sidecars' spans (error = true, status ERROR)", async () => {
    const raw = await RawDubboConnection.connect(outbound.port);
    const span = consumer.start("noSuchMethod", SpanKind.CLIENT);
    try {
      const r = await raw.request({ id: 9n, path: DEMO_SERVICE, method: "noSuchMethod", args: ["x"], attachments: consumer.inject(span) });
      assert.notEqual(r.status, 20);
    } finally { span.end(); await raw.close(); }
    const traceId = span.spanContext().traceId;
    const spans = byTrace(traceId)(await collector.waitForSpans((s) => byTrace(traceId)(s).filter((x) => x.attributes.component === "proxy").length >= 2, 10000));
    for (const s of spans.filter((x) => x.attributes.component === "proxy")) {
      assert.equal(s.attributes.error, true);
      assert.equal(s.status.code, 2);
      assert.equal(s.attributes["metaprotocol.status"], "error");
    }
  });

  test("sampling follows the caller's decision; an unsampled trace records no span but still propagates", async () => {
    const raw = await RawDubboConnection.connect(outbound.port);
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736".replace(/^..../, Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0"));
    try {
      const r = await raw.request({ id: 11n, path: DEMO_SERVICE, method: "echo", args: ["unsampled"], attachments: { traceparent: `00-${traceId}-00f067aa0ba902b7-00` } });
      assert.equal(r.status, 20);
    } finally { await raw.close(); }
    const call = provider.calls.find((x) => x.args[0] === "unsampled")!;
    assert.equal(call.attachments.traceparent, `00-${traceId}-00f067aa0ba902b7-00`, "passed on unchanged (no rewrite)");
    await sleep(1500);
    assert.deepEqual(byTrace(traceId)(collector.spans()), []);
  });
});

eachProxy("dubbo: trace sampling percentage and the span batch", (kind) => {
  let provider: DubboProvider;
  const sidecars: Sidecar[] = [];
  before(async () => { provider = await startDubboProvider({ version: "v1" }); });
  after(async () => { for (const s of sidecars) await s.close(); await provider?.close(); });
  const sidecar = async (percent: number, serviceName: string, grpc: Record<string, number> = { otel: collector.grpcPort }) => {
    const s = await startSidecar(kind, { protocol: "dubbo", pluginConfig: tracingConfig("CLIENT", serviceName, percent), upstream: { name: "provider", port: provider.port }, grpc });
    sidecars.push(s);
    return s;
  };

  test("randomSamplingPercentage 0: new traces are not sampled, yet the decision is propagated (flags 00)", async () => {
    const svc = `zero-${kind}-${process.pid}`;
    const s = await sidecar(0, svc);
    const raw = await RawDubboConnection.connect(s.port);
    try { assert.equal((await raw.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["p0"] })).status, 20); } finally { await raw.close(); }
    assert.match(String(provider.calls.find((x) => x.args[0] === "p0")!.attachments.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    await sleep(1000);
    assert.equal(collector.spans().filter((x) => x.resource["service.name"] === svc).length, 0);
  });

  test("200 pipelined calls give 200 spans, exported in batches; a collector that is down costs counted spans, not memory", async () => {
    const svc = `batch-${kind}-${process.pid}`;
    const s = await sidecar(100, svc);
    const raw = await RawDubboConnection.connect(s.port);
    try {
      const ids = Array.from({ length: 200 }, (_, i) => BigInt(i + 1));
      const answers = ids.map((id) => raw.response(id));
      raw.write(Buffer.concat(ids.map((id) => encodeRequest({ id, path: DEMO_SERVICE, method: "echo", args: [`batch-${id}`] }))));
      assert.ok((await Promise.all(answers)).every((a) => a.status === 20));
    } finally { await raw.close(); }
    const spans = await collector.waitForSpans((x) => x.filter((y) => y.resource["service.name"] === svc).length >= 200, 10000);
    assert.equal(spans.filter((y) => y.resource["service.name"] === svc).length, 200);
    assert.equal(await counterAtLeast(s.proxy, "metaprotocol_out_tracing_spans_exported", 200), 200);

    const dead = await sidecar(100, `${svc}-dead`, { otel: 1 });
    const raw2 = await RawDubboConnection.connect(dead.port);
    try { assert.equal((await raw2.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["dead"] })).status, 20, "requests do not wait for the collector"); } finally { await raw2.close(); }
    assert.equal(await counterAtLeast(dead.proxy, "metaprotocol_out_tracing_spans_failed", 1), 1);
  });
});

// Tracing through build/thrift.wasm with Apache Thrift's Node library: the W3C trace context
// rides in THeader info headers (read from the request, written back with the sidecar's span),
// spans are read back from a real OpenTelemetry Collector, in real Envoy and the local host.
// Framed Thrift has no place for headers: the span is still recorded (a new trace) and the
// frame goes on unchanged, counted in tracing.propagation_unsupported.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { startCollector, type Collector } from "../../envoy-dev/services/collector.ts";
import { startThriftServer, type ThriftServer } from "../../envoy-dev/apps/thrift-server.ts";
import { connectGreeter } from "../../envoy-dev/apps/thrift-client.ts";
import { startSidecar, counterAtLeast, type Sidecar } from "../support/sidecar.ts";

let collector: Collector;
before(async () => { collector = await startCollector(); }, { timeout: 1_800_000 });
after(async () => { await collector?.close(); });

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");

eachProxy("thrift: trace context in THeader headers, spans to the OpenTelemetry Collector", (kind) => {
  const open: Array<{ close(): Promise<void> }> = [];
  after(async () => { for (const o of open.reverse()) await o.close(); });
  const sidecar = async (server: ThriftServer, serviceName: string): Promise<Sidecar> => {
    const s = await startSidecar(kind, {
      protocol: "thrift",
      pluginConfig: { statPrefix: "th", statsFlushIntervalMs: 100, tracing: { collectorCluster: "otel", serviceName, spanKind: "SERVER" } },
      upstream: { name: "inbound|9090||", port: server.port }, grpc: { otel: collector.grpcPort },
    });
    open.push(s);
    return s;
  };

  for (const protocol of ["binary", "compact"] as const) {
    test(`THeader (${protocol}): the caller's traceparent is continued and the server gets the sidecar's span`, async () => {
      const server = await startThriftServer({ version: "v1", transport: "header", protocol });
      open.push(server);
      const svc = `thrift-${protocol}-${kind}-${process.pid}`;
      const s = await sidecar(server, svc);
      const traceId = hex(32), parent = hex(16);
      const c = await connectGreeter({ host: "127.0.0.1", port: s.port, transport: "header", protocol, headers: { traceparent: `00-${traceId}-${parent}-01`, "x-tenant": "acme" } });
      try { assert.equal(await c.sayHello("trace"), "Hello trace, from v1"); } finally { await c.close(); }
      const spans = await collector.waitForSpans((x) => x.some((y) => y.traceId === traceId), 10000);
      const span = spans.find((y) => y.traceId === traceId)!;
      assert.equal(span.parentSpanId, parent);
      assert.equal(span.kind, 2);
      assert.equal(span.name, "sayHello");
      assert.equal(span.resource["service.name"], svc);
      assert.equal(span.attributes["rpc.system"], "thrift");
      assert.equal(span.attributes["rpc.method"], "sayHello");
      const req = server.requests.find((r) => r.method === "sayHello")!;
      assert.equal(req.headers.traceparent, `00-${traceId}-${span.spanId}-01`);
      assert.equal(req.headers["x-tenant"], "acme", "other headers are kept");
    });
  }

  test("framed Thrift: the span is recorded, the frame goes on unchanged (propagation_unsupported)", async () => {
    const server = await startThriftServer({ version: "v1", transport: "framed", protocol: "binary" });
    open.push(server);
    const svc = `thrift-framed-${kind}-${process.pid}`;
    const s = await sidecar(server, svc);
    const c = await connectGreeter({ host: "127.0.0.1", port: s.port, transport: "framed", protocol: "binary" });
    try { assert.equal(await c.add(2, 3), 5); } finally { await c.close(); }
    const spans = await collector.waitForSpans((x) => x.some((y) => y.resource["service.name"] === svc), 10000);
    const span = spans.find((y) => y.resource["service.name"] === svc)!;
    assert.equal(span.name, "add");
    assert.equal(span.parentSpanId, "");
    assert.equal(await counterAtLeast(s.proxy, "metaprotocol_th_tracing_propagation_unsupported", 1), 1);
  });
});

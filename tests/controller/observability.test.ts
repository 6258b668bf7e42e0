// Settings for tracing, access log and latency histograms, and what they put in plugin configs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSettings } from "../../controller/src/model/settings.js";
import { pluginConfig } from "../../controller/src/translate/plugin-config.js";

const COLLECTOR = "service: otel-collector.observability.svc.cluster.local\n  port: 4317";

test("tracing, accessLog and latencyHistogram settings reach every plugin config, with the plugin's side", () => {
  const s = parseSettings(`tracing:\n  ${COLLECTOR}\n  randomSamplingPercentage: 0.5\naccessLog:\n  ${COLLECTOR}\nlatencyHistogram: true\n`);
  assert.deepEqual(pluginConfig("dubbo_inbound_20880", [], s, { spanKind: "SERVER", serviceName: "orders.shop.svc.cluster.local" }), {
    statPrefix: "dubbo_inbound_20880",
    latencyHistogram: true,
    tracing: { collectorCluster: "outbound|4317||otel-collector.observability.svc.cluster.local", serviceName: "orders.shop.svc.cluster.local", randomSamplingPercentage: 0.5, spanKind: "SERVER" },
    accessLog: { collectorCluster: "outbound|4317||otel-collector.observability.svc.cluster.local", serviceName: "orders.shop.svc.cluster.local" },
  });
});

test("bad observability settings stop the controller with the field named", () => {
  for (const [text, message] of [
    ["tracing: { service: otel, port: 4317 }", /settings\.tracing\.service: must be the collector's host name/],
    ["tracing: { service: a.b, port: 0 }", /settings\.tracing\.port: must be the collector's OTLP\/gRPC port/],
    ["accessLog: { service: a.b, port: 4317, randomSamplingPercentage: 101 }", /settings\.accessLog\.randomSamplingPercentage/],
    ["accessLog: { service: a.b, port: 4317, sampling: 1 }", /settings\.accessLog\.sampling: unknown field/],
    ["latencyHistogram: yes", /settings\.latencyHistogram: must be true or false/],
  ] as const) assert.throws(() => parseSettings(text), message, text);
});

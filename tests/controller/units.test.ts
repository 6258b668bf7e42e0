// Small pure pieces the golden cases do not pin down one by one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { protocolOfPortName } from "../../controller/src/translate/catalog.js";
import { re2Error, alternation } from "../../controller/src/translate/regex.js";
import { durationMs, formatDuration } from "../../controller/src/translate/duration.js";
import { moduleFlag, parseSettings } from "../../controller/src/model/settings.js";
import { objectName } from "../../controller/src/translate/objects.js";
import { DEFAULT_SETTINGS } from "../../controller/src/model/types.js";

test("port names select a protocol; bare or malformed metaprotocol names are errors, others ignored", () => {
  assert.deepEqual(protocolOfPortName("tcp-metaprotocol-dubbo"), { protocol: "dubbo" });
  assert.deepEqual(protocolOfPortName("tcp-metaprotocol-thrift-hello-server"), { protocol: "thrift" });
  assert.ok("error" in (protocolOfPortName("tcp-metaprotocol") as object));
  assert.ok("error" in (protocolOfPortName("tcp-metaprotocol-") as object));
  assert.ok("error" in (protocolOfPortName("tcp-metaprotocol-Dubbo") as object));
  assert.equal(protocolOfPortName("tcp-mysql"), null);
  assert.equal(protocolOfPortName(undefined), null);
});

test("regexes RE2 cannot run are refused; literals are escaped in alternations", () => {
  assert.equal(re2Error("say(Hello|Bye)"), null);
  // RE2's own words (re2-wasm runs Google's RE2)
  assert.equal(re2Error("a(?=b)"), "invalid perl operator: (?=");
  assert.equal(re2Error("(a)\\1"), "invalid escape sequence: \\1");
  assert.ok(re2Error("a("));
  assert.equal(alternation(["a.B", "c$"]), "a\\.B|c\\$");
  assert.ok(new RegExp(`^(?:${alternation(["a.B", "c"])})$`).test("a.B") && !new RegExp(`^(?:${alternation(["a.B"])})$`).test("axB"));
});

test("durations normalise to the plugin config's s / ms forms", () => {
  assert.equal(durationMs("1m30s"), 90_000);
  assert.equal(formatDuration(durationMs("0.5s")!), "500ms");
  assert.equal(formatDuration(durationMs("2s")!), "2s");
  assert.equal(durationMs("soon"), null);
  assert.equal(durationMs("5"), null);
});

test("settings refuse unknown fields and bad values, naming the field", () => {
  assert.throws(() => parseSettings("colour: red"), /settings\.colour/);
  assert.throws(() => parseSettings("failStrategy: MAYBE"), /settings\.failStrategy/);
  assert.throws(() => parseSettings("modules: { dubbo: { url: ftp://x } }"), /settings\.modules\.dubbo\.url/);
  const s = moduleFlag(DEFAULT_SETTINGS, `thrift=oci://r/t:1@sha256:${"a".repeat(64)}`);
  assert.deepEqual(s.modules.thrift, { url: "oci://r/t:1", sha256: "a".repeat(64) });
  assert.deepEqual(DEFAULT_SETTINGS.modules, {}, "defaults are not mutated");
});

test("object names are DNS labels of at most 63 characters and stay unique when shortened", () => {
  const a = objectName("metaprotocol", "dubbo", 20880, "inbound", "x".repeat(80));
  const b = objectName("metaprotocol", "dubbo", 20880, "inbound", "x".repeat(79) + "y");
  assert.ok(a.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(a));
  assert.notEqual(a, b);
});

test("rendered YAML keeps strings strings for YAML 1.1 readers (kubectl, Istio): yes, on, y, no are quoted", async () => {
  const { renderYaml } = await import("../../controller/src/render.js");
  const { parse } = await import("yaml");
  const obj = { apiVersion: "v1", kind: "X", metadata: { name: "x" }, spec: { values: ["yes", "on", "y", "no", "off", "true", "1_000", "2001-01-01"] } };
  const text = renderYaml({ objects: [obj] } as any);
  assert.deepEqual(parse(text.replace(/^---\n/, ""), { version: "1.1" }), obj);
});

test("settings.methodStats turns on per-method counters in every plugin config, and is checked", async () => {
  const { pluginConfig } = await import("../../controller/src/translate/plugin-config.js");
  const on = parseSettings("methodStats: true");
  assert.equal(on.methodStats, true);
  assert.deepEqual(pluginConfig("dubbo_outbound_20880", [], on), { statPrefix: "dubbo_outbound_20880", methodStats: true });
  assert.deepEqual(pluginConfig("dubbo_outbound_20880", [], DEFAULT_SETTINGS), { statPrefix: "dubbo_outbound_20880" });
  assert.throws(() => parseSettings("methodStats: yes please"), /settings\.methodStats: must be true or false/);
});

test("settings.extensionKind: TrafficExtension carries the same Wasm fields under spec.wasm; a bad value is refused", async () => {
  const { wasmPlugin } = await import("../../controller/src/translate/objects.js");
  const args = { name: "n", namespace: "istio-system", protocol: "dubbo", direction: "outbound" as const, module: { url: "oci://r/dubbo:1", sha256: "a".repeat(64) },
    port: 20880, pluginConfig: { statPrefix: "x" } };
  const wp = wasmPlugin({ ...args, settings: DEFAULT_SETTINGS });
  const te = wasmPlugin({ ...args, settings: parseSettings("extensionKind: TrafficExtension") });
  assert.equal(wp.kind, "WasmPlugin");
  assert.equal(te.kind, "TrafficExtension");
  assert.equal(te.apiVersion, "extensions.istio.io/v1alpha1");
  const { match, pluginConfig, ...wasmFields } = wp.spec;
  assert.deepEqual(te.spec, { match, wasm: { ...wasmFields, pluginConfig } });
  assert.throws(() => parseSettings("extensionKind: EnvoyFilter"), /settings\.extensionKind: must be one of WasmPlugin, TrafficExtension/);
});

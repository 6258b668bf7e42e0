// The protobuf JSON mapping as Envoy's loader applies it, and the marked API additions.
import { test } from "node:test";
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { validateEnvoyMessage } from "../../envoy-dev/validate/index.ts";
import { lookupMessage } from "../../envoy-dev/validate/proto-root.ts";

const TCP = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
const ok = { stat_prefix: "s", cluster: "c" };

test("original and lowerCamel names are both accepted, but not both at once", () => {
  assert.deepEqual(validateEnvoyMessage(TCP, { statPrefix: "s", cluster: "c", idleTimeout: "1.5s", maxConnectAttempts: 2 }), []);
  assert.match(validateEnvoyMessage(TCP, { ...ok, statPrefix: "t" }).join(), /^statPrefix: field "stat_prefix" given twice/);
});

test("enums by name or number; unknown ones refused", () => {
  assert.deepEqual(validateEnvoyMessage(TCP, { ...ok, upstream_connect_mode: 1, max_early_data_bytes: 0 }), []);
  assert.match(validateEnvoyMessage(TCP, { ...ok, upstream_connect_mode: 7 }).join(), /^upstream_connect_mode: unknown number 7/);
});

test("integers: 64-bit as number or string, ranges enforced", () => {
  const C = "envoy.config.cluster.v3.Cluster";
  assert.deepEqual(validateEnvoyMessage(C, { name: "c", per_connection_buffer_limit_bytes: 1024, lb_subset_config: undefined }), []);
  assert.match(validateEnvoyMessage(C, { name: "c", per_connection_buffer_limit_bytes: 2 ** 33 }).join(), /out of range for uint32/);
  assert.deepEqual(validateEnvoyMessage("envoy.config.core.v3.RuntimeUInt32", { default_value: 3, runtime_key: "k" }), []);
  const typed = "envoy.type.v3.Int64Range";
  assert.deepEqual(validateEnvoyMessage(typed, { start: "-9223372036854775808", end: 5 }), []);
  assert.match(validateEnvoyMessage(typed, { start: "9223372036854775808" }).join(), /^start: .* out of range for int64/);
});

test("Any: payload checked recursively, StringValue/Struct/TypedStruct forms", () => {
  const W = "envoy.extensions.filters.network.wasm.v3.Wasm";
  assert.deepEqual(validateEnvoyMessage(W, { config: { configuration: { "@type": "type.googleapis.com/google.protobuf.Struct", value: { any: ["thing", 1] } } } }), []);
  assert.match(validateEnvoyMessage(W, { config: { configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: "{}", extra: 1 } } }).join(),
    /^config\.configuration\.extra: unknown field "extra"/);
  assert.match(validateEnvoyMessage(W, { config: { configuration: { value: "{}" } } }).join(), /^config\.configuration\.@type: missing/);
  const ts = { "@type": "type.googleapis.com/xds.type.v3.TypedStruct", type_url: `type.googleapis.com/${TCP}`, value: { stat_prefix: "s", cluster: "c", bogus: true } };
  assert.match(validateEnvoyMessage("envoy.config.listener.v3.Filter", { name: "f", typed_config: ts }).join(), /^typed_config\.value\.bogus: unknown field/);
});

test("partial mode (EnvoyFilter MERGE) skips presence but not correctness", () => {
  assert.deepEqual(validateEnvoyMessage(TCP, { upstream_connect_mode: "ON_DOWNSTREAM_DATA", max_early_data_bytes: 1 }, { partial: true }), []);
  assert.notDeepEqual(validateEnvoyMessage(TCP, { upstream_connect_mode: "ON_DOWNSTREAM_DATA", max_early_data_bytes: 1 }), []);
  assert.match(validateEnvoyMessage(TCP, { idle_timeout: 5 }, { partial: true }).join(), /^idle_timeout: expected a duration/);
});

test("the Envoy >= 1.37 additions carry Envoy's numbers and values", () => {
  const tcp = lookupMessage(TCP)!;
  assert.equal(tcp.fields.upstream_connect_mode.id, 21);
  assert.equal(tcp.fields.max_early_data_bytes.id, 22);
  assert.equal(tcp.fields.max_early_data_bytes.resolvedType?.fullName, ".google.protobuf.UInt32Value");
  const mode = tcp.fields.upstream_connect_mode.resolvedType as protobuf.Enum;
  assert.deepEqual({ ...mode.values }, { IMMEDIATE: 0, ON_DOWNSTREAM_DATA: 1, ON_DOWNSTREAM_TLS_HANDSHAKE: 2 });
  const pc = lookupMessage("envoy.extensions.wasm.v3.PluginConfig")!;
  assert.equal(pc.fields.failure_policy.id, 7);
  assert.equal(pc.fields.reload_config.id, 8);
  assert.deepEqual({ ...(pc.fields.failure_policy.resolvedType as protobuf.Enum).values }, { UNSPECIFIED: 0, FAIL_RELOAD: 1, FAIL_CLOSED: 2, FAIL_OPEN: 3 });
});

test("an unknown message type name is an error, not a pass", () => {
  assert.deepEqual(validateEnvoyMessage("envoy.config.bootstrap.v3.Bootstrapp", {}), ['<root>: unknown message type "envoy.config.bootstrap.v3.Bootstrapp"']);
});

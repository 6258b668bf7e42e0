// ============================================================================================
// ENVOY API ADDITIONS: fields and types of Envoy >= 1.37 that the protos shipped in
// @grpc/grpc-js-xds (1.14) do not have yet. This is the ONLY place where the validator's API
// differs from the npm protos. Every entry names its source. Only what this project writes is
// added, so the check stays strict for everything else.
//
// If a later @grpc/grpc-js-xds ships one of these, the entry is checked against the shipped
// definition (same number and type) instead of being added twice; a mismatch throws, so a
// wrong entry here cannot hide.
//
// Sources (names, numbers, types, enum values):
// - tcp_proxy: envoyproxy/envoy api/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto,
//   added by envoyproxy/envoy PR #41696 (released in v1.37): top-level enum UpstreamConnectMode
//   {IMMEDIATE = 0; ON_DOWNSTREAM_DATA = 1; ON_DOWNSTREAM_TLS_HANDSHAKE = 2;},
//   `UpstreamConnectMode upstream_connect_mode = 21;`,
//   `google.protobuf.UInt32Value max_early_data_bytes = 22 [(validate.rules).uint32 = {lte: 1048576}];`
//   ("[#next-free-field: 23]"). Cross-checked with code generated from that proto
//   (proxyconf/envoy_xds_ex lib/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.ex,
//   envoy-cue spec extensions/filters/network/tcp_proxy/v3) and Istio's use of
//   tcp.UpstreamConnectMode_ON_DOWNSTREAM_TLS_HANDSHAKE + MaxEarlyDataBytes.
// - wasm: envoyproxy/envoy api/envoy/extensions/wasm/v3/wasm.proto (>= 1.33): top-level enum
//   FailurePolicy {UNSPECIFIED = 0; FAIL_RELOAD = 1; FAIL_CLOSED = 2; FAIL_OPEN = 3;},
//   message ReloadConfig { config.core.v3.BackoffStrategy backoff = 1; },
//   PluginConfig `FailurePolicy failure_policy = 7;` and `ReloadConfig reload_config = 8;`
//   ("[#next-free-field: 9]"; fail_open = 5 became deprecated). Cross-checked with
//   proxyconf/envoy_xds_ex lib/envoy/extensions/wasm/v3/wasm.pb.ex, the API reference
//   https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/wasm/v3/wasm.proto and Istio's
//   WasmPlugin failStrategy -> wasmextensions.FailurePolicy_FAIL_{OPEN,CLOSED,RELOAD}.
// ============================================================================================
import protobuf from "protobufjs";

interface EnumAddition { kind: "enum"; parent: string; name: string; values: Record<string, number> }
interface MessageAddition { kind: "message"; parent: string; name: string }
interface FieldAddition {
  kind: "field"; message: string; name: string; id: number; type: string;
  options?: Record<string, unknown>;
}
type Addition = EnumAddition | MessageAddition | FieldAddition;

const TCP = "envoy.extensions.filters.network.tcp_proxy.v3";
const WASM = "envoy.extensions.wasm.v3";

export const ENVOY_API_ADDITIONS: readonly Addition[] = [
  { kind: "enum", parent: TCP, name: "UpstreamConnectMode",
    values: { IMMEDIATE: 0, ON_DOWNSTREAM_DATA: 1, ON_DOWNSTREAM_TLS_HANDSHAKE: 2 } },
  { kind: "field", message: `${TCP}.TcpProxy`, name: "upstream_connect_mode", id: 21,
    type: `.${TCP}.UpstreamConnectMode` },
  { kind: "field", message: `${TCP}.TcpProxy`, name: "max_early_data_bytes", id: 22,
    type: ".google.protobuf.UInt32Value", options: { "(validate.rules).uint32.lte": 1048576 } },

  { kind: "enum", parent: WASM, name: "FailurePolicy",
    values: { UNSPECIFIED: 0, FAIL_RELOAD: 1, FAIL_CLOSED: 2, FAIL_OPEN: 3 } },
  { kind: "message", parent: WASM, name: "ReloadConfig" },
  { kind: "field", message: `${WASM}.ReloadConfig`, name: "backoff", id: 1,
    type: ".envoy.config.core.v3.BackoffStrategy" },
  { kind: "field", message: `${WASM}.PluginConfig`, name: "failure_policy", id: 7,
    type: `.${WASM}.FailurePolicy` },
  { kind: "field", message: `${WASM}.PluginConfig`, name: "reload_config", id: 8,
    type: `.${WASM}.ReloadConfig` },
];

function namespace(root: protobuf.Root, name: string): protobuf.Namespace {
  const ns = root.lookup(name);
  if (!(ns instanceof protobuf.Namespace)) throw new Error(`envoy-api-additions: no namespace ${name}`);
  return ns;
}

function applyOne(root: protobuf.Root, a: Addition): void {
  if (a.kind === "enum") {
    const existing = namespace(root, a.parent).get(a.name);
    if (existing) {
      const ok = existing instanceof protobuf.Enum &&
        Object.entries(a.values).every(([k, v]) => existing.values[k] === v);
      if (!ok) throw new Error(`envoy-api-additions: shipped ${a.parent}.${a.name} differs from the addition`);
      return;
    }
    namespace(root, a.parent).add(new protobuf.Enum(a.name, a.values));
  } else if (a.kind === "message") {
    const ns = namespace(root, a.parent);
    if (!ns.get(a.name)) ns.add(new protobuf.Type(a.name));
  } else {
    const type = root.lookupType(a.message);
    const existing = type.fields[a.name];
    if (existing) {
      const shippedType = existing.type.replace(/^\./, "");
      if (existing.id !== a.id || !a.type.endsWith(shippedType)) {
        throw new Error(`envoy-api-additions: shipped ${a.message}.${a.name} (= ${existing.id}, ${existing.type}) differs from the addition`);
      }
      return;
    }
    if (type.fieldsById[a.id]) throw new Error(`envoy-api-additions: ${a.message} already uses field number ${a.id}`);
    const field = new protobuf.Field(a.name, a.id, a.type, undefined, undefined, a.options);
    type.add(field);
    field.resolve(); // loadSync has already resolved the root; new fields must resolve themselves
  }
}

/** Adds the entries above to a freshly loaded root. */
export function applyEnvoyApiAdditions(root: protobuf.Root): void {
  for (const a of ENVOY_API_ADDITIONS) applyOne(root, a);
}

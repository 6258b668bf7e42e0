// istio/: what a user applies by hand without the controller. Valid Istio resources (Istio's own
// CRD schemas of every pinned release, no unknown fields), EnvoyFilter patches valid against Envoy's API, and the same rules and
// names as envoy-dev/envoy.yaml. Broken copies show each check bites, with the path named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse, parseAllDocuments } from "yaml";
import { validateIstioResource } from "../../envoy-dev/validate/index.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const envoyYaml = parse(readFileSync(`${ROOT}envoy-dev/envoy.yaml`, "utf8"));
const load = (f: string) => parseAllDocuments(readFileSync(`${ROOT}istio/${f}`, "utf8")).map((d) => d.toJS()).filter(Boolean);
const DEMOS = [
  { file: "dubbo-demo.yaml", listener: "dubbo_outbound" },
  { file: "thrift-demo.yaml", listener: "thrift_outbound" },
];
const byKind = (docs: any[], kind: string) => docs.find((d) => d.kind === kind);

for (const { file, listener } of DEMOS) {
  const docs = load(file);
  const l = envoyYaml.static_resources.listeners.find((x: any) => x.name === listener);
  const wasmConfig = l.filter_chains[0].filters[0].typed_config.config;
  const port = l.address.socket_address.port_value;

  test(`${file}: every resource is valid`, () => {
    assert.deepEqual(docs.map((d) => d.kind).sort(), ["DestinationRule", "EnvoyFilter", "ServiceEntry", "WasmPlugin"]);
    for (const d of docs) assert.deepEqual(validateIstioResource(d), [], `${d.kind}/${d.metadata.name}`);
  });

  test(`${file}: the WasmPlugin is the envoy.yaml filter, delivered by Istio`, () => {
    const wp = byKind(docs, "WasmPlugin").spec;
    assert.equal(wp.type, "NETWORK");
    assert.match(wp.url, /^(oci|https):\/\//);
    assert.equal(wp.pluginName, wasmConfig.root_id);
    assert.equal(wp.failStrategy, "FAIL_CLOSE"); // Istio's name for envoy.yaml's FAIL_CLOSED
    assert.equal(wasmConfig.failure_policy, "FAIL_CLOSED");
    assert.deepEqual(wp.match, [{ mode: "CLIENT", ports: [{ number: port }] }]);
    const plugin = JSON.parse(wasmConfig.configuration.value);
    assert.equal(wp.pluginConfig.statPrefix, plugin.statPrefix);
    assert.deepEqual(wp.pluginConfig.services, plugin.services);
  });

  test(`${file}: every cluster the rules name exists in Istio (service port x subsets)`, () => {
    const se = byKind(docs, "ServiceEntry").spec, dr = byKind(docs, "DestinationRule").spec;
    assert.equal(dr.host, se.hosts[0]);
    assert.deepEqual(dr.subsets.map((s: any) => s.name), ["v1", "v2"]);
    assert.match(se.ports[0].name, /^tcp-metaprotocol-[a-z]+-/);
    const clusters = new Set(se.ports.flatMap((p: any) => ["", ...dr.subsets.map((s: any) => s.name)].map((s) => `outbound|${p.number}|${s}|${se.hosts[0]}`)));
    const named = byKind(docs, "WasmPlugin").spec.pluginConfig.services.flatMap((s: any) =>
      [s.defaultCluster, ...s.routes.flatMap((r: any) => r.route.map((d: any) => d.cluster))]);
    for (const c of named) assert.ok(clusters.has(c), `${c} is an Istio cluster`);
  });

  test(`${file}: the EnvoyFilter makes the outbound tcp_proxy on port ${port} wait for data`, () => {
    const [cp, ...rest] = byKind(docs, "EnvoyFilter").spec.configPatches;
    assert.equal(rest.length, 0);
    assert.equal(cp.applyTo, "NETWORK_FILTER");
    assert.equal(cp.match.context, "SIDECAR_OUTBOUND");
    assert.equal(cp.match.listener.portNumber, port);
    assert.equal(cp.match.listener.filterChain.filter.name, "envoy.filters.network.tcp_proxy");
    const tcp = cp.patch.value.typed_config;
    const local = l.filter_chains[0].filters[1].typed_config;
    assert.equal(tcp.upstream_connect_mode, local.upstream_connect_mode);
    assert.equal(tcp.max_early_data_bytes, local.max_early_data_bytes);
  });
}

// Broken copies of the Dubbo demo's resources.
const dubbo = load("dubbo-demo.yaml");
function broken(kind: string, edit: (spec: any) => void): string[] {
  const copy = structuredClone(byKind(dubbo, kind));
  edit(copy.spec);
  return validateIstioResource(copy);
}
const CASES: Array<[string, string, (s: any) => void, string]> = [
  ["WasmPlugin", "unknown field", (s) => { s.match[0].portz = s.match[0].ports; }, 'WasmPlugin/metaprotocol-dubbo spec.match[0].portz: unknown field "portz"'],
  ["WasmPlugin", "wrong enum value (Envoy's name)", (s) => { s.failStrategy = "FAIL_CLOSED"; }, 'WasmPlugin/metaprotocol-dubbo spec.failStrategy: must be one of "FAIL_CLOSE", "FAIL_OPEN"'],
  ["WasmPlugin", "wrong type", (s) => { s.match[0].ports[0].number = "20880"; }, "WasmPlugin/metaprotocol-dubbo spec.match[0].ports[0].number: must be of type integer, got string"],
  ["EnvoyFilter", "unresolvable @type", (s) => { s.configPatches[0].patch.value.typed_config["@type"] += "x"; },
    "EnvoyFilter/metaprotocol-dubbo-connect-on-data spec.configPatches[0].patch.value.typed_config.@type: unresolvable type URL"],
  ["EnvoyFilter", "wrong enum value", (s) => { s.configPatches[0].patch.value.typed_config.upstream_connect_mode = "ON_DATA"; },
    'EnvoyFilter/metaprotocol-dubbo-connect-on-data spec.configPatches[0].patch.value.typed_config.upstream_connect_mode: unknown value "ON_DATA"'],
  ["EnvoyFilter", "wrong type", (s) => { s.configPatches[0].patch.value.typed_config.max_early_data_bytes = true; },
    "EnvoyFilter/metaprotocol-dubbo-connect-on-data spec.configPatches[0].patch.value.typed_config.max_early_data_bytes: expected an integer"],
  ["EnvoyFilter", "unknown field in the patch", (s) => { s.configPatches[0].patch.value.typed_config.connect_mode = "ON_DOWNSTREAM_DATA"; },
    'EnvoyFilter/metaprotocol-dubbo-connect-on-data spec.configPatches[0].patch.value.typed_config.connect_mode: unknown field "connect_mode"'],
  ["EnvoyFilter", "mode without max_early_data_bytes", (s) => { delete s.configPatches[0].patch.value.typed_config.max_early_data_bytes; },
    "EnvoyFilter/metaprotocol-dubbo-connect-on-data spec.configPatches[0].patch.value.typed_config.max_early_data_bytes: required"],
  ["DestinationRule", "unknown field", (s) => { s.subsets[0].label = { version: "v1" }; }, 'DestinationRule/dubbo-demo spec.subsets[0].label: unknown field "label"'],
  ["ServiceEntry", "wrong enum value", (s) => { s.resolution = "STATIC_IP"; }, 'ServiceEntry/dubbo-demo spec.resolution: must be one of "NONE", "STATIC", "DNS"'],
];
for (const [kind, what, edit, expected] of CASES) {
  test(`a broken ${kind} is refused: ${what}`, () => {
    const errors = broken(kind, edit);
    assert.ok(errors.some((e) => e.startsWith(expected)), `expected an error starting with\n  ${expected}\ngot\n  ${errors.join("\n  ")}`);
  });
}

test("the validator applies Istio's CRDs as the API server does: oneOf exclusions, bounds, unknown fields at any depth, every apiVersion served", () => {
  const wp = structuredClone(byKind(dubbo, "WasmPlugin"));
  assert.deepEqual(validateIstioResource({ ...wp, apiVersion: "extensions.istio.io/v1alpha1" }), []);
  const se = structuredClone(byKind(dubbo, "ServiceEntry"));
  for (const v of ["v1", "v1beta1", "v1alpha3"]) assert.deepEqual(validateIstioResource({ ...se, apiVersion: `networking.istio.io/${v}` }), [], v);
  assert.match(validateIstioResource({ ...se, apiVersion: "networking.istio.io/v2" })[0], /unsupported apiVersion\/kind/);
  const dr = structuredClone(byKind(dubbo, "DestinationRule"));
  dr.spec.trafficPolicy = { loadBalancer: { simple: "ROUND_ROBIN", consistentHash: { httpHeaderName: "method" } } };
  assert.ok(validateIstioResource(dr).some((e) => /spec\.trafficPolicy\.loadBalancer: must satisfy exactly one of oneOf/.test(e)), validateIstioResource(dr).join("\n"));
  // (Istio checks port ranges and the like in CEL rules, which only the real API server runs: tests/mesh.)
  se.spec.workloadSelector = { labels: { app: "x" }, colour: "red" };
  assert.deepEqual(validateIstioResource(se), ['ServiceEntry/dubbo-demo spec.workloadSelector.colour: unknown field "colour"']);
});

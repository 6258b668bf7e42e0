// envoy-dev/envoy.yaml is what docker compose gives the real Envoy: it must load there the
// first time. Checked against Envoy's API protos, then for the shape the project relies on,
// then broken on purpose to show the check catches each kind of mistake by path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseDocument } from "yaml";
import { validateBootstrapYaml } from "../../envoy-dev/validate/index.ts";

const ENVOY_YAML = new URL("../../envoy-dev/envoy.yaml", import.meta.url).pathname;
const text = readFileSync(ENVOY_YAML, "utf8");
const config = parseDocument(text).toJS();
const WASM = "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";
const TCP = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

test("envoy.yaml is a valid Envoy bootstrap", () => {
  assert.deepEqual(validateBootstrapYaml(ENVOY_YAML), []);
});

test("each listener is the wasm filter then tcp_proxy with one cluster, connecting on first data", () => {
  const listeners = config.static_resources.listeners;
  assert.deepEqual(listeners.map((l: any) => l.name), ["dubbo_outbound", "thrift_outbound"]);
  const clusterNames = new Set(config.static_resources.clusters.map((c: any) => c.name));
  for (const l of listeners) {
    const [wasm, tcp, ...rest] = l.filter_chains[0].filters;
    assert.equal(rest.length, 0, l.name);
    assert.equal(wasm.typed_config["@type"], WASM);
    const pc = wasm.typed_config.config;
    const module = basename(pc.vm_config.code.local.filename, ".wasm");
    assert.equal(pc.root_id, `metaprotocol-${module}`, "root_id is the module's root name");
    assert.equal(pc.vm_config.runtime, "envoy.wasm.runtime.v8");
    assert.ok(["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"].includes(pc.failure_policy), "explicit failure_policy");
    assert.match(pc.vm_config.code.local.filename, /^\/etc\/envoy\/wasm\/[a-z]+\.wasm$/);
    assert.equal(pc.configuration["@type"], "type.googleapis.com/google.protobuf.StringValue");
    const plugin = JSON.parse(pc.configuration.value);
    assert.equal(tcp.typed_config["@type"], TCP);
    assert.equal(typeof tcp.typed_config.cluster, "string", "single cluster (weighted_clusters would ignore the filter's choice)");
    assert.equal(tcp.typed_config.weighted_clusters, undefined);
    assert.equal(tcp.typed_config.upstream_connect_mode, "ON_DOWNSTREAM_DATA");
    assert.ok(tcp.typed_config.max_early_data_bytes > 0);
    // Every cluster the filter or tcp_proxy can pick exists, named as Istio names them.
    const port = l.address.socket_address.port_value;
    const named = [tcp.typed_config.cluster, ...plugin.services.flatMap((s: any) =>
      [s.defaultCluster, ...s.routes.flatMap((r: any) => (r.route ?? []).map((d: any) => d.cluster))])];
    for (const c of named) {
      assert.ok(clusterNames.has(c), `${l.name}: cluster ${c} is defined`);
      assert.match(c, new RegExp(`^outbound\\|${port}\\|(v1|v2)?\\|[a-z-]+\\.default\\.svc\\.cluster\\.local$`));
    }
  }
});

test("admin listens on port 9901", () => {
  assert.equal(config.admin.address.socket_address.port_value, 9901);
});

// A copy of envoy.yaml with one edit, written to a temp file and validated like the original.
function brokenCopy(edit: (doc: ReturnType<typeof parseDocument>) => void): string[] {
  const doc = parseDocument(text);
  edit(doc);
  const file = join(mkdtempSync(join(tmpdir(), "envoy-yaml-")), "envoy.yaml");
  writeFileSync(file, doc.toString());
  return validateBootstrapYaml(file);
}
const L0 = ["static_resources", "listeners", 0, "filter_chains", 0, "filters"];
const dubboWasm = [...L0, 0, "typed_config"];
const dubboTcp = [...L0, 1, "typed_config"];

const BROKEN: Array<[string, (d: any) => void, string]> = [
  ["unknown field", (d) => d.setIn([...dubboTcp, "upstream_connect"], "ON_DOWNSTREAM_DATA"),
    'static_resources.listeners[0].filter_chains[0].filters[1].typed_config.upstream_connect: unknown field "upstream_connect"'],
  ["wrong enum value", (d) => d.setIn([...dubboWasm, "config", "failure_policy"], "FAIL_CLOSE"),
    'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.config.failure_policy: unknown value "FAIL_CLOSE"'],
  ["wrong type", (d) => d.setIn([...dubboTcp, "max_early_data_bytes"], "64k"),
    'static_resources.listeners[0].filter_chains[0].filters[1].typed_config.max_early_data_bytes: expected an integer (uint32), got "64k"'],
  ["unresolvable @type", (d) => d.setIn([...dubboTcp, "@type"], TCP.replace("v3.TcpProxy", "v3.TcpProxyy")),
    'static_resources.listeners[0].filter_chains[0].filters[1].typed_config.@type: unresolvable type URL'],
  ["oneof conflict", (d) => d.setIn([...dubboTcp, "weighted_clusters"], { clusters: [{ name: "a", weight: 1 }] }),
    'static_resources.listeners[0].filter_chains[0].filters[1].typed_config: oneof "cluster_specifier"'],
  ["scalar where a list is expected", (d) => d.setIn(["static_resources", "clusters"], { name: "c" }),
    "static_resources.clusters: expected a list"],
  ["bad duration", (d) => d.setIn(["static_resources", "clusters", 0, "connect_timeout"], "1 second"),
    "static_resources.clusters[0].connect_timeout: expected a duration"],
  ["wrapper written as an object", (d) => d.setIn([...dubboTcp, "max_early_data_bytes"], { value: 65536 }),
    "static_resources.listeners[0].filter_chains[0].filters[1].typed_config.max_early_data_bytes: expected an integer"],
  ["over Envoy's max_early_data_bytes limit", (d) => d.setIn([...dubboTcp, "max_early_data_bytes"], 2097152),
    "static_resources.listeners[0].filter_chains[0].filters[1].typed_config.max_early_data_bytes: must be at most 1048576"],
  ["ON_DOWNSTREAM_DATA without max_early_data_bytes", (d) => d.deleteIn([...dubboTcp, "max_early_data_bytes"]),
    "static_resources.listeners[0].filter_chains[0].filters[1].typed_config.max_early_data_bytes: required when upstream_connect_mode is ON_DOWNSTREAM_DATA"],
  ["missing required stat_prefix", (d) => d.deleteIn([...dubboTcp, "stat_prefix"]),
    "static_resources.listeners[0].filter_chains[0].filters[1].typed_config.stat_prefix: must not be empty"],
  ["plugin configuration not a string", (d) => d.setIn([...dubboWasm, "config", "configuration", "value"], { statPrefix: "x" }),
    "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.config.configuration.value: expected a string"],
];

for (const [what, edit, expected] of BROKEN) {
  test(`a broken copy of envoy.yaml is refused: ${what}`, () => {
    const errors = brokenCopy(edit);
    assert.ok(errors.some((e) => e.startsWith(expected)), `expected an error starting with\n  ${expected}\ngot\n  ${errors.join("\n  ")}`);
  });
}

test("YAML-level mistakes are refused too (duplicate key)", () => {
  const file = join(mkdtempSync(join(tmpdir(), "envoy-yaml-")), "envoy.yaml");
  writeFileSync(file, text.replace("admin:\n", "admin:\n  profile_path: /tmp/a\n  profile_path: /tmp/b\n"));
  assert.match(validateBootstrapYaml(file).join("\n"), /^<yaml>: Map keys must be unique at line 5/m);
});

// The YAML subset: unsupported fields and filters are refused with their exact path; the
// project's own envoy-dev/envoy.yaml parses, and loads with endpoints and ports overridden.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseConfig, loadConfig } from "../../envoy-dev/host/config.ts";
import { startHost } from "../../envoy-dev/host/index.ts";
import { ROOT, echoServer, client, tmpYaml } from "./helpers.ts";

const ENVOY_YAML = join(ROOT, "envoy-dev/envoy.yaml");

const base = (filters: string, extra = "") => `
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }${extra}
    filter_chains:
    - filters:${filters}
  clusters:
  - name: c
    type: STATIC
    load_assignment:
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }]
`;
const TCP = `
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: s, cluster: c }`;

test("an unsupported filter is refused with its path", () => {
  const redis = `
      - name: envoy.filters.network.wasm
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm }
      - name: envoy.filters.network.redis_proxy
        typed_config: {}${TCP}`;
  assert.throws(() => parseConfig(base(redis)),
    { message: "static_resources.listeners[0].filter_chains[0].filters[1]: filter envoy.filters.network.redis_proxy is not supported by the local host" });
});

test("unsupported fields, values and shapes name their path", () => {
  const cases: [string, RegExp][] = [
    [base(TCP, "\n    listener_filters: []"), /static_resources\.listeners\[0\]\.listener_filters: field is not supported/],
    [base(TCP).replace("type: STATIC", "type: EDS"), /static_resources\.clusters\[0\]\.type: cluster type EDS is not supported/],
    [base(TCP.replace("cluster: c", "weighted_clusters: { clusters: [] }")), /filters\[0\]\.typed_config\.weighted_clusters: not supported/],
    [base(TCP.replace("cluster: c }", "cluster: c, upstream_connect_mode: ON_DOWNSTREAM_DATA }")), /max_early_data_bytes: required/],
    [base(TCP) + "layered_runtime: {}\n", /layered_runtime: field is not supported/],
    [base(TCP).replace("    filter_chains:", "    filter_chains:\n    - filters: []"), /filter_chains: the local host supports exactly one filter chain/],
  ];
  for (const [yaml, re] of cases) assert.throws(() => parseConfig(yaml), re);
});

test("wasm filter fields: runtime, failure policy and configuration type are checked", () => {
  const wasm = (cfg: string) => `
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config: ${cfg}${TCP}`;
  const vm = "vm_config: { vm_id: v, runtime: envoy.wasm.runtime.v8, code: { local: { filename: /x/p.wasm } } }";
  const ok = parseConfig(base(wasm(`{ name: p, root_id: r, ${vm} }`)));
  assert.equal(ok.listeners[0].wasm?.failurePolicy, "FAIL_CLOSED");
  assert.throws(() => parseConfig(base(wasm(`{ ${vm.replace("v8", "wamr")} }`))), /vm_config\.runtime: runtime envoy\.wasm\.runtime\.wamr is not supported/);
  assert.throws(() => parseConfig(base(wasm(`{ ${vm}, failure_policy: FAIL_LOUD }`))), /config\.failure_policy: unknown policy FAIL_LOUD/);
  assert.throws(() => parseConfig(base(wasm(`{ ${vm}, configuration: { "@type": type.googleapis.com/google.protobuf.Struct, value: {} } }`))),
    /config\.configuration\.@type: only type\.googleapis\.com\/google\.protobuf\.StringValue/);
});

test("envoy-dev/envoy.yaml parses into two wasm listeners and six clusters", () => {
  const cfg = loadConfig(ENVOY_YAML);
  assert.deepEqual(cfg.listeners.map((l) => [l.name, l.wasm?.filename, l.tcpProxy.connectMode]), [
    ["dubbo_outbound", "/etc/envoy/wasm/dubbo.wasm", "ON_DOWNSTREAM_DATA"],
    ["thrift_outbound", "/etc/envoy/wasm/thrift.wasm", "ON_DOWNSTREAM_DATA"],
  ]);
  assert.equal(cfg.clusters.length, 6);
  assert.ok(JSON.parse(cfg.listeners[0].wasm!.configuration).services);
});

test("envoy-dev/envoy.yaml loads with endpoints and ports overridden (needs build/dubbo.wasm and build/thrift.wasm)", async () => {
  const missing = ["dubbo.wasm", "thrift.wasm"].filter((f) => !existsSync(join(ROOT, "build", f)));
  assert.deepEqual(missing, [], `build the modules first (node scripts/build.mjs dubbo thrift); missing: ${missing.join(", ")}`);
  const up = await echoServer();
  const endpoints = Object.fromEntries(loadConfig(ENVOY_YAML).clusters.map((c) => [c.name, [{ host: "127.0.0.1", port: up.port }]]));
  const host = await startHost({
    configPath: ENVOY_YAML, endpoints, adminPort: 0,
    listenerPorts: { dubbo_outbound: 0, thrift_outbound: 0 },
  });
  try {
    assert.ok(host.listeners.dubbo_outbound.port > 0 && host.listeners.thrift_outbound.port > 0);
    const c = await client(host.listeners.dubbo_outbound.port);
    c.socket.destroy();
  } finally { await host.close(); await up.close(); }
});

test("an endpoints override for a cluster that does not exist is an error", async () => {
  const p = tmpYaml(base(TCP));
  await assert.rejects(startHost({ configPath: p, endpoints: { nope: [] } }), /no cluster named nope/);
});

// Aeraki's semantics where users rely on them (issue "Aeraki users switch without surprises"):
// each case is a small world translated by the controller, checked in the generated pluginConfig.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadObjects } from "../../controller/src/render.js";
import { translate } from "../../controller/src/translate/index.js";
import { pluginConfigOf } from "../../controller/src/translate/objects.js";

const SETTINGS = `apiVersion: v1
kind: ConfigMap
metadata: { name: metaprotocol-wasm-settings, namespace: metaprotocol-wasm }
data:
  settings.yaml: |
    modules:
      dubbo: { url: "oci://example/dubbo:1" }
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: ApplicationProtocol
metadata: { name: dubbo }
spec: { protocol: dubbo, codec: aeraki.meta_protocol.codec.dubbo }
`;

const PROVIDER = `---
apiVersion: v1
kind: Service
metadata: { name: provider, namespace: shop }
spec:
  clusterIP: 10.0.0.7
  selector: { app: provider }
  ports: [{ name: tcp-metaprotocol-dubbo, port: 20880, targetPort: 20880 }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: provider, namespace: shop }
spec:
  host: provider
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
`;

function run(text: string) {
  const { observed, settings } = loadObjects([{ name: "in.yaml", text: SETTINGS + text }]);
  return translate(observed, settings);
}
const outbound = (t: ReturnType<typeof run>) => t.objects.filter((o) => o.kind === "WasmPlugin" && o.metadata.labels?.["metaprotocol-wasm.io/direction"] === "outbound").map(pluginConfigOf);
const conditions = (t: ReturnType<typeof run>, name: string) => t.statuses.find((s) => s.metaRouter.name === name)!.conditions;
const router = (spec: string) => `---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: { name: rule, namespace: shop }
spec:
  hosts: [provider]
${spec}`;

test("exact: \"\" and regex: \"*\" check presence, as Aeraki (Envoy's exact_match, Aeraki's catch-all); {} too", () => {
  const t = run(PROVIDER + router(`  routes:
  - name: grouped
    match: { attributes: { group: { exact: "" }, tenant: { regex: "*" }, zone: {} } }
    route: [{ destination: { host: provider, subset: v2 } }]`));
  assert.ok(conditions(t, "rule").every((c) => c.type !== "Accepted" || c.status === "True"), JSON.stringify(conditions(t, "rule")));
  const [cfg] = outbound(t);
  assert.deepEqual(cfg.services[0].routes[0].match, { attributes: { group: { present: true }, tenant: { present: true }, zone: { present: true } } });
  // exact with a value stays exact
  const t2 = run(PROVIDER + router(`  routes:
  - name: r
    match: { attributes: { group: { exact: "a" } } }
    route: [{ destination: { host: provider, subset: v2 } }]`));
  assert.deepEqual(outbound(t2)[0].services[0].routes[0].match, { attributes: { group: { exact: "a" } } });
});

test("route names are optional, as in Aeraki: a route without one is named route-<index>", () => {
  const t = run(PROVIDER + router(`  routes:
  - match: { attributes: { method: { exact: sayHello } } }
    route: [{ destination: { host: provider, subset: v2 } }]
  - route: [{ destination: { host: provider, subset: v1 } }]`));
  assert.equal(conditions(t, "rule")[0].status, "True", JSON.stringify(conditions(t, "rule")));
  assert.deepEqual(outbound(t)[0].services[0].routes.map((r: any) => r.name), ["route-0", "route-1"]);
  const bad = run(PROVIDER + router(`  routes:
  - name: 7
    route: [{ destination: { host: provider, subset: v1 } }]`));
  assert.match(conditions(bad, "rule")[0].message, /spec\.routes\[0\]\.name: must be a string/);
});

test("a single destination takes everything whatever its weight, as in Aeraki; several must add up to 100", () => {
  for (const weight of ["0", "50", "100"]) {
    const t = run(PROVIDER + router(`  routes:
  - name: only
    route: [{ destination: { host: provider, subset: v2 }, weight: ${weight} }]`));
    assert.equal(conditions(t, "rule")[0].status, "True", `weight ${weight}: ${JSON.stringify(conditions(t, "rule"))}`);
    assert.deepEqual(outbound(t)[0].services[0].routes[0].route, [{ cluster: "outbound|20880|v2|provider.shop.svc.cluster.local", weight: 100 }]);
  }
  const t = run(PROVIDER + router(`  routes:
  - name: split
    route: [{ destination: { host: provider, subset: v1 }, weight: 60 }, { destination: { host: provider, subset: v2 }, weight: 30 }]`));
  assert.equal(conditions(t, "rule")[0].reason, "WeightsDoNotAddUp");
});

test("a weights-only MetaRouter is told that weights pick a destination per connection (condition + Normal Event)", () => {
  const t = run(PROVIDER + router(`  routes:
  - name: split
    route: [{ destination: { host: provider, subset: v1 }, weight: 80 }, { destination: { host: provider, subset: v2 }, weight: 20 }]`));
  const c = conditions(t, "rule").find((x) => x.type === "PerConnectionRouting");
  assert.ok(c, JSON.stringify(conditions(t, "rule")));
  assert.equal(c.reason, "WeightsPerConnection");
  assert.match(c.message, /spec\.routes\[0\] \(split\) splits by weight per connection, not per request/);
  assert.deepEqual(t.events.map((e) => `${e.type} ${e.reason}`), ["Normal WeightsPerConnection"]);
  // A single weighted destination is no split.
  const one = run(PROVIDER + router(`  routes:
  - name: all
    route: [{ destination: { host: provider, subset: v1 }, weight: 100 }]`));
  assert.equal(conditions(one, "rule").find((x) => x.type === "PerConnectionRouting"), undefined);
});

test("Aeraki's `interface` annotation tells Dubbo ServiceEntries without addresses apart on one port", () => {
  const entry = (name: string, iface: string, annotation = "interface") => `---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: { name: ${name}, namespace: meta-dubbo, annotations: { ${annotation}: ${iface} } }
spec:
  hosts: [${iface.toLowerCase()}]
  ports: [{ number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP }]
  workloadSelector: { labels: { app: ${name} } }
  resolution: STATIC
`;
  const t = run(entry("demo", "org.apache.dubbo.samples.basic.api.DemoService") + entry("second", "org.apache.dubbo.samples.basic.api.SecondService"));
  assert.deepEqual(t.events.filter((e) => e.reason === "ServiceNotDistinguishable"), []);
  const services = outbound(t)[0].services;
  assert.deepEqual(services.map((s: any) => s.match), [
    { attributes: { interface: { exact: "org.apache.dubbo.samples.basic.api.DemoService" } } },
    { attributes: { interface: { exact: "org.apache.dubbo.samples.basic.api.SecondService" } } },
  ]);
  // Our own annotation wins over Aeraki's when both are set.
  const both = run(entry("demo", "com.acme.Orders").replace("annotations: { interface: com.acme.Orders }", "annotations: { interface: com.acme.Old, metaprotocol-wasm.io/interface: com.acme.Orders }"));
  assert.deepEqual(outbound(both)[0].services[0].match, { attributes: { interface: { exact: "com.acme.Orders" } } });
  // Without either, the second is a catch-all that can never match: warned.
  const none = run(entry("demo", "a.B", "x-other") + entry("second", "c.D", "x-other"));
  assert.equal(none.events.filter((e) => e.reason === "ServiceNotDistinguishable").length, 1);
});

test("a Service and a ServiceEntry with one name in one namespace get two inbound WasmPlugins, not one overwritten", () => {
  const t = run(`---
apiVersion: v1
kind: Service
metadata: { name: orders, namespace: shop }
spec:
  clusterIP: 10.0.0.9
  selector: { app: orders }
  ports: [{ name: tcp-metaprotocol-dubbo, port: 20880, targetPort: 20880 }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: orders, namespace: shop }
spec:
  hosts: [orders.legacy.example]
  addresses: [10.1.0.9]
  ports: [{ number: 20880, name: tcp-metaprotocol-dubbo }]
  workloadSelector: { labels: { app: orders-legacy } }
  resolution: STATIC
`);
  const inbound = t.objects.filter((o) => o.kind === "WasmPlugin" && o.metadata.labels?.["metaprotocol-wasm.io/direction"] === "inbound");
  assert.equal(inbound.length, 2);
  const names = inbound.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  assert.equal(new Set(names).size, 2, names.join(", "));
  for (const n of names) assert.match(n, /^shop\/metaprotocol-dubbo-20880-inbound-orders-[0-9a-f]{8}$/);
  assert.deepEqual(inbound.map((o) => o.spec.selector.matchLabels.app).sort(), ["orders", "orders-legacy"]);
  assert.deepEqual(inbound.map((o) => pluginConfigOf(o).services[0].name).sort(), ["orders.legacy.example", "orders.shop.svc.cluster.local"]);
  // Without the clash, names stay as they were.
  const alone = run(PROVIDER);
  assert.deepEqual(alone.objects.filter((o) => o.metadata.name.includes("inbound")).map((o) => o.metadata.name), ["metaprotocol-dubbo-20880-inbound-provider"]);
});

test("DestinationRule consistentHash on a request attribute is reported, not silently ignored; useSourceIp is fine", () => {
  const dr = (ch: string) => PROVIDER.replace("  subsets:", `  trafficPolicy:\n    loadBalancer:\n      consistentHash: ${ch}\n  subsets:`) + router(`  routes:
  - name: v2
    route: [{ destination: { host: provider, subset: v2 } }]`);
  const t = run(dr("{ httpHeaderName: method }"));
  const ev = t.events.filter((e) => e.reason === "ConsistentHashNotApplied");
  assert.deepEqual(ev.map((e) => e.regarding.kind), ["DestinationRule", "MetaRouter"]);
  assert.match(ev[0].message, /^spec\.trafficPolicy\.loadBalancer\.consistentHash\.httpHeaderName \(httpHeaderName: "method"\) is not applied to provider\.shop\.svc\.cluster\.local port 20880/);
  const c = conditions(t, "rule").find((x) => x.type === "Unsupported");
  assert.equal(c?.reason, "ConsistentHashNotApplied");
  assert.deepEqual(run(dr("{ useSourceIp: true }")).events.filter((e) => e.type === "Warning"), []);
  // Subset and port-level policies are read too.
  const sub = run(PROVIDER.replace("{ name: v2, labels: { version: v2 } }", "{ name: v2, labels: { version: v2 }, trafficPolicy: { portLevelSettings: [{ port: { number: 20880 }, loadBalancer: { consistentHash: { httpCookie: { name: c } } } }] } }"));
  assert.match(sub.events.find((e) => e.reason === "ConsistentHashNotApplied")!.message, /^spec\.subsets\[1\]\.trafficPolicy\.portLevelSettings\[0\]\.loadBalancer\.consistentHash\.httpCookie/);
});

test("ApplicationProtocol: namespaced ones (Aeraki's Helm chart) declare protocols; only trusted ones choose the module", () => {
  const base = `---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: ApplicationProtocol
metadata: { name: dubbo, namespace: team-a, annotations: { metaprotocol-wasm.io/module-url: "oci://evil/dubbo:1" } }
spec: { protocol: dubbo }
` + PROVIDER;
  const { observed, settings } = loadObjects([{ name: "in.yaml", text: base }], undefined);
  const t = translate(observed, { ...settings, modules: { dubbo: { url: "oci://example/dubbo:1" } } });
  const plugin = t.objects.find((o) => o.kind === "WasmPlugin")!;
  assert.equal(plugin.spec.url, "oci://example/dubbo:1");
  assert.equal(t.events.find((e) => e.reason === "ModuleAnnotationIgnored")?.regarding.namespace, "team-a");
  // In the root namespace the annotation is honoured.
  const root = loadObjects([{ name: "in.yaml", text: base.replace("namespace: team-a", "namespace: istio-system") }]);
  const t2 = translate(root.observed, root.settings);
  assert.equal(t2.objects.find((o) => o.kind === "WasmPlugin")!.spec.url, "oci://evil/dubbo:1");
  assert.deepEqual(t2.events.filter((e) => e.reason === "ModuleAnnotationIgnored"), []);
});

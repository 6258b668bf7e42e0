// The informer / apply / status / leader layer against the in-process fake apiserver, with
// the real @kubernetes/client-node client: watches that drop, 410 Gone, 5xx, 409 conflicts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { FakeApiServer } from "./fake-apiserver.js";
import { Informer } from "../../controller/src/kube/informer.js";
import { Controller } from "../../controller/src/controller.js";
import { LeaderElector } from "../../controller/src/kube/leader.js";
import { DEFAULT_SETTINGS } from "../../controller/src/model/types.js";

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await fn()) return; await new Promise((r) => setTimeout(r, 25)); }
  assert.fail(`timed out waiting for ${what}`);
}

const svc = (name: string, ip: string, port = 20880) => ({
  apiVersion: "v1", kind: "Service", metadata: { name, namespace: "shop" },
  spec: { clusterIP: ip, selector: { app: name }, ports: [{ name: "tcp-metaprotocol-dubbo", port, targetPort: port }] },
});
const ap = { apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "ApplicationProtocol", metadata: { name: "dubbo" }, spec: { protocol: "dubbo" } };
const dr = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "orders", namespace: "shop" }, spec: { host: "orders", subsets: [{ name: "v1" }, { name: "v2" }] } };
const mr = (routes: any[]) => ({ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name: "orders", namespace: "shop" }, spec: { hosts: ["orders"], routes } });
const toV2 = [{ name: "v2", match: { attributes: { interface: { exact: "com.shop.Orders" } } }, route: [{ destination: { host: "orders", subset: "v2" } }] }];
const settings = { ...DEFAULT_SETTINGS, modules: { dubbo: { url: "oci://example.com/dubbo:1" } } };

test("informer: list, watch, resume after a dropped watch, relist after 410 Gone, retry after 5xx", async () => {
  const api = new FakeApiServer();
  await api.start();
  let changes = 0;
  const kc = api.kubeConfig();
  api.put(svc("a", "10.0.0.1"));
  api.inject("GET", /^\/api\/v1\/services$/, 503, 2); // the first two lists fail
  const inf = new Informer(kc, KubernetesObjectApi.makeApiClient(kc), {
    apiVersion: "v1", kind: "Service", path: "/api/v1/services", minBackoffMs: 20, maxBackoffMs: 100, onChange: () => changes++,
  });
  try {
    inf.start();
    await until("initial sync", () => inf.synced);
    assert.equal(inf.relists, 1);
    assert.ok(api.requests.filter((r) => r.startsWith("GET /api/v1/services?") === false && r === "GET /api/v1/services").length >= 3, "503s were retried");
    assert.deepEqual(inf.list().map((o) => o.metadata.name), ["a"]);

    api.put(svc("b", "10.0.0.2"));
    await until("watch delivers b", () => inf.cache.has("shop/b"));

    api.dropWatches();
    api.put(svc("c", "10.0.0.3"));
    await until("resumed watch delivers c", () => inf.cache.has("shop/c"));
    assert.equal(inf.relists, 1, "a dropped watch resumes from its resourceVersion without relisting");
    assert.ok(api.requests.some((r) => /watch=true/.test(r) && /resourceVersion=\d+/.test(r)));
    assert.ok(api.requests.filter((r) => /watch=true/.test(r)).every((r) => /timeoutSeconds=\d+/.test(r)), "every watch is bounded by the server");

    api.compact();
    api.remove("services", "shop", "a");
    api.compact();
    api.dropWatches();
    await until("410 Gone leads to a relist", () => inf.relists === 2 && !inf.cache.has("shop/a"));
    assert.ok(changes > 3);
  } finally {
    inf.stop();
    await api.close();
  }
});

test("server-side apply: force takes fields from another manager, no force gets 409", async () => {
  const api = new FakeApiServer();
  await api.start();
  try {
    const objects = KubernetesObjectApi.makeApiClient(api.kubeConfig());
    const wp = { apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin", metadata: { name: "w", namespace: "istio-system" }, spec: { url: "oci://a" } };
    api.put(wp, "kubectl");
    await assert.rejects(objects.patch(structuredClone(wp), undefined, undefined, "metaprotocol-wasm", false, PatchStrategy.ServerSideApply), (e: any) => e.code === 409);
    await objects.patch({ ...structuredClone(wp), spec: { url: "oci://b" } }, undefined, undefined, "metaprotocol-wasm", true, PatchStrategy.ServerSideApply);
    assert.equal(api.get("wasmplugins", "istio-system", "w").spec.url, "oci://b");
  } finally { await api.close(); }
});

test("controller: applies, prunes, writes status and events, keeps the last good config, survives 5xx", async () => {
  const api = new FakeApiServer();
  await api.start();
  api.put(ap); api.put(svc("orders", "10.0.0.10")); api.put(dr); api.put(mr(toV2));
  const c = new Controller({ settings, namespace: "metaprotocol-wasm", identity: "one", port: 0, kubeConfig: api.kubeConfig(),
    debounceMs: 20, retryPeriodMs: 50, informerBackoffMs: 20 });
  try {
    await c.start();
    const outbound = () => api.get("wasmplugins", "istio-system", "metaprotocol-dubbo-20880-outbound");
    await until("outbound WasmPlugin applied", () => !!outbound());
    assert.equal(outbound().metadata.managedFields[0].manager, "metaprotocol-wasm");
    assert.equal(outbound().metadata.labels["app.kubernetes.io/managed-by"], "metaprotocol-wasm");
    assert.equal(outbound().spec.pluginConfig.services[0].routes[0].route[0].cluster, "outbound|20880|v2|orders.shop.svc.cluster.local");
    assert.ok(api.get("envoyfilters", "istio-system", "metaprotocol-dubbo-20880-outbound"), "EnvoyFilter applied");
    await until("inbound WasmPlugin applied", () => !!api.get("wasmplugins", "shop", "metaprotocol-dubbo-20880-inbound-orders"));
    await until("status Accepted", () => api.get("metarouters", "shop", "orders").status?.conditions?.[0]?.status === "True");
    const cond = api.get("metarouters", "shop", "orders").status.conditions;
    assert.equal(cond.find((x: any) => x.type === "ResolvedRefs").observedGeneration, 1);

    // A bad edit: status names the field, the applied routes stay, a Warning Event is recorded.
    api.put(mr([{ name: "v2", match: { attributes: { interface: { regex: "com.(" } } }, route: [{ destination: { host: "orders", subset: "v2" } }] }]));
    await until("status Accepted=False", () => api.get("metarouters", "shop", "orders").status.conditions.find((x: any) => x.type === "Accepted").status === "False");
    const acc = api.get("metarouters", "shop", "orders").status.conditions.find((x: any) => x.type === "Accepted");
    assert.equal(acc.observedGeneration, 2);
    assert.match(acc.message, /spec\.routes\[0\]\.match\.attributes\.interface\.regex/);
    assert.equal(outbound().spec.pluginConfig.services[0].routes[0].route[0].cluster, "outbound|20880|v2|orders.shop.svc.cluster.local");
    await until("warning event", () => api.list("events").some((e) => e.reason === "InvalidRegex" && e.involvedObject.name === "orders"));

    // 5xx on apply: the reconcile fails, is retried with backoff, and converges.
    api.inject("PATCH", /wasmplugins/, 500, 2);
    api.put(svc("users", "10.0.0.11"));
    await until("users added after retries", () => outbound()?.spec.pluginConfig.services.length === 2);
    assert.ok(c.metrics.errors >= 1, `errors=${c.metrics.errors} faults=${JSON.stringify((api as any).faults)} last=${String(c.lastError)}`);

    // The source goes: stale objects are deleted.
    api.remove("services", "shop", "orders");
    api.remove("services", "shop", "users");
    await until("stale objects pruned", () => !outbound() && !api.get("wasmplugins", "shop", "metaprotocol-dubbo-20880-inbound-orders"));
    await until("deletions counted", () => c.metrics.objectsDeleted >= 3);

    const res = await fetch(`http://127.0.0.1:${(c as any).server.address().port}/metrics`);
    const text = await res.text();
    assert.match(text, /metaprotocol_wasm_reconciles_total [1-9]/);
    assert.match(text, /metaprotocol_wasm_objects_applied_total [1-9]/);
    assert.match(text, /metaprotocol_wasm_reconcile_errors_total [1-9]/);
    assert.equal((await fetch(`http://127.0.0.1:${(c as any).server.address().port}/readyz`)).status, 200);
  } finally {
    await c.stop();
    await api.close();
  }
});

test("controller: an object the server keeps refusing does not stop the others, the status or the events", async () => {
  const api = new FakeApiServer();
  await api.start();
  api.put(ap); api.put(svc("orders", "10.0.0.10")); api.put(dr); api.put(mr(toV2));
  api.inject("PATCH", /envoyfilters/, 403, 1_000_000); // say, a policy that forbids EnvoyFilters
  const c = new Controller({ settings, namespace: "metaprotocol-wasm", identity: "one", port: 0, kubeConfig: api.kubeConfig(),
    debounceMs: 20, retryPeriodMs: 50, informerBackoffMs: 20 });
  try {
    await c.start();
    await until("outbound WasmPlugin applied", () => !!api.get("wasmplugins", "istio-system", "metaprotocol-dubbo-20880-outbound"));
    await until("inbound WasmPlugin applied", () => !!api.get("wasmplugins", "shop", "metaprotocol-dubbo-20880-inbound-orders"));
    await until("status written", () => api.get("metarouters", "shop", "orders").status?.conditions?.length > 0);
    assert.equal(api.get("envoyfilters", "istio-system", "metaprotocol-dubbo-20880-outbound"), undefined);
    await until("the failure counted", () => c.metrics.errors >= 1);
    assert.match(String(c.lastError), /apply EnvoyFilter\/istio-system\/metaprotocol-dubbo-20880-outbound: HTTP 403/);
  } finally {
    await c.stop();
    await api.close();
  }
});

test("controller: puts back what others change: a hand-deleted or edited object, a recreated MetaRouter's status", async () => {
  const api = new FakeApiServer();
  await api.start();
  api.put(ap); api.put(svc("orders", "10.0.0.10")); api.put(dr); api.put(mr(toV2));
  const c = new Controller({ settings, namespace: "metaprotocol-wasm", identity: "one", port: 0, kubeConfig: api.kubeConfig(),
    debounceMs: 20, retryPeriodMs: 50, informerBackoffMs: 20, resyncMs: 100 });
  const outbound = () => api.get("wasmplugins", "istio-system", "metaprotocol-dubbo-20880-outbound");
  const accepted = () => api.get("metarouters", "shop", "orders")?.status?.conditions?.find((x: any) => x.type === "Accepted");
  try {
    await c.start();
    await until("outbound WasmPlugin applied", () => !!outbound());
    await until("status written", () => accepted()?.status === "True");
    await until("first reconcile counted", () => c.metrics.objectsApplied === 3);
    const applied = c.metrics.objectsApplied;

    // Steady state: nothing is re-sent while the cluster matches.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c.metrics.objectsApplied, applied, "unchanged objects are not re-applied");

    // Someone deletes the WasmPlugin, then edits it: no watched object changes, the resync puts it back.
    api.remove("wasmplugins", "istio-system", "metaprotocol-dubbo-20880-outbound");
    await until("deleted WasmPlugin re-applied", () => !!outbound());
    const edited = structuredClone(outbound());
    edited.spec.failStrategy = "FAIL_OPEN";
    api.put(edited, "kubectl");
    await until("edited WasmPlugin restored", () => outbound()?.spec.failStrategy === "FAIL_CLOSE");

    // The MetaRouter is deleted and created again with the same spec: the new object gets its status.
    api.remove("metarouters", "shop", "orders");
    await new Promise((r) => setTimeout(r, 100));
    api.put(mr(toV2));
    assert.equal(accepted(), undefined);
    await until("status written on the recreated MetaRouter", () => accepted()?.status === "True");
  } finally {
    await c.stop();
    await api.close();
  }
});

test("leader election: one of two replicas writes; the other takes over when it stops", async () => {
  const api = new FakeApiServer();
  await api.start();
  api.put(ap); api.put(svc("orders", "10.0.0.10"));
  const mk = (identity: string) => new Controller({ settings, namespace: "metaprotocol-wasm", identity, port: 0, kubeConfig: api.kubeConfig(),
    debounceMs: 20, retryPeriodMs: 50, leaseDurationSeconds: 1, informerBackoffMs: 20 });
  const a = mk("a"), b = mk("b");
  try {
    await a.start();
    await until("a leads", () => a.elector.isLeader);
    await b.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.elector.isLeader, false, "b must not lead while a renews");
    assert.equal(api.get("leases", "metaprotocol-wasm", "metaprotocol-wasm-controller").spec.holderIdentity, "a");
    // A lost race on the lease update is a 409 and means "not leader", never an error.
    api.inject("PUT", /leases/, 409, 1);
    await a.stop();
    await until("b takes over", () => b.elector.isLeader, 5000);
    assert.equal(api.get("leases", "metaprotocol-wasm", "metaprotocol-wasm-controller").spec.holderIdentity, "b");
    assert.match(api.get("leases", "metaprotocol-wasm", "metaprotocol-wasm-controller").spec.renewTime, /\.\d{6}Z$/);
    await until("b reconciles", () => !!api.get("wasmplugins", "istio-system", "metaprotocol-dubbo-20880-outbound"));
  } finally {
    await b.stop();
    await a.stop();
    await api.close();
  }
});

test("leader election: expiry is judged on this replica's clock, not on the holder's renewTime", async () => {
  const api = new FakeApiServer();
  await api.start();
  const hourAgo = new Date(Date.now() - 3600_000).toISOString().replace("Z", "000Z");
  const ghost = (n: number) => api.put({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "l", namespace: "ns" },
    spec: { holderIdentity: "ghost", leaseDurationSeconds: 1, renewTime: hourAgo, leaseTransitions: n } });
  const e = new LeaderElector(api.kubeConfig(), { namespace: "ns", name: "l", identity: "b", leaseDurationSeconds: 1, onStarted: () => {}, onStopped: () => {} });
  try {
    ghost(0); // a holder whose clock runs an hour behind: its renewTime always looks old
    const t0 = Date.now();
    assert.equal(await e.tryAcquireOrRenew(new Date(t0)), false, "a lease just seen is not expired");
    ghost(1); // it renews
    assert.equal(await e.tryAcquireOrRenew(new Date(t0 + 1500)), false, "a renewed lease is not expired");
    // The holder stops renewing: one lease duration later, on our clock, the lease is ours.
    assert.equal(await e.tryAcquireOrRenew(new Date(t0 + 2000)), false);
    assert.equal(await e.tryAcquireOrRenew(new Date(t0 + 2600)), true);
    assert.equal(api.get("leases", "ns", "l").spec.holderIdentity, "b");
  } finally {
    await api.close();
  }
});

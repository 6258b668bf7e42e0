// The controller against a real kube-apiserver (Kubernetes' own, built from its Go modules):
// manifests/ applied with kubectl, the admission policy's CEL evaluated by the API server, two
// replicas running as the controller's ServiceAccount under the RBAC we ship, server-side apply
// with our field manager, the status subresource, Events, Lease leader election, informers that
// outlive an API server restart, and the TrafficExtension carrier for Istio 1.30.
// What the real server cannot stage on demand (a 410 Gone on a live watch, injected 500s) stays
// in tests/controller/kube.test.ts against the fake server.
import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import { join } from "node:path";
import { startCluster, type Cluster } from "./support/cluster.ts";
import { installIstioCrds } from "./support/istiod.ts";
import { startController, type ControllerReplica } from "./support/controller.ts";
import { until } from "./support/proc.ts";
import { show, test } from "./support/test.ts";
import { REPO } from "./support/tools.ts";
import { controllerSettings } from "./support/settings.ts";

const NS = "meta-dubbo";
const MR = "dubbo-sample-provider";
const HOST = "dubbo-sample-provider.meta-dubbo.svc.cluster.local";
const OUTBOUND = "metaprotocol-dubbo-20880-outbound";

function metaRouter(routes: object[], name = MR): string {
  return JSON.stringify({ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name, namespace: NS }, spec: { hosts: [HOST], routes } });
}
const dest = (subset: string, weight?: number) => ({ destination: { host: HOST, subset }, ...(weight === undefined ? {} : { weight }) });

describe("mesh: controller on a real kube-apiserver", { timeout: 900_000 }, () => {
  let cluster: Cluster;
  const replicas: ControllerReplica[] = [];
  let saKubeconfig: string;

  before(async () => {
    cluster = await startCluster();
    await installIstioCrds(cluster, "1.30");
    await cluster.k(["create", "namespace", "istio-system"]); // Istio's root namespace, as an Istio install makes it
  });
  after(async () => {
    for (const r of replicas) await r.stop();
    await cluster?.stop();
  });

  const pluginOf = async (kind = "wasmplugin", name = OUTBOUND, ns = "istio-system") => {
    const r = await cluster.kubectl(["get", kind, name, "-n", ns, "-o", "json", "--show-managed-fields"]);
    return r.code === 0 ? JSON.parse(r.stdout) : undefined;
  };
  const routesIn = (o: any) => (o?.kind === "TrafficExtension" ? o.spec.wasm.pluginConfig : o?.spec?.pluginConfig)
    ?.services?.find((s: any) => s.name === HOST)?.routes?.map((r: any) => r.name);
  const leader = async () => (await cluster.getJson(["get", "lease", "metaprotocol-wasm-controller", "-n", "metaprotocol-wasm"])).spec.holderIdentity;

  test("kubectl apply -k manifests/: the CRDs are structural and established, the policy and its binding are stored", async () => {
    const out = await cluster.k(["apply", "-k", join(REPO, "manifests")]);
    assert.match(out, /customresourcedefinition.apiextensions.k8s.io\/metarouters.metaprotocol.aeraki.io (created|configured)/);
    assert.match(out, /validatingadmissionpolicy.admissionregistration.k8s.io\/metaprotocol-wasm.aeraki.io created/);
    await cluster.k(["wait", "--for=condition=Established", "--timeout=60s", "crd/metarouters.metaprotocol.aeraki.io", "crd/applicationprotocols.metaprotocol.aeraki.io"]);
    for (const crd of ["metarouters.metaprotocol.aeraki.io", "applicationprotocols.metaprotocol.aeraki.io"]) {
      const c = await cluster.getJson(["get", "crd", crd]);
      const bad = (c.status.conditions ?? []).filter((x: any) => x.type === "NonStructuralSchema" || (x.type === "Established" && x.status !== "True"));
      assert.deepEqual(bad, [], `${crd}: ${show(c.status.conditions)}`);
    }
    // (The policy's type-check warnings are written to its status by kube-controller-manager,
    // which this cluster does not run; the CEL is exercised for real in the next test.)
    await cluster.k(["get", "validatingadmissionpolicybinding", "metaprotocol-wasm.aeraki.io"]);
    await cluster.k(["apply", "-k", join(REPO, "manifests/samples")]);
  });

  test("the admission policy's CEL: good MetaRouters pass; bad weights, double matchers and bad port names are denied with its messages", async () => {
    const deny = async (yamlOrJson: string) => (await cluster.kubectl(["apply", "-f", "-"], { input: yamlOrJson })).stderr;
    // A new policy takes effect once the API server's admission plugin has synced it.
    const weights = await until("the policy to deny bad weights", async () => {
      const e = await deny(metaRouter([{ name: "split", route: [dest("v1", 50), dest("v2", 40)] }], "bad-weights"));
      return /denied request/.test(e) ? e : undefined;
    }, 60_000, 1000);
    assert.match(weights, /ValidatingAdmissionPolicy 'metaprotocol-wasm.aeraki.io'.*the weights of several destinations must add up to 100/);
    const matchers = await deny(metaRouter([{ name: "m", match: { attributes: { method: { exact: "sayHello", prefix: "say" } } }, route: [dest("v1")] }], "bad-matchers"));
    assert.match(matchers, /each attribute takes at most one of exact, prefix, regex/);
    const port = await deny(JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "bad-port", namespace: NS },
      spec: { ports: [{ name: "tcp-metaprotocol", port: 20881 }] } }));
    assert.match(port, /a port named tcp-metaprotocol\.\.\. must be tcp-metaprotocol-<protocol>\[-<suffix>\], got tcp-metaprotocol$/m);
    const ok = await cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: metaRouter([{ name: "split", route: [dest("v1", 60), dest("v2", 40)] }], "good-weights") });
    assert.equal(ok.code, 0, ok.stderr);
    // The schema itself (not CEL): a weight must be an integer.
    const typed = await deny(metaRouter([{ name: "x", route: [{ destination: { host: HOST, subset: "v1" }, weight: "most" }] }], "bad-type"));
    assert.match(typed, /weight.*(Invalid value|must be of type integer)/i);
  });

  test("two replicas as the ServiceAccount: one holds the Lease; it applies with field manager metaprotocol-wasm and writes status through the subresource", async () => {
    saKubeconfig = await cluster.serviceAccountKubeconfig("metaprotocol-wasm", "metaprotocol-wasm");
    for (const identity of ["replica-a", "replica-b"]) {
      replicas.push(await startController(cluster, { identity, settings: controllerSettings(), kubeconfig: saKubeconfig }));
    }
    const holder = await until("a leader", async () => (await leader()) || undefined, 60_000);
    assert.ok(["replica-a", "replica-b"].includes(holder));
    const wp = await until("the outbound WasmPlugin", () => pluginOf(), 60_000);
    assert.deepEqual(routesIn(wp), ["v2-callers", "split"]);
    const ef = await until("the EnvoyFilter", () => pluginOf("envoyfilter"), 30_000);
    assert.equal(ef.spec.configPatches[0].patch.value.typed_config.upstream_connect_mode, "ON_DOWNSTREAM_DATA");
    for (const o of [wp, ef]) {
      const mine = o.metadata.managedFields.filter((f: any) => f.manager === "metaprotocol-wasm");
      assert.deepEqual(mine.map((f: any) => f.operation), ["Apply"], show(o.metadata.managedFields));
    }
    const mr = await until("MetaRouter status", async () => {
      const m = await cluster.getJson(["get", "metarouter", MR, "-n", NS, "--show-managed-fields"]);
      return m.status?.conditions?.length ? m : undefined;
    }, 30_000);
    const cond = Object.fromEntries(mr.status.conditions.map((c: any) => [c.type, c.status]));
    assert.equal(cond.Accepted, "True", show(mr.status));
    assert.equal(cond.ResolvedRefs, "True", show(mr.status));
    const statusManager = mr.metadata.managedFields.find((f: any) => f.manager === "metaprotocol-wasm");
    assert.equal(statusManager?.subresource, "status", show(mr.metadata.managedFields));
    assert.equal(statusManager?.operation, "Apply");
    const metrics = await Promise.all(replicas.map((r) => r.metric("metaprotocol_wasm_leader")));
    assert.deepEqual(metrics.sort(), [0, 1]);
    // RBAC as shipped lets the controller do exactly this: no denied calls in either log.
    for (const r of replicas) assert.doesNotMatch(r.proc.tail(200), /forbidden/i, r.proc.tail(40));
  });

  test("a MetaRouter naming a missing subset: ResolvedRefs False, a Warning Event, and the last good routes stay applied", async () => {
    await cluster.k(["apply", "-f", "-"], metaRouter([{ name: "to-v3", route: [dest("v3")] }]));
    const mr = await until("ResolvedRefs False", async () => {
      const m = await cluster.getJson(["get", "metarouter", MR, "-n", NS]);
      return m.status?.conditions?.some((c: any) => c.type === "ResolvedRefs" && c.status === "False") ? m : undefined;
    }, 30_000);
    const resolved = mr.status.conditions.find((c: any) => c.type === "ResolvedRefs");
    assert.match(resolved.message, /v3/);
    assert.equal(resolved.observedGeneration, mr.metadata.generation);
    const events = await until("a Warning Event on the MetaRouter", async () => {
      const list = await cluster.getJson(["get", "events", "-n", NS, "--field-selector", `involvedObject.kind=MetaRouter,involvedObject.name=${MR}`]);
      return list.items.some((e: any) => e.type === "Warning") ? list.items : undefined;
    }, 30_000);
    assert.ok(events.some((e: any) => /v3/.test(e.message) && e.source?.component === "metaprotocol-wasm"), show(events));
    assert.deepEqual(routesIn(await pluginOf()), ["v2-callers", "split"], "the last good version keeps serving");
  });

  test("leader hand-over: the leader stops, the other replica takes the Lease and applies the next change", async () => {
    const before = await leader();
    const old = replicas.find((r) => r.identity === before)!;
    await old.stop("SIGTERM");
    const next = await until("the other replica to lead", async () => { const h = await leader(); return h && h !== before ? h : undefined; }, 45_000);
    assert.notEqual(next, before);
    await cluster.k(["apply", "-f", "-"], metaRouter([{ name: "all-v1", route: [dest("v1")] }]));
    await until("the new leader's apply", async () => (routesIn(await pluginOf()) ?? []).join() === "all-v1" || undefined, 45_000);
    replicas.splice(replicas.indexOf(old), 1);
    replicas.push(await startController(cluster, { identity: `${before}-again`, settings: controllerSettings(), kubeconfig: saKubeconfig }));
  });

  test("a leader that dies without handing over (SIGKILL): the other replica takes the Lease once it expires", async () => {
    const before = await leader();
    const dead = replicas.find((r) => r.identity === before)!;
    const lease0 = await cluster.getJson(["get", "lease", "metaprotocol-wasm-controller", "-n", "metaprotocol-wasm"]);
    await dead.stop("SIGKILL");
    replicas.splice(replicas.indexOf(dead), 1);
    const t0 = Date.now();
    const next = await until("a new leader after expiry", async () => { const h = await leader(); return h && h !== before ? h : undefined; }, 60_000, 500);
    const waited = (Date.now() - t0) / 1000;
    // Not before the lease (15 s) has gone unrenewed, as measured on the survivor's clock.
    assert.ok(waited >= lease0.spec.leaseDurationSeconds - 3, `took over after ${waited} s`);
    const lease1 = await cluster.getJson(["get", "lease", "metaprotocol-wasm-controller", "-n", "metaprotocol-wasm"]);
    assert.equal(lease1.spec.leaseTransitions, (lease0.spec.leaseTransitions ?? 0) + 1);
    assert.equal(next, replicas[0].identity);
    replicas.push(await startController(cluster, { identity: `${before}-restarted`, settings: controllerSettings(), kubeconfig: saKubeconfig }));
  });

  test("informers survive an API server restart: a change made after it reaches the WasmPlugin", async () => {
    await cluster.restartApiserver(3000);
    await cluster.k(["apply", "-f", "-"], metaRouter([{ name: "all-v2", route: [dest("v2")] }]));
    await until("the change after the restart", async () => (routesIn(await pluginOf()) ?? []).join() === "all-v2" || undefined, 90_000);
    for (const r of replicas) assert.equal(r.proc.exited, false, `${r.identity} exited: ${r.proc.tail()}`);
  });

  test("extensionKind: TrafficExtension (Istio 1.30 CRDs): the leader replaces its WasmPlugins with TrafficExtensions", async () => {
    for (const r of replicas.splice(0)) await r.stop();
    replicas.push(await startController(cluster, { identity: "replica-te", settings: controllerSettings("extensionKind: TrafficExtension"), kubeconfig: saKubeconfig }));
    const te = await until("the outbound TrafficExtension", () => pluginOf("trafficextension"), 90_000);
    assert.equal(te.spec.wasm.type, "NETWORK");
    assert.equal(te.spec.wasm.url, `file://${join(REPO, "build/dubbo.wasm")}`);
    assert.deepEqual(te.spec.match, [{ mode: "CLIENT", ports: [{ number: 20880 }] }]);
    assert.deepEqual(routesIn(te), ["all-v2"]);
    await until("the WasmPlugins pruned", async () => (await cluster.getJson(["get", "wasmplugins", "-A"])).items.length === 0 || undefined, 30_000);
  });
});

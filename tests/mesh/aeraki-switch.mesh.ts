// Switching a cluster from Aeraki to this project, on a real kube-apiserver, exactly as
// docs/migrate-from-aeraki.md says, for both ways Aeraki is installed (its Helm chart makes
// ApplicationProtocol Namespaced, its kubectl manifests Cluster-scoped):
// - the wrong variant of our CRDs is refused by the API server (a CRD's scope cannot change);
// - the documented commands replace both CRDs and keep every object (same uid, spec, labels, annotations);
// - our schema and printer columns are then in force, and our controller, under the shipped RBAC,
//   configures the Aeraki-era objects (namespaced ApplicationProtocol included) and writes their status;
// - re-applying Aeraki's CRDs, as a later `helm upgrade` of Aeraki's chart can, reverts the schema
//   (the objects stay): the documented check (our part-of label) tells.
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
import { aerakiCrds, type AerakiInstall } from "./support/aeraki-install.ts";

const SAMPLES = join(REPO, "tests/fixtures/aeraki-samples");
const CRDS = ["applicationprotocols.metaprotocol.aeraki.io", "metarouters.metaprotocol.aeraki.io"];
/** The documented switch: replace both CRDs by ours of the same scope, then install the rest. */
const SWITCH: Record<AerakiInstall, { crds: string; install: string; wrong: string }> = {
  helm: { crds: "manifests/crds-namespaced", install: "manifests/aeraki-helm", wrong: "manifests" },
  kubectl: { crds: "manifests/crds", install: "manifests", wrong: "manifests/aeraki-helm" },
};

for (const install of ["helm", "kubectl"] as const) {
  describe(`mesh: switching from Aeraki installed by ${install} (ApplicationProtocol ${install === "helm" ? "Namespaced" : "Cluster"})`, { timeout: 900_000 }, () => {
    let cluster: Cluster;
    let controller: ControllerReplica | undefined;
    const before_: Map<string, any> = new Map();

    before(async () => {
      cluster = await startCluster();
      await installIstioCrds(cluster, "1.30");
      for (const ns of ["istio-system", "meta-dubbo", "meta-thrift"]) await cluster.k(["create", "namespace", ns]);
    });
    after(async () => {
      await controller?.stop();
      await cluster?.stop();
    });

    /** Every ApplicationProtocol and MetaRouter, by kind/namespace/name. */
    const objects = async () => {
      const out = new Map<string, any>();
      for (const kind of ["applicationprotocols", "metarouters"]) {
        for (const o of (await cluster.getJson(["get", kind, "-A"])).items) out.set(`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o);
      }
      return out;
    };
    const kept = (o: any) => ({ uid: o.metadata.uid, labels: o.metadata.labels, annotations: o.metadata.annotations, spec: o.spec });

    test("Aeraki's CRDs and Aeraki-shaped objects, applied as Aeraki users do", async () => {
      await cluster.k(["apply", "-f", "-"], aerakiCrds(install));
      await cluster.k(["wait", "--for=condition=Established", "--timeout=60s", ...CRDS.map((c) => `crd/${c}`)]);
      // Aeraki's docs put ApplicationProtocols in istio-system; under a cluster-scoped CRD a namespace is not needed.
      await cluster.k(["apply", ...(install === "helm" ? ["-n", "istio-system"] : []), "-f", join(SAMPLES, "application-protocols.yaml")]);
      for (const f of ["dubbo/base.yaml", "dubbo/presence-and-unnamed.yaml", "dubbo/local-ratelimit.yaml"]) await cluster.k(["apply", "-f", join(SAMPLES, f)]);
      for (const f of ["thrift/base.yaml", "thrift/traffic-split.yaml"]) await cluster.k(["apply", "-n", "meta-thrift", "-f", join(SAMPLES, f)]);
      for (const [k, o] of await objects()) before_.set(k, kept(o));
      assert.deepEqual([...before_.keys()].sort(), install === "helm"
        ? ["ApplicationProtocol/istio-system/dubbo", "ApplicationProtocol/istio-system/thrift", "MetaRouter/meta-dubbo/orders-route", "MetaRouter/meta-dubbo/stock-route", "MetaRouter/meta-thrift/greeter-route"]
        : ["ApplicationProtocol//dubbo", "ApplicationProtocol//thrift", "MetaRouter/meta-dubbo/orders-route", "MetaRouter/meta-dubbo/stock-route", "MetaRouter/meta-thrift/greeter-route"]);
    });

    test(`our CRDs of the other scope (${SWITCH[install].wrong}) are refused by the API server, and nothing is lost`, async () => {
      const r = await cluster.kubectl(["apply", "-k", join(REPO, SWITCH[install].wrong)]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, /applicationprotocols\.metaprotocol\.aeraki\.io[\s\S]*spec\.scope: Invalid value: "(Cluster|Namespaced)": field is immutable/);
      const now = await objects();
      for (const [k, o] of before_) assert.deepEqual(kept(now.get(k)), o, k);
    });

    test(`the documented switch: kubectl kustomize ${SWITCH[install].crds} | kubectl replace --save-config -f -, then kubectl apply -k ${SWITCH[install].install}`, async () => {
      const crds = await cluster.k(["kustomize", join(REPO, SWITCH[install].crds)]);
      const replaced = await cluster.k(["replace", "--save-config", "-f", "-"], crds);
      assert.match(replaced, /customresourcedefinition.apiextensions.k8s.io\/applicationprotocols.metaprotocol.aeraki.io replaced/);
      const applied = await cluster.kubectl(["apply", "-k", join(REPO, SWITCH[install].install)]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.doesNotMatch(applied.stderr, /Warning/, "no missing last-applied-configuration warning: replace --save-config wrote it");
      await cluster.k(["wait", "--for=condition=Established", "--timeout=60s", ...CRDS.map((c) => `crd/${c}`)]);
      // Every object kept as it was.
      const now = await objects();
      assert.deepEqual([...now.keys()].sort(), [...before_.keys()].sort());
      for (const [k, o] of before_) assert.deepEqual(kept(now.get(k)), o, k);
      // The CRDs are ours now: our label, no Helm ownership, our printer columns and schema.
      for (const name of CRDS) {
        const c = await cluster.getJson(["get", "crd", name]);
        assert.equal(c.metadata.labels?.["app.kubernetes.io/part-of"], "metaprotocol-wasm", name);
        assert.equal(c.metadata.labels?.["app.kubernetes.io/managed-by"], undefined, name);
        assert.equal(c.metadata.annotations?.["meta.helm.sh/release-name"], undefined, name);
        assert.equal(c.spec.scope, name.startsWith("metarouters") || install === "helm" ? "Namespaced" : "Cluster");
      }
      assert.match(await cluster.k(["get", "metarouters", "-A"]), /^NAMESPACE\s+NAME\s+HOST\s+ACCEPTED\s+RESOLVED\s+AGE/);
      const bad = await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter",
        metadata: { name: "no-hosts", namespace: "meta-dubbo" }, spec: { hosts: [] } }) });
      assert.match(bad.stderr, /spec\.hosts: Invalid value: 0: spec\.hosts in body should have at least 1 items/);
    });

    test("our controller (shipped RBAC) configures the Aeraki-era objects and writes their status", async () => {
      const sa = await cluster.serviceAccountKubeconfig("metaprotocol-wasm", "metaprotocol-wasm");
      controller = await startController(cluster, { identity: `switch-${install}`, settings: controllerSettings(), kubeconfig: sa });
      const plugin = await until("the outbound Dubbo WasmPlugin", async () => {
        const r = await cluster.kubectl(["get", "wasmplugin", "metaprotocol-dubbo-20880-outbound", "-n", "istio-system", "-o", "json"]);
        return r.code === 0 ? JSON.parse(r.stdout) : undefined;
      }, 120_000, 500, controller.proc);
      const services = plugin.spec.pluginConfig.services;
      // Aeraki's `interface` annotation tells the two address-less ServiceEntries apart.
      assert.deepEqual(services.map((s: any) => [s.name, s.match]), [
        ["com.example.shop.orderservice", { attributes: { interface: { exact: "com.example.shop.OrderService" } } }],
        ["com.example.shop.stockservice", { attributes: { interface: { exact: "com.example.shop.StockService" } } }],
      ], show(services));
      // exact: "" and {} check presence; the unnamed routes got names; a single weighted destination takes everything.
      assert.deepEqual(services[0].routes.map((r: any) => [r.name, r.match, r.route]), [
        ["route-0", { attributes: { group: { present: true } } }, [{ cluster: "outbound|20880|v2|com.example.shop.orderservice", weight: 100 }]],
        ["route-1", { attributes: { version: { present: true } } }, [{ cluster: "outbound|20880|v1|com.example.shop.orderservice", weight: 100 }]],
      ]);
      await until("the Thrift outbound WasmPlugin", async () => (await cluster.kubectl(["get", "wasmplugin", "metaprotocol-thrift-9090-outbound", "-n", "istio-system"])).code === 0, 60_000, 500, controller.proc);
      for (const [ns, name] of [["meta-dubbo", "orders-route"], ["meta-dubbo", "stock-route"], ["meta-thrift", "greeter-route"]]) {
        const mr: any = await until(`${ns}/${name} status`, async () => {
          const o = await cluster.getJson(["get", "metarouter", name, "-n", ns]);
          return o.status?.conditions?.length ? o : undefined;
        }, 60_000, 500, controller.proc);
        const cond: Record<string, string> = Object.fromEntries(mr.status.conditions.map((c: any) => [c.type, c.status]));
        assert.equal(cond.Accepted, "True", show(mr.status));
        assert.equal(cond.ResolvedRefs, "True", show(mr.status));
        assert.equal(mr.metadata.uid, before_.get(`MetaRouter/${ns}/${name}`).uid);
      }
    }, 300_000);

    test("re-applying Aeraki's CRDs (a later helm upgrade of Aeraki's chart can) reverts the schema; objects stay; our label tells", async () => {
      await controller?.stop();
      controller = undefined;
      await cluster.k(["replace", "-f", "-"], aerakiCrds(install));
      const now = await objects();
      for (const [k, o] of before_) assert.equal(now.get(k)?.metadata.uid, o.uid, k);
      for (const name of CRDS) {
        const labels = (await cluster.getJson(["get", "crd", name])).metadata.labels ?? {};
        assert.equal(labels["app.kubernetes.io/part-of"], undefined, `${name}: the documented check must see the revert`);
      }
      assert.doesNotMatch(await cluster.k(["get", "metarouters", "-A"]), /ACCEPTED/);
    });
  });
}

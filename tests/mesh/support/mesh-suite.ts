// The whole chain for one Istio release: kube-apiserver -> our controller -> WasmPlugin (or
// TrafficExtension) + EnvoyFilter -> istiod -> xDS -> Envoy sidecars -> build/dubbo.wasm, with a
// real Dubbo consumer (dubbo2.js) and two providers (v1, v2) each in its own pod namespace.
// The Dubbo sample (manifests/samples) is applied with kubectl, then MetaRouters are changed
// the way a user would, and what the consumer gets back is what is asserted.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { parseAllDocuments } from "yaml";
import { binomialBounds } from "../../../envoy-dev/apps/dubbo/binomial.ts";
import { DEMO_SERVICE, versionOfAnswer } from "../../../envoy-dev/apps/dubbo/demo-service.ts";
import { startCluster, type Cluster } from "./cluster.ts";
import { controllerSettings } from "./settings.ts";
import { startController, type ControllerReplica } from "./controller.ts";
import type { ClientCall, ClientResult } from "./dubbo-client.ts";
import { installIstioCrds, startIstiod, type Istiod } from "./istiod.ts";
import { inPod, NODE_IP, PodNetwork, SERVICE_CIDR, type Pod } from "./netns.ts";
import { start, until, type Proc } from "./proc.ts";
import { startSidecar, type Sidecar } from "./sidecar.ts";
import { show, test } from "./test.ts";
import { REPO, type IstioRelease } from "./tools.ts";
import { registerPod, writeEndpointSlice, type PodSpec } from "./workloads.ts";
import { istioValidate } from "./validate.ts";

const NS = "meta-dubbo";
const SVC = "dubbo-sample-provider";
const HOST = `${SVC}.${NS}.svc.cluster.local`;
const PORT = 20880;
const CLUSTER = (subset = "") => `outbound|${PORT}|${subset}|${HOST}`;
/** What the Istio version field of each release's proxies says (istiod tailors config to it). */
const PROXY_VERSION: Record<IstioRelease, string> = { "1.29": "1.29.1", "1.30": "1.30.0" };

const dest = (subset: string, weight?: number) => ({ destination: { host: HOST, subset }, ...(weight === undefined ? {} : { weight }) });
function metaRouter(routes: object[]): string {
  return JSON.stringify({ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name: SVC, namespace: NS }, spec: { hosts: [HOST], routes } });
}

/** The Dubbo sample as shipped, with the interface annotation set to the one the Node peers export. */
function dubboSample(): string {
  const docs = parseAllDocuments(readFileSync(join(REPO, "manifests/samples/dubbo/dubbo.yaml"), "utf8")).map((d) => d.toJS());
  for (const d of docs) if (d.kind === "Service") d.metadata.annotations["metaprotocol-wasm.io/interface"] = DEMO_SERVICE;
  return docs.map((d) => JSON.stringify(d)).join("\n");
}

export function meshSuite(release: IstioRelease): void {
  const carrier = release === "1.29" ? "WasmPlugin" : "TrafficExtension";
  describe(`mesh e2e: Istio ${release} (${carrier}), real Envoy sidecars, Dubbo sample`, { timeout: 1_500_000 }, () => {
    let net: PodNetwork;
    let cluster: Cluster;
    let istiod: Istiod;
    let controller: ControllerReplica;
    let clusterIP: string;
    const sidecars: Record<string, Sidecar> = {};
    const providers: Record<string, Proc> = {};
    const pods: Record<string, Pod> = {};

    before(async () => {
      net = PodNetwork.create();
      pods.consumer = net.addPod("consumer", "10.213.0.2");
      pods.v1 = net.addPod("provider-v1", "10.213.0.11");
      pods.v2 = net.addPod("provider-v2", "10.213.0.12");
      cluster = await startCluster({ serviceCidr: SERVICE_CIDR });
      await installIstioCrds(cluster, release);
      await cluster.k(["apply", "-k", join(REPO, "manifests")]);
      await cluster.k(["wait", "--for=condition=Established", "--timeout=60s", "crd/metarouters.metaprotocol.aeraki.io"]);
      await cluster.k(["apply", "-f", join(REPO, "manifests/samples/application-protocols.yaml")]);
      await cluster.k(["apply", "-f", "-"], dubboSample());
      clusterIP = (await cluster.getJson(["get", "service", SVC, "-n", NS])).spec.clusterIP;

      const specs: Record<string, PodSpec> = {
        consumer: { name: "dubbo-consumer", namespace: NS, ip: pods.consumer.ip, labels: { app: "dubbo-consumer", version: "v1" } },
        v1: { name: "provider-v1", namespace: NS, ip: pods.v1.ip, labels: { app: SVC, version: "v1" }, ports: [PORT] },
        v2: { name: "provider-v2", namespace: NS, ip: pods.v2.ip, labels: { app: SVC, version: "v2" }, ports: [PORT] },
      };
      for (const s of Object.values(specs)) await registerPod(cluster, s);
      await writeEndpointSlice(cluster, NS, SVC, [specs.v1, specs.v2]);
      for (const v of ["v1", "v2"]) {
        const argv = inPod(pods[v], [process.execPath, "--import", "tsx", join(REPO, "envoy-dev/apps/dubbo-provider.ts")]);
        providers[v] = start(`provider ${v}`, argv[0], argv.slice(1), join(cluster.dir, `provider-${v}.log`),
          { cwd: REPO, env: { ...process.env, VERSION: v, PORT: String(PORT), HOST: "0.0.0.0" } });
      }
      istiod = await startIstiod(cluster, release, NODE_IP);
      const sa = await cluster.serviceAccountKubeconfig("metaprotocol-wasm", "metaprotocol-wasm");
      controller = await startController(cluster, { identity: `mesh-${release}`, kubeconfig: sa,
        settings: controllerSettings(carrier === "TrafficExtension" ? "extensionKind: TrafficExtension" : "") });
      await until("the controller's objects", async () => (await cluster.kubectl(["get", carrier.toLowerCase(), "-n", "istio-system", `metaprotocol-dubbo-${PORT}-outbound`])).code === 0, 90_000);
      for (const [key, pod] of Object.entries(pods)) {
        net.captureTraffic(pod, { inbound: true });
        sidecars[key] = await startSidecar({ pod, namespace: NS, labels: specs[key].labels, xdsAddress: istiod.xdsAddress, istioVersion: PROXY_VERSION[release] });
      }
      for (const v of ["v1", "v2"]) await until(`provider ${v} listening`, () => /listening on/.test(providers[v].tail()), 30_000, 200, providers[v]);
      // Ready when the consumer's sidecar has the service's listener and its Wasm config loaded.
      await until("the consumer sidecar's Wasm filter by ECDS", async () => (await ecdsWasm(sidecars.consumer)).length > 0 || undefined, 120_000, 500, sidecars.consumer.proc);
    });

    after(async () => {
      for (const s of Object.values(sidecars)) await s.stop();
      for (const p of Object.values(providers)) await p.stop();
      await controller?.stop();
      await istiod?.stop();
      await cluster?.stop();
      net?.destroy();
    });

    const call = (calls: ClientCall[]) => new Promise<ClientResult[]>((resolve, reject) => {
      const argv = inPod(pods.consumer, [process.execPath, "--import", "tsx", join(REPO, "tests/mesh/support/dubbo-client.ts"),
        JSON.stringify({ address: `${clusterIP}:${PORT}`, calls })]);
      execFile(argv[0], argv.slice(1), { cwd: REPO, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`consumer failed: ${err.message}\n${stderr}`)); else resolve(JSON.parse(stdout.trim().split("\n").pop()!));
      });
    });
    const served = (rs: ClientResult[]) => rs.map((r) => versionOfAnswer(r.res) ?? `error: ${r.err}`);
    const applyMetaRouter = async (routes: object[]) => {
      await cluster.k(["apply", "-f", "-"], metaRouter(routes));
      const names = routes.map((r: any) => r.name).join();
      // A change is in effect once the consumer's sidecar loaded a Wasm config that has it.
      await until(`routes ${names} in the consumer's sidecar`, async () =>
        (await outboundRoutes(sidecars.consumer)).join() === names || undefined, 90_000, 500);
    };

    test("istiod sees the controller's objects", async () => {
      const configs: any[] = await istiod.debug("/debug/configz");
      const seen = (kind: string) => configs.filter((c) => c.kind === kind).map((c) => `${c.metadata.namespace}/${c.metadata.name}`).sort();
      assert.ok(seen(carrier).includes(`istio-system/metaprotocol-dubbo-${PORT}-outbound`), show(seen(carrier)));
      assert.ok(seen(carrier).includes(`${NS}/metaprotocol-dubbo-${PORT}-inbound-${SVC}`), show(seen(carrier)));
      assert.ok(seen("EnvoyFilter").includes(`istio-system/metaprotocol-dubbo-${PORT}-outbound`), show(seen("EnvoyFilter")));
    });

    test("where istiod put the filter: by ECDS before tcp_proxy, which the EnvoyFilter patched, for the service's ClusterIP", async () => {
      const dump = await sidecars.consumer.configDump();
      const chain = outboundChain(dump, clusterIP);
      assert.ok(chain, `no outbound filter chain for ${clusterIP}:${PORT}\n${show(listenerNames(dump))}`);
      const names = chain.filters.map((f: any) => f.name);
      const wasmAt = chain.filters.findIndex((f: any) => f.config_discovery?.type_urls?.includes("type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm"));
      const tcpAt = names.indexOf("envoy.filters.network.tcp_proxy");
      assert.ok(wasmAt >= 0 && tcpAt > wasmAt, `filters: ${show(names)}`);
      assert.ok(chain.filters[wasmAt].config_discovery.config_source.ads !== undefined, "delivered over ADS");
      const tcp = chain.filters[tcpAt].typed_config;
      assert.equal(tcp.cluster, CLUSTER());
      assert.equal(tcp.upstream_connect_mode, "ON_DOWNSTREAM_DATA", show(tcp));
      assert.equal(tcp.max_early_data_bytes, 65536, show(tcp));
      const wasm = (await ecdsWasm(sidecars.consumer)).find((e) => e.name === chain.filters[wasmAt].name);
      assert.ok(wasm, `ECDS resource ${chain.filters[wasmAt].name} not loaded`);
      const vm = wasm.typed_config.config.vm_config;
      assert.equal(vm.code.local.filename, join(REPO, "build/dubbo.wasm"));
      assert.equal(wasm.typed_config.config.root_id, "metaprotocol-dubbo");
      // The provider sidecars: the inbound plugin on the service's target port, before tcp_proxy.
      const inbound = inboundChain(await sidecars.v2.configDump(), PORT);
      assert.ok(inbound, "no inbound filter chain for the target port on provider v2");
      const inNames = inbound.filters.map((f: any) => f.name);
      const inWasm = inbound.filters.findIndex((f: any) => f.config_discovery);
      assert.ok(inWasm >= 0 && inNames.indexOf("envoy.filters.network.tcp_proxy") > inWasm, show(inNames));
    });

    test("the sample's MetaRouter: connections split 80/20 between v1 and v2", async () => {
      const n = 40;
      const rs = await call(Array.from({ length: n }, (_, i) => ({ method: "sayHello" as const, arg: `c${i}` })));
      const got = served(rs);
      assert.deepEqual(got.filter((v) => v !== "v1" && v !== "v2"), [], show(rs));
      const { lo, hi } = binomialBounds(n, 0.8, 1e-4);
      const v1 = got.filter((v) => v === "v1").length;
      assert.ok(v1 >= lo && v1 <= hi, `v1 served ${v1} of ${n}, expected within [${lo}, ${hi}]`);
    });

    test("a MetaRouter change reaches Envoy: method routing, and the request mutation applied at the provider's sidecar", async () => {
      await applyMetaRouter([
        { name: "hello-v2", match: { attributes: { method: { exact: "sayHello" } } }, route: [dest("v2")], requestMutation: [{ key: "x-routed-by", value: "metaprotocol-wasm" }] },
        { name: "rest-v1", route: [dest("v1")] },
      ]);
      const rs = await call([{ method: "sayHello", arg: "m1" }, { method: "sayBye", arg: "m2" }, { method: "echo", arg: "m3" }, { method: "sayHello", arg: "m4" }]);
      assert.deepEqual(served(rs), ["v2", "v1", "v1", "v2"], show(rs));
      const v2log = providers.v2.tail(400);
      for (const arg of ["m1", "m4"]) {
        const line = v2log.split("\n").find((l) => l.includes(`sayHello("${arg}")`));
        assert.match(line ?? "", /x-routed-by=metaprotocol-wasm/, `provider v2 log:\n${v2log}`);
      }
      const v1log = providers.v1.tail(400).split("\n").find((l) => l.includes(`sayBye("m2")`));
      assert.doesNotMatch(v1log ?? "missing", /x-routed-by/, "the mutation belongs to the hello-v2 route only");
    });

    test("no route: a call no rule matches gets a Dubbo error reply at once and reaches no provider", async () => {
      await applyMetaRouter([{ name: "hello-only", match: { attributes: { method: { exact: "sayHello" } } }, route: [dest("v2")] }]);
      const before = await stat(sidecars.consumer, "route_not_found");
      const [r] = await call([{ method: "echo", arg: "lost-1" }]);
      assert.equal(r.res, null);
      assert.match(r.err ?? "", /route/i, show(r));
      assert.ok(r.ms < 2000, `error reply after ${r.ms} ms`);
      for (const v of ["v1", "v2"]) assert.doesNotMatch(providers[v].tail(400), /lost-1/);
      await until("route_not_found counted", async () => (await stat(sidecars.consumer, "route_not_found")) > before || undefined, 15_000);
      const [ok] = await call([{ method: "sayHello", arg: "still" }]);
      assert.equal(versionOfAnswer(ok.res), "v2");
    });

    test("a bad MetaRouter gets a status condition while the last good config keeps serving", async () => {
      await cluster.k(["apply", "-f", "-"], metaRouter([{ name: "to-v3", route: [dest("v3")] }]));
      const mr = await until("ResolvedRefs False", async () => {
        const m = await cluster.getJson(["get", "metarouter", SVC, "-n", NS]);
        return m.status?.conditions?.some((c: any) => c.type === "ResolvedRefs" && c.status === "False") ? m : undefined;
      }, 60_000);
      assert.ok(mr.status.conditions.some((c: any) => c.type === "LastGoodConfig"), show(mr.status));
      assert.deepEqual(await outboundRoutes(sidecars.consumer), ["hello-only"]);
      const [r] = await call([{ method: "sayHello", arg: "kept" }]);
      assert.equal(versionOfAnswer(r.res), "v2", show(r));
    });

    test("Istio's own validation (istioctl validate) accepts every object the controller emitted", async () => {
      const kinds = [carrier.toLowerCase() + "s", "envoyfilters"];
      const objects = await cluster.k(["get", ...[kinds.join(",")], "-A", "-l", "app.kubernetes.io/managed-by=metaprotocol-wasm", "-o", "yaml"]);
      const items = (parseAllDocuments(objects)[0].toJS() as any).items;
      assert.ok(items.length >= 3, show(items.map((i: any) => `${i.kind} ${i.metadata.name}`)));
      const r = await istioValidate(release, objects);
      assert.equal(r.code, 0, r.output);
      // Istio warns about every EnvoyFilter ("exposes internal implementation details"); nothing else may warn.
      const other = r.output.split("\n").filter((l) => /^\s*\*/.test(l) && !/EnvoyFilter exposes internal implementation details/.test(l));
      assert.deepEqual(other, [], r.output);
    });

    test("no Wasm VM failed in any sidecar", async () => {
      for (const [k, s] of Object.entries(sidecars)) {
        assert.doesNotMatch(s.proc.tail(2000), /wasm.*(failed|trap|abort)|Function: proxy_on_\w+ failed/i, `${k}:\n${s.proc.tail(40)}`);
        // Every xDS update istiod sent was taken: no listener or cluster refused.
        const rejected = await s.admin("/stats?filter=(lds|cds).update_rejected");
        assert.doesNotMatch(rejected, /update_rejected: [1-9]/, `${k} rejected an update:\n${rejected}\n${s.proc.tail(40)}`);
      }
    });
  });
}

// ---- reading Envoy's config dump ----

function dynamicListeners(dump: any): any[] {
  const l = dump.configs.find((c: any) => c["@type"]?.endsWith("ListenersConfigDump"));
  return (l?.dynamic_listeners ?? []).map((d: any) => d.active_state?.listener).filter(Boolean);
}
function listenerNames(dump: any): string[] { return dynamicListeners(dump).map((l) => l.name); }

function outboundChain(dump: any, ip: string): any {
  const l = dynamicListeners(dump).find((x) => x.name === `0.0.0.0_${PORT}` || x.name === `${ip}_${PORT}`);
  return l?.filter_chains?.find((c: any) => (c.filter_chain_match?.prefix_ranges ?? []).some((p: any) => p.address_prefix === ip))
    ?? (l?.name === `${ip}_${PORT}` ? l.filter_chains[0] : undefined);
}

function inboundChain(dump: any, port: number): any {
  const l = dynamicListeners(dump).find((x) => x.name === "virtualInbound");
  return l?.filter_chains?.find((c: any) => c.filter_chain_match?.destination_port === port && c.filters.some((f: any) => f.name === "envoy.filters.network.tcp_proxy"));
}

async function ecdsWasm(s: Sidecar): Promise<any[]> {
  const dump = JSON.parse(await s.admin("/config_dump?resource=ecds_filters"));
  return (dump.configs ?? []).map((c: any) => c.ecds_filter).filter((f: any) => f?.typed_config?.["@type"] === "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm");
}

/** Route names of our service in the consumer's outbound Wasm config (the plugin config JSON). */
async function outboundRoutes(s: Sidecar): Promise<string[]> {
  for (const f of await ecdsWasm(s)) {
    const value = f.typed_config.config.configuration?.value;
    if (!value) continue;
    const cfg = JSON.parse(value);
    const svc = (cfg.services ?? []).find((x: any) => x.name === HOST);
    if (svc && /outbound/.test(cfg.statPrefix)) return (svc.routes ?? []).map((r: any) => r.name);
  }
  return [];
}

async function stat(s: Sidecar, suffix: string): Promise<number> {
  const text = await s.admin("/stats/prometheus");
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^metaprotocol_dubbo_outbound_\d+_(\w+?)(?:\{[^}]*\})? (\d+)/.exec(line);
    if (m && m[1] === suffix) sum += Number(m[2]);
  }
  return sum;
}

// A real istiod: pilot-discovery from istio.io/istio (tools.ts) run outside the cluster against
// the loopback API server, as `pilot-discovery discovery` runs in the istiod Deployment, with
// Istio's CRDs of the same release applied first. Plaintext xDS (15010-style) on the pod
// network's node address; no CA (sidecars here have no istio-agent to ask for certificates).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster } from "./cluster.ts";
import { freePort, start, until, type Proc } from "./proc.ts";
import { istioBin, istioModuleDir, type IstioRelease } from "./tools.ts";

export interface Istiod {
  release: IstioRelease;
  /** host:port of plaintext ADS */
  xdsAddress: string;
  debugPort: number;
  proc: Proc;
  /** GET on istiod's debug endpoints (/debug/configz, /debug/syncz, ...). */
  debug(path: string): Promise<any>;
  stop(): Promise<void>;
}

/** The CRDs of an Istio release, as its Helm chart "base" ships them. */
export function istioCrds(release: IstioRelease): string {
  return readFileSync(join(istioModuleDir(release), "manifests/charts/base/files/crd-all.gen.yaml"), "utf8");
}

export async function installIstioCrds(cluster: Cluster, release: IstioRelease): Promise<void> {
  // Server-side: some of Istio's CRDs are larger than client-side apply's annotation allows.
  await cluster.k(["apply", "--server-side", "--field-manager", "istio-base", "-f", "-"], istioCrds(release));
  await cluster.k(["wait", "--for=condition=Established", "--timeout=60s", "crd", "-l", "chart=istio"]);
}

/** No certificates without istio-agent: plaintext between workloads, as Istio's own API says it. */
export const MESH_MTLS_DISABLED = JSON.stringify({
  apiVersion: "security.istio.io/v1", kind: "PeerAuthentication",
  metadata: { name: "default", namespace: "istio-system" }, spec: { mtls: { mode: "DISABLE" } },
});

export async function startIstiod(cluster: Cluster, release: IstioRelease, bindIp: string): Promise<Istiod> {
  const bin = istioBin(release);
  const dir = mkdtempSync(join(tmpdir(), `metaprotocol-istiod-${release}-`));
  const [grpc, http, https, monitoring] = [await freePort(bindIp), await freePort(), await freePort(), await freePort()];
  const mesh = join(dir, "mesh.yaml");
  writeFileSync(mesh, [
    "rootNamespace: istio-system",
    "trustDomain: cluster.local",
    // No certificates without istio-agent: plaintext between sidecars and to istiod.
    "enableAutoMtls: false",
    "defaultConfig:",
    `  discoveryAddress: ${bindIp}:${grpc}`,
    "",
  ].join("\n"));
  await cluster.k(["create", "namespace", "istio-system"]).catch(() => undefined);
  await cluster.k(["apply", "-f", "-"], MESH_MTLS_DISABLED);
  const proc = start(`istiod ${release}`, bin, ["pilot-discovery", "discovery",
    "--kubeconfig", cluster.kubeconfig, "--meshConfig", mesh, "--networksConfig", join(dir, "none.yaml"),
    "--grpcAddr", `${bindIp}:${grpc}`, "--httpAddr", `127.0.0.1:${http}`, "--httpsAddr", `127.0.0.1:${https}`,
    "--secureGRPCAddr", "", "--monitoringAddr", `127.0.0.1:${monitoring}`,
    "--domain", "cluster.local", "--log_output_level", "default:info",
  ], join(dir, "istiod.log"), {
    env: {
      ...process.env,
      POD_NAMESPACE: "istio-system", POD_NAME: "istiod-mesh-test", REVISION: "default", CLUSTER_ID: "Kubernetes",
      ENABLE_CA_SERVER: "false", PILOT_ENABLE_ANALYSIS: "false",
      // Istio's metadata exchange filters exist only in Istio's own proxy build; the sidecars
      // here are stock Envoy, which refuses any cluster or listener that names them.
      PILOT_ENABLE_METADATA_EXCHANGE: "false",
      // No webhooks to serve here: nothing calls them without a real kube-apiserver -> istiod route.
      INJECTION_WEBHOOK_CONFIG_NAME: "", VALIDATION_WEBHOOK_CONFIG_NAME: "",
      PILOT_ENABLE_GATEWAY_API: "false", PILOT_ENABLE_GATEWAY_API_STATUS: "false",
      PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER: "false", PILOT_ENABLE_GATEWAY_API_GATEWAYCLASS_CONTROLLER: "false",
      ISTIOD_CUSTOM_HOST: "istiod.istio-system.svc",
    },
  });
  const debug = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${http}${path}`);
    if (!r.ok) throw new Error(`istiod ${path}: HTTP ${r.status}`);
    const text = await r.text();
    try { return JSON.parse(text); } catch { return text; }
  };
  await until(`istiod ${release} ready`, async () => (await fetch(`http://127.0.0.1:${http}/ready`)).ok, 120_000, 500, proc);
  return { release, xdsAddress: `${bindIp}:${grpc}`, debugPort: http, proc, debug, stop: () => proc.stop() };
}

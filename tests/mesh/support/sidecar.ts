// Real Envoy as the sidecar of a pod: it runs in the pod's network namespace as Istio's proxy
// user (1337, so istio-init's rules let its own connections out), with the bootstrap
// istio-agent would write, minus the agent: ADS straight to istiod over plaintext gRPC, node id
// and metadata in Istio's shape so istiod finds the pod, its labels and its services.
// The Wasm module comes by file:// (WasmPlugin url), which istiod passes through as a local file.
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getEnvoy } from "../../../envoy-dev/proxy/get.ts";
import { inPod, PROXY_UID, type Pod } from "./netns.ts";
import { start, until, type Proc } from "./proc.ts";

export interface SidecarOptions {
  pod: Pod;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount?: string;
  /** host:port of istiod's plaintext ADS */
  xdsAddress: string;
  /** The Istio version the proxy claims (istiod tailors config to it). */
  istioVersion: string;
  /** Envoy's log level for the wasm component (module log lines). */
  wasmLogLevel?: string;
}

export interface Sidecar {
  pod: Pod;
  nodeId: string;
  adminUrl: string;
  proc: Proc;
  admin(path: string): Promise<string>;
  configDump(): Promise<any>;
  stop(): Promise<void>;
}

export function sidecarBootstrap(o: SidecarOptions): { nodeId: string; bootstrap: object } {
  const name = o.pod.name;
  const nodeId = `sidecar~${o.pod.ip}~${name}.${o.namespace}~${o.namespace}.svc.cluster.local`;
  const [xdsHost, xdsPort] = o.xdsAddress.split(":");
  const workload = o.labels.app ?? name;
  return {
    nodeId,
    bootstrap: {
      node: {
        id: nodeId,
        cluster: `${workload}.${o.namespace}`,
        locality: {},
        metadata: {
          ISTIO_VERSION: o.istioVersion,
          CLUSTER_ID: "Kubernetes",
          MESH_ID: "cluster.local",
          NAMESPACE: o.namespace,
          NAME: name,
          POD_NAME: name,
          LABELS: o.labels,
          WORKLOAD_NAME: workload,
          OWNER: `kubernetes://apis/v1/namespaces/${o.namespace}/pods/${name}`,
          SERVICE_ACCOUNT: o.serviceAccount ?? "default",
          INTERCEPTION_MODE: "REDIRECT",
          INSTANCE_IPS: o.pod.ip,
          ENVOY_PROMETHEUS_PORT: 15090,
          ENVOY_STATUS_PORT: 15021,
          PILOT_SAN: ["istiod.istio-system.svc"],
          PROXY_CONFIG: { discoveryAddress: o.xdsAddress, statusPort: 15020, proxyAdminPort: 15000, configPath: "./etc/istio/proxy" },
        },
      },
      // Admin on the pod IP (excluded from capture) so the test, outside the pod, can read it.
      admin: { address: { socket_address: { address: o.pod.ip, port_value: 15000 } } },
      dynamic_resources: {
        lds_config: { ads: {}, initial_fetch_timeout: "0s", resource_api_version: "V3" },
        cds_config: { ads: {}, initial_fetch_timeout: "0s", resource_api_version: "V3" },
        ads_config: {
          api_type: "GRPC", set_node_on_first_message_only: true, transport_api_version: "V3",
          grpc_services: [{ envoy_grpc: { cluster_name: "xds-grpc" } }],
        },
      },
      static_resources: {
        clusters: [{
          name: "xds-grpc", type: "STATIC", connect_timeout: "1s", lb_policy: "ROUND_ROBIN",
          load_assignment: { cluster_name: "xds-grpc", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: xdsHost, port_value: Number(xdsPort) } } } }] }] },
          typed_extension_protocol_options: {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
              "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        }],
      },
    },
  };
}

export async function startSidecar(o: SidecarOptions): Promise<Sidecar> {
  const dir = mkdtempSync(join(tmpdir(), `metaprotocol-sidecar-${o.pod.name}-`));
  chmodSync(dir, 0o777); // Envoy runs as the proxy user
  const { nodeId, bootstrap } = sidecarBootstrap(o);
  const config = join(dir, "envoy.json");
  writeFileSync(config, JSON.stringify(bootstrap, null, 1));
  const argv = inPod(o.pod, [getEnvoy(), "-c", config, "--disable-hot-restart", "--concurrency", "1",
    "--drain-time-s", "1", "--parent-shutdown-time-s", "2", "-l", "warning",
    "--component-log-level", `wasm:${o.wasmLogLevel ?? "info"},config:info,upstream:info`], PROXY_UID);
  const proc = start(`sidecar ${o.pod.name}`, argv[0], argv.slice(1), join(dir, "envoy.log"), { cwd: dir });
  const adminUrl = `http://${o.pod.ip}:15000`;
  const admin = async (path: string) => {
    const r = await fetch(adminUrl + path);
    const body = await r.text();
    if (!r.ok) throw new Error(`sidecar ${o.pod.name} admin ${path}: HTTP ${r.status} ${body.slice(0, 200)}`);
    return body;
  };
  await until(`sidecar ${o.pod.name} admin`, async () => (await fetch(`${adminUrl}/ready`)).status > 0, 30_000, 200, proc);
  return {
    pod: o.pod, nodeId, adminUrl, proc, admin,
    configDump: async () => JSON.parse(await admin("/config_dump?include_eds")),
    stop: () => proc.stop(),
  };
}

// What kubelet and the EndpointSlice controller would write for a pod that runs on this "node":
// a Pod (status Running, Ready, with its IP, written through the status subresource) and the
// EndpointSlice of each Service that selects it. The processes themselves run in the pod's
// network namespace (netns.ts).
import type { Cluster } from "./cluster.ts";

export interface PodSpec { name: string; namespace: string; ip: string; labels: Record<string, string>; ports?: number[] }

export async function registerPod(cluster: Cluster, p: PodSpec): Promise<void> {
  const pod = {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
    spec: {
      nodeName: "mesh-node",
      containers: [{ name: "app", image: "metaprotocol-wasm/mesh-test-app", ports: (p.ports ?? []).map((containerPort) => ({ containerPort })) }],
    },
  };
  await cluster.k(["apply", "--server-side", "--field-manager", "mesh-test-kubelet", "-f", "-"], JSON.stringify(pod));
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const status = {
    status: {
      phase: "Running", podIP: p.ip, podIPs: [{ ip: p.ip }], hostIP: "10.213.0.1", startTime: now,
      conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({ type, status: "True", lastTransitionTime: now })),
    },
  };
  await cluster.k(["patch", "pod", p.name, "-n", p.namespace, "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
}

/** The EndpointSlice of `service` with the given pods ready on its ports (by the Service's target ports). */
export async function writeEndpointSlice(cluster: Cluster, namespace: string, service: string, pods: PodSpec[]): Promise<void> {
  const svc = await cluster.getJson(["get", "service", service, "-n", namespace]);
  const slice = {
    apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
    metadata: {
      name: `${service}-mesh`, namespace,
      labels: { "kubernetes.io/service-name": service, "endpointslice.kubernetes.io/managed-by": "mesh-test.metaprotocol-wasm.io" },
    },
    addressType: "IPv4",
    ports: svc.spec.ports.map((sp: any) => ({ name: sp.name, port: typeof sp.targetPort === "number" ? sp.targetPort : sp.port, protocol: sp.protocol ?? "TCP" })),
    endpoints: pods.map((p) => ({
      addresses: [p.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: "mesh-node",
      targetRef: { kind: "Pod", name: p.name, namespace: p.namespace },
    })),
  };
  await cluster.k(["apply", "--server-side", "--field-manager", "mesh-test-endpointslice-controller", "-f", "-"], JSON.stringify(slice));
}

// What a cluster with Aeraki installed has, written for these tests from Aeraki's documented API
// (its MetaRouter/ApplicationProtocol fields and its two install paths), not copied from it:
// - "helm": Aeraki's Helm chart: ApplicationProtocol Namespaced; CRDs carrying Helm's ownership
//   labels/annotations and `helm.sh/resource-policy: keep` (so `helm uninstall` leaves them).
// - "kubectl": Aeraki's kubectl manifests and install scripts: ApplicationProtocol Cluster-scoped.
// Both have a loose structural schema (types only) and a status subresource.
export type AerakiInstall = "helm" | "kubectl";

const str = { type: "string" };
const match = {
  type: "object",
  properties: { attributes: { type: "object", additionalProperties: { type: "object", properties: { exact: str, prefix: str, regex: str } } } },
};
const bucket = { type: "object", properties: { maxTokens: { type: "integer" }, tokensPerFill: { type: "integer", nullable: true }, fillInterval: str } };
const destination = { type: "object", properties: { host: str, subset: str, port: { type: "object", properties: { number: { type: "integer" } } } } };
const keyValues = { type: "array", items: { type: "object", properties: { key: str, value: str } } };

const metaRouterSpec = {
  type: "object",
  properties: {
    hosts: { type: "array", items: str },
    gateways: { type: "array", items: str },
    exportTo: { type: "array", items: str },
    routes: {
      type: "array",
      items: {
        type: "object",
        properties: {
          name: str, match,
          route: { type: "array", items: { type: "object", properties: { destination, weight: { type: "integer" } } } },
          requestMutation: keyValues, responseMutation: keyValues,
          mirror: destination, mirrorPercentage: { type: "object", properties: { value: { type: "number" } } },
        },
      },
    },
    localRateLimit: {
      type: "object",
      properties: { tokenBucket: bucket, conditions: { type: "array", items: { type: "object", properties: { match, tokenBucket: bucket } } } },
    },
    globalRateLimit: {
      type: "object",
      properties: {
        match, domain: str, rateLimitService: str, requestTimeout: str, denyOnFail: { type: "boolean" },
        descriptors: { type: "array", items: { type: "object", properties: { property: str, descriptorKey: str } } },
      },
    },
  },
};

function crd(kind: string, plural: string, scope: "Namespaced" | "Cluster", spec: object, install: AerakiInstall): object {
  const helm = install === "helm";
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${plural}.metaprotocol.aeraki.io`,
      labels: helm ? { app: "aeraki", "app.kubernetes.io/managed-by": "Helm" } : { app: "aeraki" },
      ...(helm ? { annotations: { "helm.sh/resource-policy": "keep", "meta.helm.sh/release-name": "aeraki", "meta.helm.sh/release-namespace": "istio-system" } } : {}),
    },
    spec: {
      group: "metaprotocol.aeraki.io",
      scope,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), categories: ["aeraki-io", "metaprotocol-aeraki-io"] },
      versions: [{
        name: "v1alpha1", served: true, storage: true, subresources: { status: {} },
        schema: { openAPIV3Schema: { type: "object", properties: { spec, status: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } } },
      }],
    },
  };
}

/** Aeraki's two CRDs as the given install path leaves them, as a kubectl List (JSON). */
export function aerakiCrds(install: AerakiInstall): string {
  const apScope = install === "helm" ? "Namespaced" : "Cluster";
  return JSON.stringify({
    apiVersion: "v1", kind: "List",
    items: [
      crd("ApplicationProtocol", "applicationprotocols", apScope, { type: "object", properties: { protocol: str, codec: str } }, install),
      crd("MetaRouter", "metarouters", "Namespaced", metaRouterSpec, install),
    ],
  });
}

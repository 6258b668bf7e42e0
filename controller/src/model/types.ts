// Shapes of the objects the controller observes and of its settings. Only the fields the
// translation reads are typed; everything else passes through untouched.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: any;
  status?: any;
}

export interface StringMatch { exact?: string; prefix?: string; regex?: string }

export interface TokenBucket { maxTokens?: number; tokensPerFill?: number; fillInterval?: string }

export interface MetaRouterSpec {
  hosts?: string[];
  /** As in a VirtualService: "mesh" (the default) means sidecars; other names are gateways. */
  gateways?: string[];
  routes?: Array<{
    name?: string;
    match?: { attributes?: Record<string, StringMatch> };
    route?: Array<{ destination?: { host?: string; subset?: string; port?: { number?: number } }; weight?: number }>;
    requestMutation?: Array<{ key?: string; value?: string }>;
    responseMutation?: Array<{ key?: string; value?: string }>;
    mirror?: unknown;
    mirrorPercentage?: unknown;
  }>;
  localRateLimit?: {
    tokenBucket?: TokenBucket;
    conditions?: Array<{ match?: { attributes?: Record<string, StringMatch> }; tokenBucket?: TokenBucket }>;
  };
  globalRateLimit?: {
    match?: { attributes?: Record<string, StringMatch> };
    domain?: string;
    requestTimeout?: string;
    denyOnFail?: boolean;
    rateLimitService?: string;
    descriptors?: Array<{ property?: string; descriptorKey?: string }>;
  };
  exportTo?: string[];
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

/** Where the module for one protocol lives. */
export interface ModuleRef { url: string; sha256?: string }

export interface Settings {
  /** Istio's root namespace: mesh-wide config lives here. */
  rootNamespace: string;
  clusterDomain: string;
  /** protocol -> module; an ApplicationProtocol annotation overrides it. */
  modules: Record<string, ModuleRef>;
  failStrategy: "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
  /** bytes tcp_proxy buffers before it connects (ON_DOWNSTREAM_DATA). */
  maxEarlyDataBytes: number;
  onRouteMismatch?: "KEEP" | "REJECT";
  maxFrameBytes?: number;
  /** per-method counters in every module (plugin config methodStats) */
  methodStats?: boolean;
  /** The Istio kind that carries the module: WasmPlugin (Istio >= 1.20), or TrafficExtension
   * (Istio >= 1.30, which supersedes WasmPlugin). Default WasmPlugin. */
  extensionKind?: ExtensionKind;
  /** Spans of every module (outbound CLIENT, inbound SERVER) to this OTLP/gRPC collector. */
  tracing?: OtlpSettings;
  /** Access log records of every module to this OTLP/gRPC collector. */
  accessLog?: OtlpSettings;
  /** Per-route request duration histograms in every module (plugin config latencyHistogram). */
  latencyHistogram?: boolean;
}

/** An OTLP/gRPC collector as Istio's extensionProviders name one, and the share of requests recorded. */
export interface OtlpSettings { service: string; port: number; randomSamplingPercentage?: number }

export type ExtensionKind = "WasmPlugin" | "TrafficExtension";
export const EXTENSION_KINDS: ExtensionKind[] = ["WasmPlugin", "TrafficExtension"];

export const DEFAULT_SETTINGS: Settings = {
  rootNamespace: "istio-system",
  clusterDomain: "cluster.local",
  modules: {},
  failStrategy: "FAIL_CLOSE",
  maxEarlyDataBytes: 65536,
};

/** Everything the translation reads: the informers' caches, or files in render mode. */
export interface Observed {
  applicationProtocols: KubeObject[];
  metaRouters: KubeObject[];
  services: KubeObject[];
  serviceEntries: KubeObject[];
  destinationRules: KubeObject[];
  namespaces: KubeObject[];
}

export const GROUP = "metaprotocol.aeraki.io";
export const MANAGED_BY = "metaprotocol-wasm";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const ANNOTATION_MODULE_URL = "metaprotocol-wasm.io/module-url";
export const ANNOTATION_MODULE_SHA256 = "metaprotocol-wasm.io/module-sha256";
/** On a Service or ServiceEntry: the Dubbo interface(s) it serves, comma separated. */
export const ANNOTATION_INTERFACE = "metaprotocol-wasm.io/interface";

export function key(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

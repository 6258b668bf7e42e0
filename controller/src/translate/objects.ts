// Builders for the Istio objects the controller owns, with stable names and the labels
// that mark them as ours (pruning lists by these labels and never touches anything else).
import { createHash } from "node:crypto";
import { LABEL_MANAGED_BY, MANAGED_BY, type KubeObject, type ModuleRef, type Settings } from "../model/types.js";

export const LABEL_PROTOCOL = "metaprotocol-wasm.io/protocol";
export const LABEL_DIRECTION = "metaprotocol-wasm.io/direction";
export const TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

/** A DNS-1123 label of at most 63 characters; a hash keeps shortened names unique. */
export function objectName(...parts: Array<string | number>): string {
  const raw = parts.join("-").toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, "");
  if (raw.length <= 63) return raw;
  const h = createHash("sha256").update(raw).digest("hex").slice(0, 8);
  return `${raw.slice(0, 54).replace(/-$/, "")}-${h}`;
}

function labels(protocol: string, direction: "outbound" | "inbound"): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_PROTOCOL]: protocol, [LABEL_DIRECTION]: direction };
}

export function wasmPlugin(args: {
  name: string; namespace: string; protocol: string; direction: "outbound" | "inbound";
  module: ModuleRef; settings: Settings; port: number; selector?: Record<string, string>; pluginConfig: object;
}): KubeObject {
  const spec: Record<string, unknown> = {};
  if (args.selector) spec.selector = { matchLabels: sortKeys(args.selector) };
  spec.type = "NETWORK";
  spec.url = args.module.url;
  if (args.module.sha256) spec.sha256 = args.module.sha256;
  spec.pluginName = `metaprotocol-${args.protocol}`;
  spec.failStrategy = args.settings.failStrategy;
  spec.match = [{ mode: args.direction === "outbound" ? "CLIENT" : "SERVER", ports: [{ number: args.port }] }];
  spec.pluginConfig = args.pluginConfig;
  return {
    apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin",
    metadata: { name: args.name, namespace: args.namespace, labels: labels(args.protocol, args.direction) },
    spec,
  };
}

/** The tcp_proxy settings that let the module see the first request before tcp_proxy picks a cluster. */
export function tcpProxyPatchValue(settings: Settings) {
  return {
    "@type": TCP_PROXY_TYPE,
    upstream_connect_mode: "ON_DOWNSTREAM_DATA",
    max_early_data_bytes: settings.maxEarlyDataBytes,
  };
}

export function connectModeFilter(args: { name: string; namespace: string; protocol: string; port: number; settings: Settings }): KubeObject {
  return {
    apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter",
    metadata: { name: args.name, namespace: args.namespace, labels: labels(args.protocol, "outbound") },
    spec: {
      configPatches: [{
        applyTo: "NETWORK_FILTER",
        match: {
          context: "SIDECAR_OUTBOUND",
          listener: { portNumber: args.port, filterChain: { filter: { name: "envoy.filters.network.tcp_proxy" } } },
        },
        patch: {
          operation: "MERGE",
          value: { name: "envoy.filters.network.tcp_proxy", typed_config: tcpProxyPatchValue(args.settings) },
        },
      }],
    },
  };
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

// Builders for the Istio objects the controller owns, with stable names and the labels
// that mark them as ours (pruning lists by these labels and never touches anything else).
import { createHash } from "node:crypto";
import { LABEL_MANAGED_BY, MANAGED_BY, type ExtensionKind, type KubeObject, type ModuleRef, type Settings } from "../model/types.js";

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

/** The module for one port and direction: a WasmPlugin, or (settings.extensionKind) the
 * TrafficExtension that supersedes it in Istio >= 1.30, with the same Wasm fields under `wasm`. */
export function wasmPlugin(args: {
  name: string; namespace: string; protocol: string; direction: "outbound" | "inbound";
  module: ModuleRef; settings: Settings; port: number; selector?: Record<string, string>; pluginConfig: object;
}): KubeObject {
  const wasm: Record<string, unknown> = {};
  wasm.type = "NETWORK";
  wasm.url = args.module.url;
  if (args.module.sha256) wasm.sha256 = args.module.sha256;
  wasm.pluginName = `metaprotocol-${args.protocol}`;
  wasm.failStrategy = args.settings.failStrategy;
  const match = [{ mode: args.direction === "outbound" ? "CLIENT" : "SERVER", ports: [{ number: args.port }] }];
  const selector = args.selector ? { selector: { matchLabels: sortKeys(args.selector) } } : {};
  const kind = extensionKindOf(args.settings);
  const spec = kind === "TrafficExtension"
    ? { ...selector, match, wasm: { ...wasm, pluginConfig: args.pluginConfig } }
    : { ...selector, ...wasm, match, pluginConfig: args.pluginConfig };
  return {
    apiVersion: "extensions.istio.io/v1alpha1", kind,
    metadata: { name: args.name, namespace: args.namespace, labels: labels(args.protocol, args.direction) },
    spec,
  };
}

export function extensionKindOf(settings: Settings): ExtensionKind {
  return settings.extensionKind ?? "WasmPlugin";
}

/** The plugin config of a WasmPlugin or a TrafficExtension. */
export function pluginConfigOf(o: KubeObject | undefined): any {
  return o?.kind === "TrafficExtension" ? o?.spec?.wasm?.pluginConfig : o?.spec?.pluginConfig;
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

// Rewrites an envoy.yaml for a test or demo run: only addresses, ports and file paths change
// (and, when asked, the plugin configuration or its delivery by ECDS), so real Envoy runs the
// same file docker compose and the local host use.
import { basename } from "node:path";

export interface Endpoint { host: string; port: number }

export interface BootstrapOptions {
  /** cluster name -> endpoints that replace the file's load_assignment. */
  endpoints?: Record<string, Endpoint[]>;
  /** listener name -> port (0 = the kernel picks one). Listeners not named keep their port. */
  listenerPorts?: Record<string, number>;
  /** Admin port (0 = picked by the kernel). */
  adminPort?: number;
  /** Folder holding the .wasm files; each code.local.filename keeps its base name. */
  wasmDir: string;
  /** listener name -> plugin configuration (JSON text) replacing the inline one. */
  pluginConfig?: Record<string, string>;
  /** listener name -> ECDS file: the Wasm filter's config is delivered from it, as Istio does. */
  ecds?: Record<string, string>;
  /** Address every listener and the admin bind to (default 127.0.0.1). */
  bindAddress?: string;
}

const WASM_FILTER = "envoy.filters.network.wasm";
export const WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";

type Obj = Record<string, any>;

function listenerOf(boot: Obj, name: string): Obj {
  const l = (boot.static_resources?.listeners ?? []).find((x: Obj) => x.name === name);
  if (!l) throw new Error(`no listener named ${name} in the bootstrap`);
  return l;
}

function wasmFilterOf(l: Obj): Obj | undefined {
  return l.filter_chains?.[0]?.filters?.find((f: Obj) => f.name === WASM_FILTER || f.typed_config?.["@type"] === WASM_TYPE);
}

/** Returns a rewritten copy of `boot` (the parsed envoy.yaml) and the ECDS resources to write. */
export function rewriteBootstrap(boot: Obj, o: BootstrapOptions): { bootstrap: Obj; ecds: Record<string, Obj> } {
  const b: Obj = structuredClone(boot);
  const bind = o.bindAddress ?? "127.0.0.1";
  const sr = b.static_resources ?? {};
  for (const name of [...Object.keys(o.listenerPorts ?? {}), ...Object.keys(o.pluginConfig ?? {}), ...Object.keys(o.ecds ?? {})]) {
    listenerOf(b, name);
  }
  if (b.admin) b.admin.address = { socket_address: { address: bind, port_value: o.adminPort ?? b.admin.address.socket_address.port_value } };
  const ecds: Record<string, Obj> = {};
  for (const l of sr.listeners ?? []) {
    const port = o.listenerPorts?.[l.name] ?? l.address.socket_address.port_value;
    l.address = { socket_address: { address: bind, port_value: port } };
    for (const chain of l.filter_chains ?? []) {
      for (const f of chain.filters ?? []) {
        const wasm = f.typed_config?.["@type"] === WASM_TYPE ? f.typed_config : null;
        if (!wasm) continue;
        const local = wasm.config?.vm_config?.code?.local;
        if (local?.filename) local.filename = `${o.wasmDir}/${basename(local.filename)}`;
        const json = o.pluginConfig?.[l.name];
        if (json !== undefined) wasm.config.configuration = { "@type": "type.googleapis.com/google.protobuf.StringValue", value: json };
      }
    }
    const file = o.ecds?.[l.name];
    if (file) {
      const f = wasmFilterOf(l)!;
      const resource = `metaprotocol-${l.name}`;
      ecds[file] = {
        resources: [{ "@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig", name: resource, typed_config: f.typed_config }],
      };
      delete f.typed_config;
      f.name = resource;
      f.config_discovery = {
        config_source: { path_config_source: { path: file }, resource_api_version: "V3" },
        type_urls: [WASM_TYPE],
      };
    }
  }
  for (const c of sr.clusters ?? []) {
    const eps = o.endpoints?.[c.name];
    if (!eps) continue;
    c.load_assignment = {
      cluster_name: c.name,
      endpoints: [{ lb_endpoints: eps.map((e) => ({ endpoint: { address: { socket_address: { address: e.host, port_value: e.port } } } })) }],
    };
  }
  return { bootstrap: b, ecds };
}

/** The ECDS resource for a listener's Wasm filter with a new plugin configuration. */
export function ecdsWithConfig(resource: Obj, json: string): Obj {
  const r = structuredClone(resource);
  r.resources[0].typed_config.config.configuration = { "@type": "type.googleapis.com/google.protobuf.StringValue", value: json };
  return r;
}

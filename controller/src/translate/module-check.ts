// Before the controller applies a pluginConfig, the protocol's own module parses it: the built
// .wasm runs in Node under the local proxy-wasm host (on_vm_start + on_configure), so a rule the
// module would refuse (a regex it cannot run, a limit it enforces) never reaches a proxy, where
// it would take down the whole shared config of that port.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** null when the module accepts the pluginConfig, else its reason ("<field path>: <why>"). */
export type ModuleCheck = (protocol: string, pluginConfig: object) => string | null;

const CACHE_LIMIT = 4096;

/**
 * A ModuleCheck running `<dir>/<protocol>.wasm`. Protocols without a module file there are not
 * checked (`missing` lists them). Results are cached by config text: a reconcile re-checks
 * only what changed.
 */
export async function moduleCheckFrom(dir: string): Promise<{ check: ModuleCheck; missing: Set<string> }> {
  // The local host is loaded lazily: only a controller that checks needs it.
  const { configureOnce } = await import("../../../envoy-dev/host/index.ts");
  const modules = new Map<string, WebAssembly.Module | null>();
  const missing = new Set<string>();
  const cache = new Map<string, string | null>();
  const check: ModuleCheck = (protocol, pluginConfig) => {
    if (!modules.has(protocol)) {
      const path = join(dir, `${protocol}.wasm`);
      modules.set(protocol, existsSync(path) ? new WebAssembly.Module(readFileSync(path)) : null);
      if (!modules.get(protocol)) missing.add(protocol);
    }
    const module = modules.get(protocol);
    if (!module) return null;
    const json = JSON.stringify(pluginConfig);
    const k = protocol + "\n" + json;
    if (cache.has(k)) return cache.get(k)!;
    const r = configureOnce(module, `${protocol}.wasm`, json, `metaprotocol-${protocol}`);
    const why = r.accepted ? null : refusal(r.logs);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(k, why);
    return why;
  };
  return { check, missing };
}

/** The module's own words: "plugin config refused: <path>: <why>", else the host's. */
function refusal(logs: string[]): string {
  for (const l of logs) {
    const i = l.indexOf("plugin config refused: ");
    if (i >= 0) return l.slice(i + "plugin config refused: ".length);
  }
  return logs.join("; ") || "refused";
}

/**
 * The MetaRouter field behind a path in a one-service pluginConfig built from it:
 * services[0].routes[i]... is spec.routes[i]..., services[0].localRateLimit... is
 * spec.localRateLimit...; anything else is the rule as a whole.
 */
export function metaRouterField(path: string): string {
  const m = /^services\[0\]\.(routes\[\d+\]|localRateLimit)((?:\.[A-Za-z]+|\[\d+\])*)/.exec(path);
  return m ? `spec.${m[1]}${m[2]}` : "spec";
}

// What the in-process meshes (tests, demo) read from envoy-dev/envoy.yaml. The host runs that
// file unchanged; only endpoints and ports are overridden.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const ENVOY_YAML = fileURLToPath(new URL("../envoy.yaml", import.meta.url));

function envoyYaml(): any { return parse(readFileSync(ENVOY_YAML, "utf8")); }

/** Every listener gets an OS-picked port, so the whole file runs beside other tests. */
export function allListenersEphemeral(): Record<string, number> {
  return Object.fromEntries(envoyYaml().static_resources.listeners.map((l: any) => [l.name, 0]));
}

/** A listener's Wasm plugin configuration exactly as written in envoy.yaml. */
export function pluginConfigOf(listener: string): Record<string, any> {
  const l = envoyYaml().static_resources.listeners.find((x: any) => x.name === listener);
  const wasm = l.filter_chains[0].filters.find((f: any) => f.name === "envoy.filters.network.wasm");
  return JSON.parse(wasm.typed_config.config.configuration.value);
}

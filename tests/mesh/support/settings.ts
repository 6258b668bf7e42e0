// Controller settings for the mesh tests: the shipped settings, with the modules served from
// build/ by file:// (istiod hands a file:// URL to Envoy as a local file; no istio-agent here).
import { join } from "node:path";
import { REPO } from "./tools.ts";

export function controllerSettings(extra = ""): string {
  return [
    "rootNamespace: istio-system", "clusterDomain: cluster.local", "failStrategy: FAIL_CLOSE", "maxEarlyDataBytes: 65536",
    "modules:",
    `  dubbo: { url: "file://${join(REPO, "build/dubbo.wasm")}" }`,
    `  thrift: { url: "file://${join(REPO, "build/thrift.wasm")}" }`,
    extra, "",
  ].join("\n");
}

// Strict validation of Envoy configs against Envoy's own API protos (see proto-root.ts and
// envoy-api-additions.ts). Used by npm test for envoy-dev/envoy.yaml and by the controller for
// the EnvoyFilter patch it writes.
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { lookupMessage } from "./proto-root.ts";
import { validateMessageValue } from "./json-mapping.ts";

/**
 * Validates `value` (parsed YAML/JSON) as the message `typeName`, e.g.
 * "envoy.config.bootstrap.v3.Bootstrap" or "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy".
 * Returns the errors, each starting with the path ("static_resources.listeners[0].name: ...").
 * `partial: true` is for fragments merged into an existing config (EnvoyFilter MERGE patches):
 * fields may be absent, but every field present must be right.
 */
export function validateEnvoyMessage(typeName: string, value: unknown, options: { partial?: boolean } = {}): string[] {
  const type = lookupMessage(typeName);
  if (!type) return [`<root>: unknown message type ${JSON.stringify(typeName)}`];
  return validateMessageValue(type, value, lookupMessage, options.partial ?? false);
}

/** Reads a bootstrap YAML file (as `envoy -c` does) and validates it. */
export function validateBootstrapYaml(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return [`<file>: cannot read ${path}: ${(e as Error).message}`];
  }
  // Envoy's loader refuses duplicate keys too; yaml reports them as errors.
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) return doc.errors.map((e) => `<yaml>: ${e.message.split("\n")[0]}`);
  return validateEnvoyMessage("envoy.config.bootstrap.v3.Bootstrap", doc.toJS());
}

export { validateIstioResource, validateEnvoyFilterPatches } from "./istio.ts";

// Validation of hand-written Istio resources (istio/ samples, the controller's output):
// 1. Istio's own CRD schemas (istio-crds.json, from the istio.io/istio module of every release
//    the mesh suite pins: npm run gen:istio-crds / check:istio-crds), applied as the API server
//    applies them (controller/src/model/schema.ts): types, enums, bounds, oneOf, and unknown
//    fields, which kubectl's default strict validation refuses. An object must be valid in every
//    pinned release that has its kind. CEL rules (x-kubernetes-validations) are left to the real
//    API server and istioctl validate in tests/mesh;
// 2. EnvoyFilter patch values, against Envoy's protos (index.ts), as MERGE fragments.
import { readFileSync } from "node:fs";
import { applyObjectSchema, type Schema, type SchemaIssue } from "../../controller/src/model/schema.ts";
import { lookupMessage } from "./proto-root.ts";
import { validateMessageValue } from "./json-mapping.ts";

interface IstioCrd { group: string; kind: string; versions: string[]; schema: Schema }
const CRDS: Record<string, IstioCrd[]> = JSON.parse(readFileSync(new URL("./istio-crds.json", import.meta.url), "utf8"));

// EnvoyFilter applyTo -> the Envoy message its patch value is.
const PATCH_TYPES: Record<string, string> = {
  LISTENER: "envoy.config.listener.v3.Listener",
  FILTER_CHAIN: "envoy.config.listener.v3.FilterChain",
  NETWORK_FILTER: "envoy.config.listener.v3.Filter",
  LISTENER_FILTER: "envoy.config.listener.v3.ListenerFilter",
  CLUSTER: "envoy.config.cluster.v3.Cluster",
  HTTP_FILTER: "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
  ROUTE_CONFIGURATION: "envoy.config.route.v3.RouteConfiguration",
  VIRTUAL_HOST: "envoy.config.route.v3.VirtualHost",
  HTTP_ROUTE: "envoy.config.route.v3.Route",
  EXTENSION_CONFIG: "envoy.config.core.v3.TypedExtensionConfig",
};

/** Validates one Istio resource; errors start with "<Kind>/<name> <path>: ". */
export function validateIstioResource(obj: any): string[] {
  const [group, version] = String(obj?.apiVersion ?? "").split("/");
  const who = `${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}`;
  const releases = Object.entries(CRDS).flatMap(([release, crds]) => {
    const crd = crds.find((c) => c.group === group && c.kind === obj?.kind && c.versions.includes(version));
    return crd ? [{ release, crd }] : [];
  });
  if (!releases.length) return [`${who} <root>: unsupported apiVersion/kind ${obj?.apiVersion}/${obj?.kind}`];
  const errors = new Set<string>();
  for (const { release, crd } of releases) {
    const issues: SchemaIssue[] = [];
    applyObjectSchema(crd.schema, structuredClone(obj), issues);
    const only = releases.length > 1 && !releasesAgree(releases, issues, obj) ? ` (Istio ${release})` : "";
    for (const i of issues) errors.add(`${who} ${i.path}: ${i.message}${only}`);
  }
  if (obj.kind === "EnvoyFilter") for (const p of validateEnvoyFilterPatches(obj)) errors.add(`${who} ${p}`);
  return [...errors];
}

/** Whether every release says the same about obj (then no release is named in the messages). */
function releasesAgree(releases: Array<{ crd: IstioCrd }>, issues: SchemaIssue[], obj: any): boolean {
  const text = (list: SchemaIssue[]) => list.map((i) => `${i.path} ${i.message}`).join("\n");
  return releases.every(({ crd }) => { const l: SchemaIssue[] = []; applyObjectSchema(crd.schema, structuredClone(obj), l); return text(l) === text(issues); });
}

/** Each configPatches[i].patch.value checked as the Envoy message its applyTo names. */
export function validateEnvoyFilterPatches(envoyFilter: any): string[] {
  const out: string[] = [];
  (envoyFilter?.spec?.configPatches ?? []).forEach((cp: any, i: number) => {
    const at = `spec.configPatches[${i}].patch.value`;
    const typeName = PATCH_TYPES[cp?.applyTo];
    if (!typeName) return out.push(`spec.configPatches[${i}].applyTo: no Envoy message known for ${JSON.stringify(cp?.applyTo)}`);
    if (cp?.patch?.value === undefined) return;
    // MERGE and the insert operations both carry fragments Istio completes; check what is there.
    for (const e of validateMessageValue(lookupMessage(typeName)!, cp.patch.value, lookupMessage, true)) {
      out.push(e.startsWith("<root>") ? at + e.slice(6) : `${at}.${e}`);
    }
  });
  return out;
}

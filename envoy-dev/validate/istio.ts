// Validation of hand-written Istio resources (istio/ samples, the controller's output):
// 1. the CRD schema, through @kubernetes-models/istio's compiled validators;
// 2. unknown fields, which those validators let through but the API server refuses
//    (kubectl's strict field validation): found by walking the models' TypeScript types;
// 3. EnvoyFilter patch values, against Envoy's protos (index.ts), as MERGE fragments.
import { createRequire } from "node:module";
import ts from "typescript";
import { WasmPlugin } from "@kubernetes-models/istio/extensions.istio.io/v1alpha1";
import { DestinationRule, ServiceEntry } from "@kubernetes-models/istio/networking.istio.io/v1";
import { EnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3";
import { lookupMessage } from "./proto-root.ts";
import { validateMessageValue } from "./json-mapping.ts";

const require = createRequire(import.meta.url);

interface Model { validate(): void }
interface Kind { make: (o: any) => Model; dts: string; iface: string }
const KINDS: Record<string, Kind> = {
  "extensions.istio.io/v1alpha1/WasmPlugin": { make: (o) => new WasmPlugin(o), dts: "extensions.istio.io/v1alpha1/WasmPlugin.d.ts", iface: "IWasmPlugin" },
  "networking.istio.io/v1alpha3/EnvoyFilter": { make: (o) => new EnvoyFilter(o), dts: "networking.istio.io/v1alpha3/EnvoyFilter.d.ts", iface: "IEnvoyFilter" },
  "networking.istio.io/v1/DestinationRule": { make: (o) => new DestinationRule(o), dts: "networking.istio.io/v1/DestinationRule.d.ts", iface: "IDestinationRule" },
  "networking.istio.io/v1/ServiceEntry": { make: (o) => new ServiceEntry(o), dts: "networking.istio.io/v1/ServiceEntry.d.ts", iface: "IServiceEntry" },
};

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

const jsonPath = (ajvPath: string) =>
  ajvPath.replace(/^\/?(data)?\/?/, "").split("/").filter(Boolean)
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i ? `.${s}` : s)).join("");

/** Validates one Istio resource; errors start with "<Kind>/<name> <path>: ". */
export function validateIstioResource(obj: any): string[] {
  const key = `${obj?.apiVersion}/${obj?.kind}`;
  const kind = KINDS[key];
  const who = `${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}`;
  if (!kind) return [`${who} <root>: unsupported apiVersion/kind ${key}`];
  const errors: string[] = [];
  try {
    kind.make(obj).validate();
  } catch (e: any) {
    const list: any[] = e?.errors ?? [];
    if (list.length) for (const x of list) errors.push(`${who} ${jsonPath(x.instancePath ?? "") || "<root>"}: ${x.message}`);
    else errors.push(`${who} ${e.message}`);
  }
  for (const u of unknownFields(kind, obj)) errors.push(`${who} ${u}`);
  if (obj.kind === "EnvoyFilter") for (const p of validateEnvoyFilterPatches(obj)) errors.push(`${who} ${p}`);
  return errors;
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

let program: ts.Program | undefined;
function interfaceType(kind: Kind): { checker: ts.TypeChecker; type: ts.Type } {
  const base = require.resolve("@kubernetes-models/istio/package.json").replace(/package\.json$/, "");
  const file = base + kind.dts;
  program ??= ts.createProgram(Object.values(KINDS).map((k) => base + k.dts), { noEmit: true, skipLibCheck: true, types: [], lib: ["lib.es5.d.ts"] });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(file)!;
  const moduleSymbol = checker.getSymbolAtLocation(sf);
  const sym = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === kind.iface);
  if (!sym) throw new Error(`istio validation: ${kind.iface} not found in ${file}`);
  return { checker, type: checker.getDeclaredTypeOfSymbol(sym) };
}

function unknownFields(kind: Kind, obj: unknown): string[] {
  const { checker, type } = interfaceType(kind);
  const out: string[] = [];
  const walk = (t: ts.Type, v: unknown, path: string) => {
    t = checker.getNonNullableType(t);
    if (Array.isArray(v)) {
      if (checker.isArrayType(t)) v.forEach((x, i) => walk(checker.getTypeArguments(t as ts.TypeReference)[0], x, `${path}[${i}]`));
      return;
    }
    if (typeof v !== "object" || v === null) return;
    const candidates = t.isUnion() ? t.types : [t];
    const props = candidates.flatMap((c) => checker.getPropertiesOfType(c));
    const freeForm = !props.length || candidates.some((c) => c.getStringIndexType());
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      const prop = props.find((s) => s.name === k);
      if (prop) walk(checker.getTypeOfSymbol(prop), x, p);
      else if (!freeForm) out.push(`${p}: unknown field "${k}"`);
    }
  };
  walk(type, obj, "");
  return out;
}

// Offline mode: read manifests from files, translate, print what the controller would apply.
import type { ModuleCheck } from "./translate/module-check.js";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import type { KubeObject, Observed, Settings } from "./model/types.js";
import { parseSettings } from "./model/settings.js";
import { translate, type Translation } from "./translate/index.js";

export const SETTINGS_CONFIGMAP = "metaprotocol-wasm-settings";

export function emptyObserved(): Observed {
  return { applicationProtocols: [], metaRouters: [], services: [], serviceEntries: [], destinationRules: [], namespaces: [] };
}

const SLOT: Record<string, keyof Observed> = {
  ApplicationProtocol: "applicationProtocols", MetaRouter: "metaRouters", Service: "services",
  ServiceEntry: "serviceEntries", DestinationRule: "destinationRules", Namespace: "namespaces",
};

export function expandFiles(paths: string[]): string[] {
  return paths.flatMap((p) => statSync(p).isDirectory()
    ? readdirSync(p).filter((f) => /\.ya?ml$|\.json$/.test(f)).sort().map((f) => join(p, f))
    : [p]);
}

/** Sorts documents into the observed slots; ConfigMap metaprotocol-wasm-settings gives settings. */
export function loadObjects(texts: Array<{ name: string; text: string }>, base?: Settings): { observed: Observed; settings: Settings; ignored: string[] } {
  const observed = emptyObserved();
  let settings = parseSettings(undefined, base);
  const ignored: string[] = [];
  const add = (o: any, where: string) => {
    if (!o || typeof o !== "object") return;
    if (Array.isArray(o.items) && /List$/.test(o.kind ?? "")) { o.items.forEach((i: any) => add(i, where)); return; }
    if (o.kind === "ConfigMap" && o.metadata?.name === SETTINGS_CONFIGMAP) { settings = parseSettings(o.data?.["settings.yaml"], settings); return; }
    const slot = SLOT[o.kind];
    if (!slot || !o.metadata?.name) { ignored.push(`${where}: ${o.kind ?? "?"}/${o.metadata?.name ?? "?"}`); return; }
    if (slot !== "namespaces" && slot !== "applicationProtocols") o.metadata.namespace ??= "default";
    observed[slot].push(o as KubeObject);
  };
  for (const { name, text } of texts) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw new Error(`${name}: ${doc.errors[0].message}`);
      add(doc.toJS(), name);
    }
  }
  return { observed, settings, ignored };
}

/** YAML 1.1 quoting: kubectl and Istio read YAML 1.1, where a bare yes / on / y is a boolean, not a string. */
export function renderYaml(t: Translation): string {
  return t.objects.map((o) => "---\n" + stringify(o, { lineWidth: 0, version: "1.1" })).join("");
}

export function renderReport(t: Translation): string {
  const lines: string[] = [];
  for (const k of t.kept) lines.push(`kept from the cluster: ${k.service} in ${k.object.kind} ${k.object.namespace}/${k.object.name}`);
  for (const s of t.statuses) {
    for (const c of s.conditions) lines.push(`MetaRouter ${s.metaRouter.namespace}/${s.metaRouter.name}: ${c.type}=${c.status} ${c.reason}: ${c.message}`);
  }
  for (const e of t.events) {
    if (e.regarding.kind !== "MetaRouter") lines.push(`${e.type} ${e.regarding.kind} ${e.regarding.namespace ?? ""}/${e.regarding.name}: ${e.reason}: ${e.message}`);
  }
  return lines.join("\n");
}

export function renderFiles(paths: string[], base?: Settings, check?: ModuleCheck): { yaml: string; report: string; translation: Translation } {
  const texts = expandFiles(paths).map((name) => ({ name, text: readFileSync(name, "utf8") }));
  const { observed, settings } = loadObjects(texts, base);
  const translation = translate(observed, settings, undefined, [], check);
  return { yaml: renderYaml(translation), report: renderReport(translation), translation };
}

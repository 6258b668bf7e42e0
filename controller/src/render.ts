// Offline mode: read manifests from files, translate, print what the controller would apply.
import type { ModuleCheck } from "./translate/module-check.js";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import type { KubeObject, Observed, Settings } from "./model/types.js";
import { parseSettings } from "./model/settings.js";
import { translate, type Translation } from "./translate/index.js";
import { CRD_SCHEMAS } from "./model/crd-schemas.gen.js";
import { applyObjectSchema, type SchemaIssue } from "./model/schema.js";

export const SETTINGS_CONFIGMAP = "metaprotocol-wasm-settings";

export function emptyObserved(): Observed {
  return { applicationProtocols: [], metaRouters: [], services: [], serviceEntries: [], destinationRules: [], namespaces: [] };
}

const SLOT: Record<string, keyof Observed> = {
  ApplicationProtocol: "applicationProtocols", MetaRouter: "metaRouters", Service: "services",
  ServiceEntry: "serviceEntries", DestinationRule: "destinationRules", Namespace: "namespaces",
};

/**
 * The files behind -f arguments, as kubectl reads them: a file as is, a folder's .yaml/.yml/.json
 * files (sorted), its subfolders too with `recursive` (-R), and "-" for standard input.
 */
export function expandFiles(paths: string[], recursive = false): string[] {
  const inFolder = (d: string): string[] => readdirSync(d).sort().flatMap((f) => {
    const p = join(d, f);
    if (statSync(p).isDirectory()) return recursive ? inFolder(p) : [];
    return /\.(ya?ml|json)$/.test(f) ? [p] : [];
  });
  return paths.flatMap((p) => p === "-" ? [p] : statSync(p).isDirectory() ? inFolder(p) : [p]);
}

export interface LoadOptions {
  /** kubectl's -n: where objects without a namespace go (else "default"); objects naming another namespace are an error. */
  namespace?: string;
  /** Apply this project's CRD schemas as the API server would: prune and report unknown fields, report invalid values. */
  schemas?: boolean;
}

export interface Loaded {
  observed: Observed;
  settings: Settings;
  /** Objects the controller does not read, as "<file>: <Kind> <namespace>/<name>". */
  ignored: string[];
  /** What the API server or kubectl would say about the inputs (duplicates, unknown fields, invalid values). */
  findings: string[];
  /** Inputs kubectl would refuse outright (a namespace other than -n). */
  errors: string[];
}

const CLUSTER_SCOPED = new Set(["Namespace", ...CRD_SCHEMAS.filter((c) => c.scope === "Cluster").map((c) => c.kind)]);

/** Sorts documents into the observed slots; ConfigMap metaprotocol-wasm-settings gives settings. */
export function loadObjects(texts: Array<{ name: string; text: string }>, base?: Settings, opts: LoadOptions = {}): Loaded {
  const observed = emptyObserved();
  let settings = parseSettings(undefined, base);
  const ignored: string[] = [];
  const findings: string[] = [];
  const errors: string[] = [];
  const seen = new Map<string, { where: string; slot: keyof Observed; index: number }>();
  const add = (o: any, where: string) => {
    if (!o || typeof o !== "object") return;
    if (Array.isArray(o.items) && /List$/.test(o.kind ?? "")) { o.items.forEach((i: any) => add(i, where)); return; }
    if (o.kind === "ConfigMap" && o.metadata?.name === SETTINGS_CONFIGMAP) { settings = parseSettings(o.data?.["settings.yaml"], settings); return; }
    const slot = SLOT[o.kind];
    const ns = o.metadata?.namespace;
    if (!slot || !o.metadata?.name) { ignored.push(`${where}: ${o.kind ?? "?"} ${ns ? ns + "/" : ""}${o.metadata?.name ?? "?"}`); return; }
    if (!CLUSTER_SCOPED.has(o.kind)) {
      if (opts.namespace !== undefined && ns !== undefined && ns !== opts.namespace) {
        errors.push(`${where}: the namespace from the provided object "${ns}" does not match the namespace "${opts.namespace}". You must pass '--namespace=${ns}' to perform this operation.`);
        return;
      }
      o.metadata.namespace = ns ?? opts.namespace ?? "default";
    }
    const id = `${o.kind} ${o.metadata.namespace ? o.metadata.namespace + "/" : ""}${o.metadata.name}`;
    if (opts.schemas) o = checkSchema(o, `${where}: ${id}`, findings);
    const k = `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const before = seen.get(k);
    if (before) {
      // As `kubectl apply -f` leaves it: the later document replaces the earlier one.
      findings.push(`${where}: ${id} is also in ${before.where}: this later one is used, as kubectl apply would leave it`);
      observed[slot][before.index] = o as KubeObject;
      before.where = where;
      return;
    }
    seen.set(k, { where, slot, index: observed[slot].length });
    observed[slot].push(o as KubeObject);
  };
  for (const { name, text } of texts) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw new Error(`${name}: ${doc.errors[0].message}`);
      add(doc.toJS(), name);
    }
  }
  return { observed, settings, ignored, findings, errors };
}

/** Our CRDs' schema on one of our objects: the object the API server would store, with what it would say. */
function checkSchema(o: any, who: string, findings: string[]): any {
  const [group, version] = String(o.apiVersion ?? "").split("/");
  const crd = CRD_SCHEMAS.find((c) => c.kind === o.kind && c.group === group);
  if (!crd) return o;
  if (crd.version !== version) { findings.push(`${who}: apiVersion ${o.apiVersion} is not served (${crd.group}/${crd.version} is)`); return o; }
  const issues: SchemaIssue[] = [];
  const stored = applyObjectSchema(crd.schema, o, issues);
  for (const i of issues) {
    findings.push(i.kind === "unknown"
      ? `${who}: ${i.path}: ${i.message}: kubectl apply refuses it (--validate=strict, its default), other clients have it dropped by the API server`
      : `${who}: ${i.path}: ${i.message}: the API server refuses this object`);
  }
  return stored;
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

export interface RenderOptions { recursive?: boolean; namespace?: string; base?: Settings; check?: ModuleCheck; stdin?: () => string }

export function renderFiles(paths: string[], opts: RenderOptions = {}): { yaml: string; report: string; translation: Translation; loaded: Loaded } {
  const texts = expandFiles(paths, opts.recursive).map((name) => ({
    name: name === "-" ? "<stdin>" : name,
    text: name === "-" ? (opts.stdin ?? (() => readFileSync(0, "utf8")))() : readFileSync(name, "utf8"),
  }));
  const loaded = loadObjects(texts, opts.base, { namespace: opts.namespace, schemas: true });
  const translation = translate(loaded.observed, loaded.settings, undefined, [], opts.check);
  return { yaml: renderYaml(translation), report: renderReport(translation), translation, loaded };
}

/** Why a render produced no object: the first thing missing on the way from inputs to config. */
export function whyNothing(l: Loaded, t: Translation): string {
  const o = l.observed;
  if (!o.services.length && !o.serviceEntries.length) return "no Service or ServiceEntry among the inputs (the controller configures their tcp-metaprotocol-<protocol> ports)";
  if (!t.events.some((e) => e.reason === "UnknownProtocol") && !t.events.some((e) => e.reason === "InvalidPortName")) {
    return "no Service or ServiceEntry port is named tcp-metaprotocol-<protocol>[-<suffix>]";
  }
  return "no port's protocol has both an ApplicationProtocol and a module (see the UnknownProtocol warnings above)";
}

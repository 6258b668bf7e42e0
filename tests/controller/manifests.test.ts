// manifests/: every YAML parses, kustomizations resolve, CRD schemas are structural, the
// samples validate against those CRDs and Istio's schemas and translate without warnings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { loadObjects } from "../../controller/src/render.js";
import { translate } from "../../controller/src/translate/index.js";
import { PORT_NAME } from "../../controller/src/translate/catalog.js";
import { validateIstioResource } from "../../envoy-dev/validate/index.ts";

const MANIFESTS = new URL("../../manifests/", import.meta.url).pathname;
const files: string[] = [];
(function walk(d: string) { for (const e of readdirSync(d).sort()) { const p = join(d, e); if (statSync(p).isDirectory()) walk(p); else if (/\.ya?ml$/.test(e)) files.push(p); } })(MANIFESTS);
const docs = (f: string) => parseAllDocuments(readFileSync(f, "utf8")).map((d) => {
  assert.deepEqual(d.errors.map((e) => e.message), [], f);
  return d.toJS();
}).filter(Boolean);
const all = files.flatMap((f) => docs(f).map((o) => ({ f, o })));
const crds = all.filter(({ o }) => o.kind === "CustomResourceDefinition").map(({ o }) => o);

test("every manifest parses and every kustomization resource exists", () => {
  assert.ok(files.length >= 8);
  for (const { f, o } of all) {
    if (o.kind === "Kustomization") for (const r of o.resources) assert.ok(existsSync(join(dirname(f), r)), `${f}: ${r}`);
    else assert.ok(o.apiVersion && o.kind && o.metadata?.name, `${f}: apiVersion, kind and metadata.name are required`);
  }
});

/** The apiserver's structural-schema rules: every node typed, arrays have items, no mixing. */
function structuralErrors(s: any, path: string): string[] {
  const out: string[] = [];
  if (!s || typeof s !== "object") return [`${path}: not a schema`];
  const free = s["x-kubernetes-preserve-unknown-fields"] || s["x-kubernetes-int-or-string"];
  if (!s.type && !free) out.push(`${path}: type is required`);
  if (s.type === "array" && !s.items) out.push(`${path}: items is required for arrays`);
  if (s.properties && s.additionalProperties) out.push(`${path}: properties and additionalProperties are exclusive`);
  for (const k of ["oneOf", "anyOf", "allOf", "not"]) if (s[k]) out.push(`${path}: ${k} is not used here (must not carry types)`);
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push(...structuralErrors(v, `${path}.${k}`));
  if (s.items) out.push(...structuralErrors(s.items, `${path}[]`));
  if (typeof s.additionalProperties === "object") out.push(...structuralErrors(s.additionalProperties, `${path}{}`));
  return out;
}

test("CRD schemas are structural, with printer columns and a status subresource for MetaRouter", () => {
  assert.deepEqual(crds.map((c) => c.spec.names.kind).sort(), ["ApplicationProtocol", "MetaRouter"]);
  for (const c of crds) for (const v of c.spec.versions) {
    assert.deepEqual(structuralErrors(v.schema.openAPIV3Schema, c.spec.names.kind), []);
    assert.ok(v.additionalPrinterColumns.length >= 2);
    for (const col of v.additionalPrinterColumns) assert.match(col.jsonPath, /^\./);
  }
  assert.ok(crds.find((c) => c.spec.names.kind === "MetaRouter").spec.versions[0].subresources.status);
  assert.deepEqual(structuralErrors({ type: "object", properties: { a: { items: {} } } }, "x").length, 2, "the checker can fail");
});

/** A small validator for the schema subset the CRDs use. */
function validate(s: any, v: any, path: string): string[] {
  if (v === undefined || s["x-kubernetes-preserve-unknown-fields"]) return [];
  const t = Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v;
  if (s.type && s.type !== t && !(s.type === "number" && t === "integer")) return [`${path}: expected ${s.type}, got ${t}`];
  const out: string[] = [];
  if (s.enum && !s.enum.includes(v)) out.push(`${path}: not one of ${s.enum}`);
  if (s.pattern && !new RegExp(s.pattern).test(v)) out.push(`${path}: does not match ${s.pattern}`);
  if (s.minimum !== undefined && v < s.minimum) out.push(`${path}: below ${s.minimum}`);
  if (s.minItems !== undefined && v.length < s.minItems) out.push(`${path}: fewer than ${s.minItems} items`);
  if (s.maxItems !== undefined && v.length > s.maxItems) out.push(`${path}: more than ${s.maxItems} items`);
  for (const r of s.required ?? []) if (v[r] === undefined) out.push(`${path}.${r}: required`);
  if (t === "array") v.forEach((x: any, i: number) => out.push(...validate(s.items, x, `${path}[${i}]`)));
  if (t === "object") for (const [k, x] of Object.entries(v)) {
    const sub = s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
    if (!sub) out.push(`${path}.${k}: unknown field`);
    else out.push(...validate(sub, x, `${path}.${k}`));
  }
  return out;
}

test("sample MetaRouters and ApplicationProtocols validate against the CRDs; Istio objects against Istio", () => {
  const samples = all.filter(({ f }) => f.includes("/samples/"));
  let checked = 0;
  for (const { f, o } of samples) {
    const crd = crds.find((c) => c.spec.names.kind === o.kind);
    if (crd) { assert.deepEqual(validate(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec, o.spec, `${f} spec`), []); checked++; }
    if (/istio\.io/.test(o.apiVersion)) { assert.deepEqual(validateIstioResource(o), []); checked++; }
  }
  assert.ok(checked >= 6);
  const mr = crds.find((c) => c.spec.names.kind === "MetaRouter").spec.versions[0].schema.openAPIV3Schema.properties.spec;
  assert.ok(validate(mr, { hosts: [], routes: [{ colour: 1 }] }, "spec").length === 2, "the validator can fail");
});

test("samples translate with every condition True and no warnings, using the shipped settings", () => {
  const texts = files.filter((f) => f.includes("/samples/") || f.endsWith("controller/settings.yaml")).map((f) => ({ name: f, text: readFileSync(f, "utf8") }));
  const { observed, settings } = loadObjects(texts);
  const t = translate(observed, settings);
  assert.deepEqual(t.events.filter((e) => e.type === "Warning"), []);
  // Weight splits are per connection: said in a condition and a Normal Event.
  assert.deepEqual(t.events.map((e) => `${e.type} ${e.reason}`), ["Normal WeightsPerConnection", "Normal WeightsPerConnection"]);
  assert.equal(t.statuses.length, 2);
  for (const s of t.statuses) for (const c of s.conditions) assert.equal(c.status, "True", `${s.metaRouter.name} ${c.type}: ${c.message}`);
  assert.deepEqual(t.objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`), [
    "EnvoyFilter istio-system/metaprotocol-dubbo-20880-outbound",
    "EnvoyFilter istio-system/metaprotocol-thrift-9090-outbound",
    "WasmPlugin istio-system/metaprotocol-dubbo-20880-outbound",
    "WasmPlugin istio-system/metaprotocol-thrift-9090-outbound",
    "WasmPlugin meta-dubbo/metaprotocol-dubbo-20880-inbound-dubbo-sample-provider",
    "WasmPlugin meta-thrift/metaprotocol-thrift-9090-inbound-thrift-sample-server",
  ]);
});

test("admission policy and controller agree on port names; RBAC writes only what the controller owns", () => {
  const vap = all.find(({ o }) => o.kind === "ValidatingAdmissionPolicy")!.o;
  const patterns = new Set(JSON.stringify(vap.spec.validations).match(/\^tcp-metaprotocol[^']*\$/g));
  assert.deepEqual([...patterns], [PORT_NAME.source]);
  const writes = new Set<string>();
  for (const { o } of all.filter(({ o }) => o.kind === "ClusterRole" || o.kind === "Role")) {
    for (const r of o.rules) if (r.verbs.some((v: string) => !["get", "list", "watch"].includes(v))) for (const res of r.resources) writes.add(res);
  }
  assert.deepEqual([...writes].sort(), ["envoyfilters", "events", "leases", "metarouters/status", "trafficextensions", "wasmplugins"]);
  const dep = all.find(({ o }) => o.kind === "Deployment")!.o;
  assert.equal(dep.spec.replicas, 2);
});

test("render's copy of the CRD schemas (controller/src/model/crd-schemas.gen.ts) is current: npm run gen:crd-schemas", async () => {
  // @ts-ignore: a plain .mjs script
  const { generated } = await import("../../scripts/gen-crd-schemas.mjs");
  assert.equal(readFileSync(new URL("../../controller/src/model/crd-schemas.gen.ts", import.meta.url), "utf8"), generated(),
    "manifests/crds changed: run npm run gen:crd-schemas and commit the result");
});

test("manifests/aeraki-helm is manifests/ with the ApplicationProtocol CRD Namespaced (Aeraki's Helm scope), nothing else", () => {
  const kust = (d: string) => docs(join(MANIFESTS, d, "kustomization.yaml"))[0];
  assert.deepEqual(kust("").resources, ["crds", "policy", "controller"]);
  assert.deepEqual(kust("aeraki-helm").resources, ["../crds-namespaced", "../policy", "../controller"]);
  const ns = kust("crds-namespaced");
  assert.deepEqual(ns.resources, ["../crds"]);
  assert.deepEqual(ns.patches.map((p: any) => [p.target.name, p.patch.replace(/\s+/g, " ")]),
    [["applicationprotocols.metaprotocol.aeraki.io", "- op: replace path: /spec/scope value: Namespaced"]]);
  assert.equal(crds.find((c) => c.spec.names.kind === "ApplicationProtocol").spec.scope, "Cluster");
});

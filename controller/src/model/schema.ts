// A CRD's structural schema applied the way the API server applies it on create/update:
// unknown fields are pruned (kubectl's default --validate=strict refuses them instead), null on a
// field that is not nullable is dropped, then the value is validated (types, formats of the
// kinds CRDs use, enum, pattern, bounds, required, oneOf/anyOf/allOf/not, list-type set/map).
// CEL rules (x-kubernetes-validations) are not evaluated here: the real API server runs them
// (tests/mesh) and the controller repeats what they check in its own conditions.

export interface SchemaIssue {
  /** "unknown": the field is dropped by pruning; "invalid": the API server refuses the object. */
  kind: "unknown" | "invalid";
  path: string;
  message: string;
}

export type Schema = Record<string, any>;

const join = (path: string, k: string) => (path ? `${path}.${k}` : k);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/**
 * Prunes `value` in place (returns it, or undefined when the root itself is dropped) and lists
 * what the API server would say about it. `path` names the root, e.g. "spec".
 */
export function applySchema(schema: Schema, value: unknown, path: string, issues: SchemaIssue[]): unknown {
  const pruned = prune(schema, value, path, issues);
  validate(schema, pruned, path, issues);
  return pruned;
}

function preserves(s: Schema): boolean {
  return !!s["x-kubernetes-preserve-unknown-fields"] || !!s["x-kubernetes-embedded-resource"];
}

function prune(s: Schema | undefined, v: any, path: string, issues: SchemaIssue[]): any {
  if (!s) return v;
  if (v === null) return v; // dropped by the parent when not nullable
  if (Array.isArray(v)) return s.items ? v.map((x, i) => prune(s.items, x, `${path}[${i}]`, issues)) : v;
  if (typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const sub = s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
    const free = s.additionalProperties === true || preserves(s) || s["x-kubernetes-int-or-string"];
    const p = join(path, k);
    if (!sub) {
      if (free) out[k] = x; // kept whole: there is no schema below to prune by
      else issues.push({ kind: "unknown", path: p, message: `unknown field "${k}"` });
      continue;
    }
    if (x === null && !sub.nullable) {
      issues.push({ kind: "unknown", path: p, message: "null: dropped (the field is not nullable)" });
      continue;
    }
    out[k] = prune(sub, x, p, issues);
  }
  return out;
}

const FORMATS: Record<string, RegExp> = {
  "date-time": /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  int32: /^/, int64: /^/, // integer bounds are not checked by the API server for these
};

function validate(s: Schema | undefined, v: any, path: string, issues: SchemaIssue[]): void {
  if (!s || v === undefined) return;
  const bad = (message: string) => issues.push({ kind: "invalid", path: path || "<root>", message });
  const t = typeOf(v);
  if (v === null) { if (!s.nullable) bad("must not be null"); return; }
  if (s["x-kubernetes-int-or-string"]) {
    if (t !== "integer" && t !== "string") bad(`must be an integer or a string, got ${t}`);
  } else if (s.type && s.type !== t && !(s.type === "number" && t === "integer")) {
    bad(`must be of type ${s.type}, got ${t}`);
    return;
  }
  if (s.enum && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) bad(`must be one of ${s.enum.map((e: unknown) => JSON.stringify(e)).join(", ")}`);
  if (t === "string") {
    if (s.maxLength !== undefined && [...v].length > s.maxLength) bad(`may not be longer than ${s.maxLength}`);
    if (s.minLength !== undefined && [...v].length < s.minLength) bad(`must be at least ${s.minLength} characters`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, "u").test(v)) bad(`must match ${JSON.stringify(s.pattern)}`);
    const f = FORMATS[s.format];
    if (f && !f.test(v)) bad(`must be a ${s.format}`);
  }
  if (t === "integer" || t === "number") {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) bad(`must be ${s.exclusiveMinimum ? "greater than" : "at least"} ${s.minimum}`);
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) bad(`must be ${s.exclusiveMaximum ? "less than" : "at most"} ${s.maximum}`);
    if (s.multipleOf !== undefined && v % s.multipleOf !== 0) bad(`must be a multiple of ${s.multipleOf}`);
  }
  if (t === "array") {
    if (s.minItems !== undefined && v.length < s.minItems) bad(`must have at least ${s.minItems} items`);
    if (s.maxItems !== undefined && v.length > s.maxItems) bad(`must have at most ${s.maxItems} items`);
    const listType = s["x-kubernetes-list-type"];
    if (listType === "set" || listType === "map") {
      const keys = listType === "set" ? v.map((x: unknown) => JSON.stringify(x))
        : v.map((x: any) => JSON.stringify((s["x-kubernetes-list-map-keys"] ?? []).map((k: string) => x?.[k])));
      const dup = keys.findIndex((k: string, i: number) => keys.indexOf(k) !== i);
      if (dup >= 0) bad(`duplicate entry at [${dup}] (x-kubernetes-list-type: ${listType})`);
    }
    v.forEach((x: unknown, i: number) => validate(s.items, x, `${path}[${i}]`, issues));
  }
  if (t === "object") {
    const n = Object.keys(v).length;
    if (s.minProperties !== undefined && n < s.minProperties) bad(`must have at least ${s.minProperties} fields`);
    if (s.maxProperties !== undefined && n > s.maxProperties) bad(`must have at most ${s.maxProperties} fields`);
    for (const r of s.required ?? []) if (v[r] === undefined) issues.push({ kind: "invalid", path: join(path, r), message: "required" });
    for (const [k, x] of Object.entries(v)) {
      const sub = s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
      validate(sub, x, join(path, k), issues);
    }
  }
  // Value validations: the structural part above carries the types; these only say yes or no.
  const ok = (sub: Schema) => { const e: SchemaIssue[] = []; validate({ ...sub }, v, path, e); return e.length === 0; };
  if (s.allOf) for (const sub of s.allOf) if (!ok(sub)) bad("does not satisfy allOf");
  if (s.anyOf && !s.anyOf.some(ok)) bad("must satisfy at least one of anyOf");
  if (s.oneOf) {
    const n = s.oneOf.filter(ok).length;
    if (n !== 1) bad(n === 0 ? "must satisfy exactly one of oneOf (none does)" : "must satisfy exactly one of oneOf (several do: fields that exclude each other are set together)");
  }
  if (s.not && ok(s.not)) bad("must not satisfy the schema under not");
}

/** The root fields every object has besides what its CRD's schema lists. */
const OBJECT_FIELDS = new Set(["apiVersion", "kind", "metadata"]);

/** A whole custom object against its CRD version's openAPIV3Schema: spec and status, and nothing else. */
export function applyObjectSchema(root: Schema, obj: Record<string, any>, issues: SchemaIssue[]): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (OBJECT_FIELDS.has(k)) out[k] = v;
    else if (root.properties?.[k]) { const x = applySchema(root.properties[k], v, k, issues); if (x !== null) out[k] = x; }
    else if (!preserves(root)) issues.push({ kind: "unknown", path: k, message: `unknown field "${k}"` });
    else out[k] = v;
  }
  for (const r of root.required ?? []) if (out[r] === undefined) issues.push({ kind: "invalid", path: r, message: "required" });
  return out;
}

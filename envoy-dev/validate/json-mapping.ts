// Checks a YAML/JSON value against a protobuf message type the way Envoy's config loader reads
// it (YAML -> JSON -> protobuf JSON parser with unknown fields refused): field names in
// lowerCamel or original form, enums by name or number, well-known types in their JSON form,
// Any resolved by type URL and checked recursively. Every error starts with the path.
import protobuf from "protobufjs";
import { checkFieldRules, checkOneofRules, type Present } from "./pgv-rules.ts";
import { checkRuntimeRules } from "./runtime-rules.ts";

export type Lookup = (fullName: string) => protobuf.Type | undefined;

interface Ctx { errors: string[]; lookup: Lookup; depth: number; partial: boolean }

const WRAPPERS: Record<string, string> = {
  ".google.protobuf.DoubleValue": "double", ".google.protobuf.FloatValue": "float",
  ".google.protobuf.Int64Value": "int64", ".google.protobuf.UInt64Value": "uint64",
  ".google.protobuf.Int32Value": "int32", ".google.protobuf.UInt32Value": "uint32",
  ".google.protobuf.BoolValue": "bool", ".google.protobuf.StringValue": "string",
  ".google.protobuf.BytesValue": "bytes",
};
// Types whose JSON form is not an object of fields; inside an Any they sit under "value".
const SPECIAL_JSON = new Set([
  ...Object.keys(WRAPPERS), ".google.protobuf.Duration", ".google.protobuf.Timestamp",
  ".google.protobuf.FieldMask", ".google.protobuf.Struct", ".google.protobuf.Value",
  ".google.protobuf.ListValue", ".google.protobuf.Any",
]);
const TYPED_STRUCTS = new Set([".udpa.type.v1.TypedStruct", ".xds.type.v3.TypedStruct"]);
const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n], sint32: [-(2n ** 31n), 2n ** 31n - 1n], sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n], fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n], sint64: [-(2n ** 63n), 2n ** 63n - 1n], sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n], fixed64: [0n, 2n ** 64n - 1n],
};
// protobuf JSON: seconds with up to 9 fractional digits, within +-315576000000s.
const DURATION_RE = /^-?\d+(\.\d{1,9})?s$/;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function childPath(path: string, key: string): string {
  const k = /^[A-Za-z_@][\w@]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${k}` : k;
}
const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? "a list" : v === null ? "null" : typeof v === "object" ? "an object" : String(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function err(ctx: Ctx, path: string, msg: string): void {
  ctx.errors.push(`${path || "<root>"}: ${msg}`);
}

/**
 * Validates `value` as message `type`; returns the errors. `partial` (for MERGE patches) skips
 * the presence rules: absent required fields are fine, present values are still checked.
 */
export function validateMessageValue(type: protobuf.Type, value: unknown, lookup: Lookup, partial = false): string[] {
  const ctx: Ctx = { errors: [], lookup, depth: 0, partial };
  const path = "";
  checkMessage(ctx, type, value, path);
  return ctx.errors;
}

function fieldIndex(type: protobuf.Type): Map<string, protobuf.Field> {
  const idx = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    idx.set(f.name, f);
    idx.set(f.jsonName ?? f.name, f);
  }
  return idx;
}
const indexCache = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function checkMessage(ctx: Ctx, type: protobuf.Type, value: unknown, path: string): void {
  if (++ctx.depth > 100) return err(ctx, path, "nesting too deep");
  try {
    if (SPECIAL_JSON.has(type.fullName)) return checkSpecial(ctx, type, value, path);
    if (!isObject(value)) return err(ctx, path, `expected an object for ${type.fullName.slice(1)}, got ${show(value)}`);
    let idx = indexCache.get(type);
    if (!idx) indexCache.set(type, (idx = fieldIndex(type)));
    const present: Present = new Map();
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue; // JS callers: an undefined property is absent, as in JSON
      const p = childPath(path, key);
      const field = idx.get(key);
      if (!field) { err(ctx, p, `unknown field "${key}" in ${type.fullName.slice(1)}`); continue; }
      if (present.has(field)) { err(ctx, p, `field "${field.name}" given twice (as "${present.get(field)!.key}" and "${key}")`); continue; }
      if (v === null && field.resolvedType?.fullName !== ".google.protobuf.Value") continue; // null = unset
      present.set(field, { key, value: v, path: p });
      checkField(ctx, field, v, p);
    }
    for (const oneof of type.oneofsArray) {
      const set = oneof.fieldsArray.filter((f) => present.has(f));
      if (set.length > 1) err(ctx, path, `oneof "${oneof.name}" allows one of ${oneof.fieldsArray.map((f) => f.name).join(", ")}; got ${set.map((f) => present.get(f)!.key).join(" and ")}`);
      if (!ctx.partial) checkOneofRules(oneof, set.length, path, (p, m) => err(ctx, p, m));
    }
    for (const field of type.fieldsArray) {
      const got = present.get(field);
      if (got || !ctx.partial) checkFieldRules(field, got, path, (p, m) => err(ctx, p, m));
    }
    checkRuntimeRules(type.fullName.slice(1), value, path, (p, m) => err(ctx, p, m));
  } finally {
    ctx.depth--;
  }
}

function checkField(ctx: Ctx, field: protobuf.Field, v: unknown, path: string): void {
  if (field instanceof protobuf.MapField) {
    if (!isObject(v)) return err(ctx, path, `expected a map (object) for "${field.name}", got ${show(v)}`);
    for (const [k, item] of Object.entries(v)) {
      const p = `${path}[${JSON.stringify(k)}]`;
      checkMapKey(ctx, field.keyType, k, p);
      checkSingle(ctx, field, item, p);
    }
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(v)) return err(ctx, path, `expected a list for repeated field "${field.name}", got ${show(v)}`);
    v.forEach((item, i) => checkSingle(ctx, field, item, `${path}[${i}]`));
    return;
  }
  checkSingle(ctx, field, v, path);
}

function checkMapKey(ctx: Ctx, keyType: string, key: string, path: string): void {
  if (keyType === "string") return;
  if (keyType === "bool") { if (key !== "true" && key !== "false") err(ctx, path, `map key must be true or false`); return; }
  checkScalar(ctx, keyType, key, path);
}

function checkSingle(ctx: Ctx, field: protobuf.Field, v: unknown, path: string): void {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    if (v === null && rt.fullName !== ".google.protobuf.Value") return err(ctx, path, "null is not allowed here");
    return checkMessage(ctx, rt, v, path);
  }
  if (rt instanceof protobuf.Enum) return checkEnum(ctx, rt, v, path);
  checkScalar(ctx, field.type, v, path);
}

function checkEnum(ctx: Ctx, e: protobuf.Enum, v: unknown, path: string): void {
  if (v === null && e.fullName === ".google.protobuf.NullValue") return;
  const name = e.fullName.slice(1);
  if (typeof v === "string") {
    if (!(v in e.values)) err(ctx, path, `unknown value ${JSON.stringify(v)} for enum ${name} (one of ${Object.keys(e.values).join(", ")})`);
  } else if (typeof v === "number" && Number.isInteger(v)) {
    if (!(v in e.valuesById)) err(ctx, path, `unknown number ${v} for enum ${name}`);
  } else err(ctx, path, `expected an enum name of ${name}, got ${show(v)}`);
}

/** Checks a scalar of protobuf type `kind` in its JSON form; numbers may come as strings. */
export function checkScalar(ctx: { errors: string[] }, kind: string, v: unknown, path: string): void {
  const bad = (m: string): void => { ctx.errors.push(`${path || "<root>"}: ${m}`); };
  if (kind in INT_RANGES) {
    let n: bigint | undefined;
    if (typeof v === "number" && Number.isInteger(v)) n = BigInt(v);
    else if (typeof v === "string" && /^-?\d+$/.test(v)) n = BigInt(v);
    if (n === undefined) return bad(`expected an integer (${kind}), got ${show(v)}`);
    const [lo, hi] = INT_RANGES[kind];
    if (n < lo || n > hi) bad(`${v} is out of range for ${kind}`);
    return;
  }
  switch (kind) {
    case "double":
    case "float": {
      const ok = (typeof v === "number" && Number.isFinite(v)) ||
        (typeof v === "string" && (/^(NaN|-?Infinity)$/.test(v) || (v.trim() !== "" && Number.isFinite(Number(v)))));
      if (!ok) return bad(`expected a number (${kind}), got ${show(v)}`);
      if (kind === "float" && typeof v === "number" && Math.abs(v) > 3.4028234663852886e38) bad(`${v} is out of range for float`);
      return;
    }
    case "bool": if (typeof v !== "boolean") bad(`expected true or false, got ${show(v)}`); return;
    case "string": if (typeof v !== "string") bad(`expected a string, got ${show(v)} (quote it in YAML)`); return;
    case "bytes": if (typeof v !== "string" || !BASE64_RE.test(v)) bad(`expected base64 bytes, got ${show(v)}`); return;
    default: bad(`unsupported scalar type ${kind}`);
  }
}

function checkSpecial(ctx: Ctx, type: protobuf.Type, v: unknown, path: string): void {
  const name = type.fullName;
  if (name in WRAPPERS) return checkScalar(ctx, WRAPPERS[name], v, path);
  switch (name) {
    case ".google.protobuf.Duration":
      if (typeof v !== "string" || !DURATION_RE.test(v)) return err(ctx, path, `expected a duration such as "1s" or "0.25s", got ${show(v)}`);
      if (Math.abs(parseFloat(v)) > 315576000000) err(ctx, path, `duration ${v} is out of range`);
      return;
    case ".google.protobuf.Timestamp":
      if (typeof v !== "string" || !TIMESTAMP_RE.test(v)) err(ctx, path, `expected an RFC 3339 timestamp, got ${show(v)}`);
      return;
    case ".google.protobuf.FieldMask":
      if (typeof v !== "string") err(ctx, path, `expected a field mask string, got ${show(v)}`);
      return;
    case ".google.protobuf.Struct":
      if (!isObject(v)) err(ctx, path, `expected an object (Struct), got ${show(v)}`);
      return;
    case ".google.protobuf.ListValue":
      if (!Array.isArray(v)) err(ctx, path, `expected a list (ListValue), got ${show(v)}`);
      return;
    case ".google.protobuf.Value":
      return; // any JSON value
    case ".google.protobuf.Any":
      return checkAny(ctx, v, path);
  }
}

function checkAny(ctx: Ctx, v: unknown, path: string): void {
  if (!isObject(v)) return err(ctx, path, `expected an object with "@type", got ${show(v)}`);
  const typePath = childPath(path, "@type");
  const url = v["@type"];
  if (url === undefined) {
    if (Object.keys(v).length) err(ctx, typePath, `missing "@type" (the type URL of this Any)`);
    return;
  }
  if (typeof url !== "string") return err(ctx, typePath, `expected a type URL string, got ${show(url)}`);
  const type = resolveTypeUrl(ctx, url, typePath);
  if (!type) return;
  const { "@type": _, ...rest } = v;
  if (SPECIAL_JSON.has(type.fullName)) {
    for (const k of Object.keys(rest)) if (k !== "value") err(ctx, childPath(path, k), `unknown field "${k}": an Any of ${type.fullName.slice(1)} holds its payload under "value"`);
    if ("value" in rest) checkSpecial(ctx, type, rest.value, childPath(path, "value"));
    return;
  }
  checkMessage(ctx, type, rest, path);
  // Envoy unpacks TypedStruct into the message its type_url names: check that payload too.
  if (TYPED_STRUCTS.has(type.fullName) && typeof rest.type_url === "string") {
    const inner = resolveTypeUrl(ctx, rest.type_url, childPath(path, "type_url"));
    if (inner) checkMessage(ctx, inner, rest.value ?? {}, childPath(path, "value"));
  }
}

function resolveTypeUrl(ctx: Ctx, url: string, path: string): protobuf.Type | undefined {
  const slash = url.lastIndexOf("/");
  const name = url.slice(slash + 1);
  const type = slash > 0 && name ? ctx.lookup(name) : undefined;
  if (!type) err(ctx, path, `unresolvable type URL ${JSON.stringify(url)} (no such message in Envoy's API)`);
  return type;
}

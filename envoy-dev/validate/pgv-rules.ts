// The protoc-gen-validate rules written in Envoy's protos ([(validate.rules) ...]); Envoy checks
// them on every config it loads, so a config that breaks one fails to load. This is the subset
// Envoy's bootstrap, listener, cluster, tcp_proxy and wasm messages use: presence (required
// message/Any/Duration, required oneof), string length and membership, numeric bounds (also on
// wrapper fields), enum in/not_in, repeated and map sizes. Not checked: regex rules (pattern,
// well_known_regex; RE2 and JavaScript regexes differ) and duration bounds.
import protobuf from "protobufjs";

export type Present = Map<protobuf.Field, { key: string; value: unknown; path: string }>;
type Report = (path: string, msg: string) => void;
type Rules = Map<string, unknown>;

const PREFIX = "(validate.rules).";
const rulesCache = new WeakMap<protobuf.Field, Rules>();

function rulesOf(field: protobuf.Field): Rules {
  let r = rulesCache.get(field);
  if (!r) {
    r = new Map();
    for (const [k, v] of Object.entries(field.options ?? {})) if (k.startsWith(PREFIX)) r.set(k.slice(PREFIX.length), v);
    rulesCache.set(field, r);
  }
  return r;
}

function sub(rules: Rules, prefix: string): Rules {
  const out: Rules = new Map();
  for (const [k, v] of rules) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

export function checkOneofRules(oneof: protobuf.OneOf, setCount: number, path: string, report: Report): void {
  if (oneof.options?.["(validate.required)"] === true && setCount === 0) {
    report(path, `one of ${oneof.fieldsArray.map((f) => f.name).join(", ")} is required (oneof "${oneof.name}")`);
  }
}

/** Applies the field's rules; scalars that are absent are checked at their default, as PGV does. */
export function checkFieldRules(field: protobuf.Field, got: { value: unknown; path: string } | undefined, parentPath: string, report: Report): void {
  const rules = rulesOf(field);
  if (!rules.size) return;
  const path = got?.path ?? (parentPath ? `${parentPath}.${field.name}` : field.name);
  const rt = field.resolvedType;
  const isMessage = rt instanceof protobuf.Type;
  if (!got) {
    if (rules.get("message.required") || rules.get("any.required") || rules.get("duration.required") || rules.get("timestamp.required")) {
      report(path, `"${field.name}" is required`);
    }
    if (field.repeated || field instanceof protobuf.MapField) checkCollection(rules, 0, path, report);
    // Oneof members, proto3 optional and message fields have presence: absent means unchecked.
    else if (!isMessage && !field.partOf) checkValue(rules, defaultOf(field), path, report);
    return;
  }
  const v = got.value;
  if (field instanceof protobuf.MapField) {
    if (typeof v === "object" && v) checkCollection(rules, Object.keys(v).length, path, report);
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(v)) return;
    checkCollection(rules, v.length, path, report);
    const items = sub(rules, "repeated.items.");
    if (rules.get("repeated.unique") && new Set(v.map((x) => JSON.stringify(x))).size !== v.length) report(path, "items must be unique");
    if (items.size) v.forEach((x, i) => checkValue(items, x, `${path}[${i}]`, report));
    return;
  }
  checkValue(rules, v, path, report);
}

function defaultOf(field: protobuf.Field): unknown {
  if (field.resolvedType instanceof protobuf.Enum) return 0;
  if (field.type === "string") return "";
  if (field.type === "bool") return false;
  if (field.type === "bytes") return "";
  return 0;
}

function checkCollection(rules: Rules, n: number, path: string, report: Report): void {
  const min = (rules.get("repeated.min_items") ?? rules.get("map.min_pairs")) as number | undefined;
  const max = (rules.get("repeated.max_items") ?? rules.get("map.max_pairs")) as number | undefined;
  if (min !== undefined && n < min) report(path, `needs at least ${min} item(s), got ${n}`);
  if (max !== undefined && n > max) report(path, `allows at most ${max} item(s), got ${n}`);
}

const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : [x]);

/** One value against the rule groups that apply to it (string.*, uint32.*, enum.*, ...). */
function checkValue(rules: Rules, v: unknown, path: string, report: Report): void {
  for (const [key, limit] of rules) {
    const [group, rule] = key.split(".", 2);
    if (rule === undefined) continue;
    if (group === "string" && typeof v === "string") checkString(rules, rule, limit, v, path, report);
    else if (group === "bytes" && typeof v === "string") {
      const len = Buffer.from(v, "base64").length;
      if (rule === "min_len" && len < (limit as number)) report(path, `must be at least ${limit} bytes`);
      if (rule === "max_len" && len > (limit as number)) report(path, `must be at most ${limit} bytes`);
    } else if (["uint32", "int32", "uint64", "int64", "double", "float", "fixed32", "fixed64", "sint32", "sint64"].includes(group)) {
      const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
      if (!Number.isNaN(n)) checkNumber(rule, limit, n, path, report);
    } else if (group === "enum" && (rule === "in" || rule === "not_in")) {
      const vals = list(limit);
      if ((rule === "in") !== vals.includes(v)) report(path, `${JSON.stringify(v)} is ${rule === "in" ? "not one of" : "one of the refused"} ${vals.join(", ")}`);
    } else if (group === "bool" && rule === "const" && v !== limit) report(path, `must be ${limit}`);
    else if (group === "any" && (rule === "in" || rule === "not_in") && typeof v === "object" && v) {
      const url = (v as Record<string, unknown>)["@type"];
      if ((rule === "in") !== list(limit).includes(url)) report(path, `type ${JSON.stringify(url)} is not allowed here`);
    }
  }
}

function checkString(rules: Rules, rule: string, limit: unknown, v: string, path: string, report: Report): void {
  if (rules.get("string.ignore_empty") && v === "") return;
  const chars = [...v].length, bytes = Buffer.byteLength(v);
  const n = limit as number;
  switch (rule) {
    case "min_len": if (chars < n) report(path, n === 1 ? "must not be empty" : `must be at least ${n} characters`); break;
    case "max_len": if (chars > n) report(path, `must be at most ${n} characters`); break;
    case "len": if (chars !== n) report(path, `must be exactly ${n} characters`); break;
    case "min_bytes": if (bytes < n) report(path, `must be at least ${n} bytes`); break;
    case "max_bytes": if (bytes > n) report(path, `must be at most ${n} bytes`); break;
    case "prefix": if (!v.startsWith(String(limit))) report(path, `must start with ${JSON.stringify(limit)}`); break;
    case "suffix": if (!v.endsWith(String(limit))) report(path, `must end with ${JSON.stringify(limit)}`); break;
    case "contains": if (!v.includes(String(limit))) report(path, `must contain ${JSON.stringify(limit)}`); break;
    case "in": if (!list(limit).includes(v)) report(path, `${JSON.stringify(v)} is not one of ${list(limit).join(", ")}`); break;
    case "not_in": if (list(limit).includes(v)) report(path, `${JSON.stringify(v)} is not allowed`); break;
  }
}

function checkNumber(rule: string, limit: unknown, n: number, path: string, report: Report): void {
  const l = Number(limit);
  switch (rule) {
    case "gt": if (!(n > l)) report(path, `must be greater than ${l}, got ${n}`); break;
    case "gte": if (!(n >= l)) report(path, `must be at least ${l}, got ${n}`); break;
    case "lt": if (!(n < l)) report(path, `must be less than ${l}, got ${n}`); break;
    case "lte": if (!(n <= l)) report(path, `must be at most ${l}, got ${n}`); break;
    case "const": if (n !== l) report(path, `must be ${l}, got ${n}`); break;
    case "in": if (!list(limit).map(Number).includes(n)) report(path, `${n} is not one of ${list(limit).join(", ")}`); break;
    case "not_in": if (list(limit).map(Number).includes(n)) report(path, `${n} is not allowed`); break;
  }
}

// Typed, path-aware reading of JSON objects for the plugin config. The first error wins and
// names its field path (e.g. `services[0].routes[1].name`); later reads become no-ops so the
// callers can stay linear without exceptions.
import { JsonValue, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_BOOL, jsonKindName } from "../json";
import { parseDuration } from "./duration";

export class Errors {
  message: string = "";
  get failed(): bool { return this.message.length > 0; }
  fail(path: string, msg: string): void {
    if (this.message.length == 0) this.message = (path.length > 0 ? path : "(root)") + ": " + msg;
  }
}

/** `parent.key`, or `parent["odd key"]` when the key is not a plain name. */
export function childPath(parent: string, key: string): string {
  if (isPlainKey(key)) return parent.length == 0 ? key : parent + "." + key;
  return parent + "[" + quote(key) + "]";
}

export function itemPath(parent: string, i: i32): string {
  return parent + "[" + i.toString() + "]";
}

function isPlainKey(k: string): bool {
  if (k.length == 0) return false;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c == 0x2d;
    if (!ok) return false;
  }
  return true;
}

/** A JSON string literal for messages (quotes and backslashes escaped, controls as \u). */
export function quote(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) out += "\\" + String.fromCharCode(c);
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

/** v must be an object whose keys are all in `allowed`. */
export function checkObject(e: Errors, v: JsonValue, path: string, allowed: string[]): bool {
  if (e.failed) return false;
  if (v.kind != JSON_OBJECT) { e.fail(path, "must be an object, got " + jsonKindName(v.kind)); return false; }
  for (let i = 0; i < v.length; i++) {
    const k = v.keyAt(i);
    if (!allowed.includes(k)) {
      e.fail(childPath(path, k), "unknown field (known here: " + allowed.join(", ") + ")");
      return false;
    }
  }
  return true;
}

export function readString(e: Errors, obj: JsonValue, key: string, path: string, required: bool, nonEmpty: bool, def: string): string {
  if (e.failed) return def;
  const v = obj.get(key);
  const p = childPath(path, key);
  if (v == null) { if (required) e.fail(p, "required"); return def; }
  if (v.kind != JSON_STRING) { e.fail(p, "must be a string, got " + jsonKindName(v.kind)); return def; }
  if (nonEmpty && v.stringValue.length == 0) { e.fail(p, "must not be empty"); return def; }
  return v.stringValue;
}

/** An integer in [min, max]; `def` when absent and not required. */
export function readInt(e: Errors, obj: JsonValue, key: string, path: string, required: bool, min: i64, max: i64, def: i64): i64 {
  if (e.failed) return def;
  const v = obj.get(key);
  const p = childPath(path, key);
  if (v == null) { if (required) e.fail(p, "required"); return def; }
  const want = "must be an integer between " + min.toString() + " and " + max.toString();
  if (v.kind != JSON_NUMBER) { e.fail(p, want + ", got " + jsonKindName(v.kind)); return def; }
  const n = v.numberValue;
  if (!v.isInteger || n != Math.floor(n)) { e.fail(p, want + ", got a fraction or exponent"); return def; }
  if (n < <f64>min || n > <f64>max) { e.fail(p, want + ", got " + formatNumber(n)); return def; }
  return <i64>n;
}

/**
 * A duration field ("500ms", "1.5s", "2m", ...) in milliseconds; `def` when absent and not
 * required. `example` is shown when the value is not a string; above `maxMs` the error is
 * `tooLong` and the value.
 */
export function readDuration(e: Errors, obj: JsonValue, key: string, path: string, required: bool, example: string, def: i64, maxMs: i64, tooLong: string): i64 {
  if (e.failed) return def;
  const v = obj.get(key);
  const p = childPath(path, key);
  if (v == null) { if (required) e.fail(p, "required"); return def; }
  if (v.kind != JSON_STRING) { e.fail(p, "must be a duration string such as " + quote(example) + ", got " + jsonKindName(v.kind)); return def; }
  const d = parseDuration(v.stringValue);
  if (d.error.length > 0) { e.fail(p, d.error); return def; }
  if (d.ms > maxMs) { e.fail(p, tooLong + ", got " + quote(v.stringValue)); return def; }
  return d.ms;
}

export function readBool(e: Errors, obj: JsonValue, key: string, path: string, def: bool): bool {
  if (e.failed) return def;
  const v = obj.get(key);
  if (v == null) return def;
  if (v.kind != JSON_BOOL) { e.fail(childPath(path, key), "must be true or false, got " + jsonKindName(v.kind)); return def; }
  return v.boolValue;
}

/** A list field of at most `max` items: the array, or null when absent (or on error, with e set). */
export function readList(e: Errors, obj: JsonValue, key: string, path: string, max: i32): JsonValue | null {
  if (e.failed) return null;
  const v = obj.get(key);
  if (v == null) return null;
  if (v.kind != JSON_ARRAY) { e.fail(childPath(path, key), "must be a list, got " + jsonKindName(v.kind)); return null; }
  if (v.length > max) { e.fail(childPath(path, key), "at most " + max.toString() + " entries, got " + v.length.toString()); return null; }
  return v;
}

/** An object field: the object, or null when absent (or on error, with e set). */
export function readObject(e: Errors, obj: JsonValue, key: string, path: string, required: bool, allowed: string[]): JsonValue | null {
  if (e.failed) return null;
  const v = obj.get(key);
  const p = childPath(path, key);
  if (v == null) { if (required) e.fail(p, "required"); return null; }
  if (!checkObject(e, v, p, allowed)) return null;
  return v;
}

// Only integers reach here (fractions are reported before); f64#toString is avoided because
// its dtoa tables would grow every module for a message nobody needs digit-exact.
function formatNumber(n: f64): string {
  if (Math.abs(n) < 1e15) return (<i64>n).toString();
  return n < 0 ? "a number below -1e15" : "a number above 1e15";
}

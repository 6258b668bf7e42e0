// Strict JSON (RFC 8259) into a small DOM, for the plugin configuration. Never traps: every
// error comes back as a message with the offset (in UTF-16 code units) where it was found.
// Objects keep key order; duplicate keys are refused (a config must not be ambiguous).

export const JSON_NULL: i32 = 0;
export const JSON_BOOL: i32 = 1;
export const JSON_NUMBER: i32 = 2;
export const JSON_STRING: i32 = 3;
export const JSON_ARRAY: i32 = 4;
export const JSON_OBJECT: i32 = 5;

/** Nesting limit for arrays and objects: bounds recursion on hostile input. */
export const JSON_MAX_DEPTH: i32 = 64;

export class JsonValue {
  kind: i32;
  boolValue: bool = false;
  numberValue: f64 = 0;
  /** The number was written without fraction or exponent (e.g. 42, -7; not 42.0 or 4e1). */
  isInteger: bool = false;
  stringValue: string = "";
  /** Array items, or object values (parallel to `keys`). */
  items: JsonValue[] | null = null;
  keys: string[] | null = null;

  constructor(kind: i32) { this.kind = kind; }

  /** Number of array items or object members (0 for scalars). */
  get length(): i32 {
    const items = this.items;
    return items == null ? 0 : items.length;
  }
  /** Array item or object value i (unchecked by design: callers loop to `length`). */
  at(i: i32): JsonValue { return this.items![i]; }
  keyAt(i: i32): string { return this.keys![i]; }

  /** Object member by key, or null (also for non-objects). */
  get(key: string): JsonValue | null {
    const keys = this.keys;
    if (keys == null) return null;
    for (let i = 0; i < keys.length; i++) if (unchecked(keys[i]) == key) return this.items![i];
    return null;
  }

  get isNull(): bool { return this.kind == JSON_NULL; }
  get isObject(): bool { return this.kind == JSON_OBJECT; }
  get isArray(): bool { return this.kind == JSON_ARRAY; }
  get isString(): bool { return this.kind == JSON_STRING; }
  get isNumber(): bool { return this.kind == JSON_NUMBER; }
  get isBool(): bool { return this.kind == JSON_BOOL; }
}

export function jsonKindName(kind: i32): string {
  switch (kind) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "a boolean";
    case JSON_NUMBER: return "a number";
    case JSON_STRING: return "a string";
    case JSON_ARRAY: return "a list";
    default: return "an object";
  }
}

export class JsonResult {
  value: JsonValue | null = null;
  /** "" on success, else e.g. "expected ',' or '}' at offset 17". */
  error: string = "";
  offset: i32 = -1;
}

export function parseJson(text: string): JsonResult {
  const p = new JsonParser(text);
  const res = new JsonResult();
  p.skipWs();
  const v = p.value(0);
  if (v != null) {
    p.skipWs();
    if (p.pos < text.length) p.fail("unexpected character after the JSON value", p.pos);
  }
  if (p.error.length > 0) {
    res.error = p.error + " at offset " + p.errorAt.toString();
    res.offset = p.errorAt;
    return res;
  }
  res.value = v;
  return res;
}

class JsonParser {
  src: string;
  pos: i32 = 0;
  error: string = "";
  errorAt: i32 = -1;
  /** Reused buffer for strings with escapes. */
  private units: i32[] = [];

  constructor(src: string) { this.src = src; }

  fail(msg: string, at: i32): JsonValue | null {
    if (this.error.length == 0) { this.error = msg; this.errorAt = at; }
    return null;
  }

  @inline private peek(): i32 {
    return this.pos < this.src.length ? <i32>this.src.charCodeAt(this.pos) : -1;
  }

  skipWs(): void {
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
      this.pos++;
    }
  }

  value(depth: i32): JsonValue | null {
    const c = this.peek();
    if (c == 0x7b) return this.object(depth + 1);
    if (c == 0x5b) return this.array(depth + 1);
    if (c == 0x22) {
      const s = this.string();
      if (s == null) return null;
      const v = new JsonValue(JSON_STRING);
      v.stringValue = s;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.word("true")) { const v = new JsonValue(JSON_BOOL); v.boolValue = true; return v; }
    if (this.word("false")) return new JsonValue(JSON_BOOL);
    if (this.word("null")) return new JsonValue(JSON_NULL);
    if (c < 0) return this.fail("unexpected end of input", this.pos);
    return this.fail("unexpected character " + describeChar(c), this.pos);
  }

  private word(w: string): bool {
    if (this.pos + w.length > this.src.length) return false;
    for (let i = 0; i < w.length; i++) if (this.src.charCodeAt(this.pos + i) != w.charCodeAt(i)) return false;
    this.pos += w.length;
    return true;
  }

  private object(depth: i32): JsonValue | null {
    if (depth > JSON_MAX_DEPTH) return this.fail("nesting deeper than " + JSON_MAX_DEPTH.toString(), this.pos);
    this.pos++; // '{'
    const v = new JsonValue(JSON_OBJECT);
    const keys: string[] = [];
    const values: JsonValue[] = [];
    v.keys = keys;
    v.items = values;
    let seen: Set<string> | null = null; // duplicate check: linear while small, hashed when large
    this.skipWs();
    if (this.peek() == 0x7d) { this.pos++; return v; }
    while (true) {
      this.skipWs();
      const keyAt = this.pos;
      if (this.peek() != 0x22) return this.fail(this.peek() < 0 ? "unexpected end of input" : "expected a string key", this.pos);
      const key = this.string();
      if (key == null) return null;
      if (keys.length < 16) {
        if (keys.includes(key)) return this.fail("duplicate key \"" + key + "\"", keyAt);
      } else {
        if (seen == null) { seen = new Set<string>(); for (let i = 0; i < keys.length; i++) seen.add(keys[i]); }
        if (seen.has(key)) return this.fail("duplicate key \"" + key + "\"", keyAt);
        seen.add(key);
      }
      this.skipWs();
      if (this.peek() != 0x3a) return this.fail(this.peek() < 0 ? "unexpected end of input" : "expected ':'", this.pos);
      this.pos++;
      this.skipWs();
      const item = this.value(depth);
      if (item == null) return null;
      keys.push(key);
      values.push(item);
      this.skipWs();
      const c = this.peek();
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x7d) { this.pos++; return v; }
      return this.fail(c < 0 ? "unexpected end of input" : "expected ',' or '}'", this.pos);
    }
  }

  private array(depth: i32): JsonValue | null {
    if (depth > JSON_MAX_DEPTH) return this.fail("nesting deeper than " + JSON_MAX_DEPTH.toString(), this.pos);
    this.pos++; // '['
    const v = new JsonValue(JSON_ARRAY);
    const items: JsonValue[] = [];
    v.items = items;
    this.skipWs();
    if (this.peek() == 0x5d) { this.pos++; return v; }
    while (true) {
      this.skipWs();
      const item = this.value(depth);
      if (item == null) return null;
      items.push(item);
      this.skipWs();
      const c = this.peek();
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x5d) { this.pos++; return v; }
      return this.fail(c < 0 ? "unexpected end of input" : "expected ',' or ']'", this.pos);
    }
  }

  /** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number(): JsonValue | null {
    const start = this.pos;
    let integer = true;
    if (this.peek() == 0x2d) this.pos++;
    const c = this.peek();
    if (c == 0x30) {
      this.pos++;
    } else if (c >= 0x31 && c <= 0x39) {
      this.digits();
    } else {
      return this.fail("invalid number", start);
    }
    if (this.peek() == 0x2e) {
      integer = false;
      this.pos++;
      if (this.digits() == 0) return this.fail("invalid number: digits expected after '.'", this.pos);
    }
    if (this.peek() == 0x65 || this.peek() == 0x45) {
      integer = false;
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      if (this.digits() == 0) return this.fail("invalid number: digits expected in the exponent", this.pos);
    }
    const d = this.peek();
    if (d >= 0x30 && d <= 0x39) return this.fail("invalid number: leading zero", start);
    const v = new JsonValue(JSON_NUMBER);
    v.numberValue = F64.parseFloat(this.src.substring(start, this.pos));
    v.isInteger = integer;
    return v;
  }

  private digits(): i32 {
    let n = 0;
    while (true) {
      const c = this.peek();
      if (c < 0x30 || c > 0x39) return n;
      this.pos++;
      n++;
    }
  }

  /** A string at pos (the opening quote); null with `error` set on bad input. */
  private string(): string | null {
    const open = this.pos;
    this.pos++;
    const start = this.pos;
    const n = this.src.length;
    // Fast path: no escapes, one substring.
    while (this.pos < n) {
      const c = <i32>this.src.charCodeAt(this.pos);
      if (c == 0x22) { const s = this.src.substring(start, this.pos); this.pos++; return s; }
      if (c == 0x5c) break;
      if (c < 0x20) { this.fail("control character " + describeChar(c) + " in a string", this.pos); return null; }
      this.pos++;
    }
    if (this.pos >= n) { this.fail("unterminated string", open); return null; }
    const units = this.units;
    units.length = 0;
    for (let i = start; i < this.pos; i++) units.push(<i32>this.src.charCodeAt(i));
    while (this.pos < n) {
      const c = <i32>this.src.charCodeAt(this.pos);
      if (c == 0x22) { this.pos++; return String.fromCharCodes(units); }
      if (c < 0x20) { this.fail("control character " + describeChar(c) + " in a string", this.pos); return null; }
      if (c != 0x5c) { units.push(c); this.pos++; continue; }
      const escAt = this.pos;
      this.pos++;
      const e = this.peek();
      this.pos++;
      if (e == 0x22 || e == 0x5c || e == 0x2f) units.push(e);
      else if (e == 0x62) units.push(0x08);
      else if (e == 0x66) units.push(0x0c);
      else if (e == 0x6e) units.push(0x0a);
      else if (e == 0x72) units.push(0x0d);
      else if (e == 0x74) units.push(0x09);
      else if (e == 0x75) {
        const u = this.hex4();
        if (u < 0) { this.fail("invalid \\u escape", escAt); return null; }
        if (u >= 0xd800 && u <= 0xdbff) {
          // A high surrogate must be followed by an escaped low surrogate: together one code point.
          if (this.peek() != 0x5c || this.pos + 1 >= n || this.src.charCodeAt(this.pos + 1) != 0x75) {
            this.fail("unpaired surrogate in \\u escape", escAt); return null;
          }
          this.pos += 2;
          const lo = this.hex4();
          if (lo < 0xdc00 || lo > 0xdfff) { this.fail("unpaired surrogate in \\u escape", escAt); return null; }
          units.push(u);
          units.push(lo);
        } else if (u >= 0xdc00 && u <= 0xdfff) {
          this.fail("unpaired surrogate in \\u escape", escAt); return null;
        } else {
          units.push(u);
        }
      } else {
        this.fail(e < 0 ? "unterminated string" : "invalid escape \\" + String.fromCharCode(e), escAt);
        return null;
      }
    }
    this.fail("unterminated string", open);
    return null;
  }

  /** Four hex digits at pos, or -1 (pos is advanced past what was read). */
  private hex4(): i32 {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.peek();
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      if (d < 0) return -1;
      v = v * 16 + d;
      this.pos++;
    }
    return v;
  }
}

function describeChar(c: i32): string {
  if (c >= 0x20 && c < 0x7f) return "'" + String.fromCharCode(c) + "'";
  // Hand-rolled hex: String#toUpperCase would pull Unicode case tables into every module.
  const digits = "0123456789ABCDEF";
  let hex = "";
  for (let shift = 12; shift >= 0; shift -= 4) hex += digits.charAt((c >> shift) & 0xf);
  return "U+" + hex;
}

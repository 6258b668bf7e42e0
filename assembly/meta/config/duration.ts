// Durations as written in MetaRouter / protobuf JSON: "1s", "500ms", "1.5s", "2m", "1h",
// or segments such as "1m30s". The result is whole milliseconds > 0.

/** Longest accepted duration: the proxy-wasm tick period is a u32 of milliseconds, keep i32-safe. */
export const MAX_DURATION_MS: i64 = 2147483647;

export class Duration {
  ms: i64 = 0;
  /** "" when valid. */
  error: string = "";
}

export function parseDuration(s: string): Duration {
  const d = new Duration();
  const n = s.length;
  if (n == 0) { d.error = "must be a duration such as \"1s\" or \"500ms\", got \"\""; return d; }
  if (s.charCodeAt(0) == 0x2d) { d.error = "must be greater than zero, got \"" + s + "\""; return d; }
  let i = 0;
  let total: i64 = 0;
  while (i < n) {
    // number: digits [. digits]
    let whole: i64 = 0, frac: i64 = 0, fracScale: i64 = 1, digits = 0;
    while (i < n && isDigit(s.charCodeAt(i))) {
      if (++digits > 12) return bad(d, s, "too large");
      whole = whole * 10 + (s.charCodeAt(i) - 0x30);
      i++;
    }
    if (i < n && s.charCodeAt(i) == 0x2e) {
      i++;
      let fd = 0;
      while (i < n && isDigit(s.charCodeAt(i))) {
        if (++fd > 9) return bad(d, s, "too many decimals");
        frac = frac * 10 + (s.charCodeAt(i) - 0x30);
        fracScale *= 10;
        i++;
      }
      if (fd == 0) return bad(d, s, "digits must follow '.'");
    }
    if (digits == 0) return bad(d, s, "a number must come first");
    // unit
    let unitMs: i64 = 0;
    if (i + 1 < n && s.charCodeAt(i) == 0x6d && s.charCodeAt(i + 1) == 0x73) { unitMs = 1; i += 2; }   // ms
    else if (i < n && s.charCodeAt(i) == 0x73) { unitMs = 1000; i++; }                                  // s
    else if (i < n && s.charCodeAt(i) == 0x6d) { unitMs = 60000; i++; }                                 // m
    else if (i < n && s.charCodeAt(i) == 0x68) { unitMs = 3600000; i++; }                               // h
    else return bad(d, s, "the unit must be ms, s, m or h");
    const fracMs = frac * unitMs;
    if (fracMs % fracScale != 0) {
      d.error = "must be a whole number of milliseconds, got \"" + s + "\"";
      return d;
    }
    total += whole * unitMs + fracMs / fracScale;
    if (total > MAX_DURATION_MS) { d.error = "must be at most " + MAX_DURATION_MS.toString() + "ms, got \"" + s + "\""; return d; }
  }
  if (total <= 0) { d.error = "must be greater than zero, got \"" + s + "\""; return d; }
  d.ms = total;
  return d;
}

function bad(d: Duration, s: string, why: string): Duration {
  d.error = "must be a duration such as \"1s\", \"500ms\", \"1.5s\", \"2m\", \"1h\", got \"" + s + "\"" + (why.length > 0 ? " (" + why + ")" : "");
  return d;
}

@inline function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

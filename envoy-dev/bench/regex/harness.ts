// AssemblyScript entry for the in-process regex harness (benchmark and RE2 differential tests):
// the module's own Regex, with matching loops inside Wasm so the JS boundary is not measured.
import { Regex } from "../../../assembly/meta/regex";
import { regexWork } from "../../../assembly/meta/regex/dfa";

const compiled: Regex[] = [];

/** Compile a pattern: its handle, or -1 (see lastError). */
export function compile(pattern: string): i32 {
  const re = Regex.compile(pattern);
  if (re == null) return -1;
  compiled.push(re);
  return compiled.length - 1;
}

export function lastError(): string { return Regex.lastError; }

export function fullMatch(h: i32, s: string): bool { return compiled[h].fullMatch(s); }

/** Match s against handles [from, to) in order, `iters` times; the number of matches. */
export function loop(from: i32, to: i32, s: string, iters: i32): i32 {
  let hits = 0;
  for (let it = 0; it < iters; it++) {
    for (let h = from; h < to; h++) if (unchecked(compiled[h]).fullMatch(s)) hits++;
  }
  return hits;
}

/** NFA instructions visited so far (a work counter for linearity checks). */
export function work(): f64 { return <f64>regexWork; }

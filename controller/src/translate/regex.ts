// Regexes are checked with Google's RE2 itself (the re2-wasm build on npm), which is what Envoy
// runs: a MetaRouter regex is Accepted exactly when RE2 accepts it. (The pluginConfig that
// carries it is then also run through the module's own parser before it is applied; see
// module-check.ts.)
import { createRequire } from "node:module";

interface WrappedRE2 {
  ok(): boolean;
  error(): string;
  match(input: string, start: number, groups: boolean): { index: number };
  delete(): void;
}
type WrappedRE2Ctor = new (pattern: string, ignoreCase: boolean, multiline: boolean, dotAll: boolean) => WrappedRE2;

let ctor: WrappedRE2Ctor | undefined;
/** The raw RE2 binding: re2-wasm's RE2 class rewrites JavaScript syntax first; this does not. */
function re2(): WrappedRE2Ctor {
  if (ctor) return ctor;
  try {
    // Resolved next to this file, or next to the one-file bundle (its image ships re2-wasm beside
    // it: the package loads its re2.wasm from its own folder, so it cannot be inlined).
    ctor = (createRequire(import.meta.url)("re2-wasm/build/wasm/re2.js") as { WrappedRE2: WrappedRE2Ctor }).WrappedRE2;
  } catch (e) {
    throw new Error(`RE2 is not available (npm package re2-wasm, needed to check regexes): ${(e as Error).message.split("\n")[0]}`);
  }
  return ctor;
}

/**
 * The pattern as the RE2 inside re2-wasm (2021) needs it to judge like Envoy's newer RE2, which
 * also accepts `(?<name>re)` (checked against Envoy 1.40): that spelling becomes `(?P<name>re)`.
 */
function forBundledRe2(p: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      if (p[i + 1] === "Q") { // \Q...\E is literal text
        const end = p.indexOf("\\E", i + 2);
        const stop = end < 0 ? p.length : end + 2;
        out += p.slice(i, stop);
        i = stop - 1;
        continue;
      }
      out += p.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) { if (c === "]") inClass = false; out += c; continue; }
    if (c === "[") {
      inClass = true;
      out += c;
      if (p[i + 1] === "^") { out += "^"; i++; }
      if (p[i + 1] === "]") { out += "]"; i++; } // a leading ']' is a literal
      continue;
    }
    if (p.startsWith("(?<", i) && p[i + 3] !== "=" && p[i + 3] !== "!") { out += "(?P<"; i += 2; continue; }
    out += c;
  }
  return out;
}

/** null when RE2 accepts the pattern, else RE2's reason. */
export function re2Error(pattern: string): string | null {
  const re = new (re2())(forBundledRe2(pattern), false, false, false);
  try {
    return re.ok() ? null : re.error();
  } finally {
    re.delete();
  }
}

/**
 * RE2's FullMatch(input, pattern), as Envoy's safe_regex string matchers use it: a function
 * (call `dispose` when done), or RE2's error when it refuses the pattern. For tests: the module
 * must give the same answers.
 */
export function re2FullMatcher(pattern: string): { match(input: string): boolean; dispose(): void } | string {
  let p = forBundledRe2(pattern);
  if (unterminatedQuote(p)) p += "\\E";
  const err = re2Error(pattern);
  if (err !== null) return err;
  const re = new (re2())(`\\A(?:${p})\\z`, false, false, false);
  if (!re.ok()) { const e = re.error(); re.delete(); return e; }
  return { match: (input: string) => re.match(input, 0, false).index >= 0, dispose: () => re.delete() };
}

/** Whether a \Q quote runs to the end of the pattern (it would swallow a wrapper's ")"). */
function unterminatedQuote(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    if (p[i] !== "\\") continue;
    if (p[i + 1] === "Q") {
      const end = p.indexOf("\\E", i + 2);
      if (end < 0) return true;
      i = end + 1;
    } else i++;
  }
  return false;
}

/** A regex that matches exactly one of the literal values. */
export function alternation(values: string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
}

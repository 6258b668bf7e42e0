// Differential tests: the module's regex engine (built on its own into a small Wasm harness)
// against Google's RE2 (re2-wasm), on generated patterns and inputs. Both must accept and
// refuse the same patterns, and give the same full-match answer (Envoy's safe_regex semantics)
// on every input. Seeded: a failure prints the pattern and input to reproduce it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadRegexHarness, type RegexHarness } from "../../envoy-dev/bench/regex/load.ts";
import { re2Error, re2FullMatcher } from "../../controller/src/translate/regex.ts";

let h: RegexHarness;
const harness = async () => (h ??= await loadRegexHarness());

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Constructs the module does not support although RE2 does (documented in the README):
// \C (one byte of UTF-8) and \p{...} Unicode classes, and case folding beyond Latin-1.
export const UNSUPPORTED = /\\C|\\[pP]/;

const ATOMS = [
  "a", "b", "A", "B", "_", "-", "é", "É", "😀", "k", "K", "s", "S", "σ", "Σ", "ǅ", "ß", "θ", "1", " ", "\\n", ".", "\\.", "\\-",
  "[ab]", "[^a]", "[a-c]", "[^\\n]", "[[:alpha:]]", "[[:^digit:]]", "[[:word:]]", "[\\d_]", "[a-]", "[]a]", "[^]a]",
  "[\\x{e9}-\\x{ff}]", "[😀-😂]", "\\d", "\\w", "\\s", "\\D", "\\W", "\\S", "\\b", "\\B", "^", "$", "\\A", "\\z",
  "\\x41", "\\x{e9}", "\\x{1F600}", "\\141", "\\0", "\\Q.*\\E", "\\Qa|b\\E", "(?i:k)", "(?i:é)", "(?i:[a-c])",
  "(?s:.)", "(?m:^)", "(?m:$)", "(?i)", "(?-i)", "(?U)", "\\t", "\\v", "\\f", "\\r", "\\a",
];
const QUANT = ["", "", "", "*", "+", "?", "{2}", "{1,}", "{0,2}", "*?", "+?", "??", "{1,2}?"];

function genPattern(r: () => number, depth = 0): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const n = 1 + Math.floor(r() * 4);
  let out = "";
  for (let i = 0; i < n; i++) {
    let atom: string;
    const roll = r();
    if (depth < 3 && roll < 0.2) atom = pick(["(", "(?:", "(?P<g" + depth + i + ">", "(?<h" + depth + i + ">", "(?i:"]) + genPattern(r, depth + 1) + ")";
    else if (depth < 3 && roll < 0.3) atom = "(?:" + genPattern(r, depth + 1) + "|" + genPattern(r, depth + 1) + ")";
    else atom = pick(ATOMS);
    const q = /^\(\?[-imsU]*\)$|^\\[bBAz]$|^[\^$]$/.test(atom) ? "" : pick(QUANT);
    out += atom + q;
  }
  if (r() < 0.15) out += "|" + genPattern(r, depth + 1);
  return out;
}

const INPUT_CHARS = ["a", "b", "A", "B", "_", "-", ".", "\n", " ", "é", "É", "😀", "😁", "k", "K", "\u212a", "s", "ſ", "1", "σ", "Σ", "ς", "ǆ", "Ǆ", "ǅ", "ß", "ẞ", "θ", "ϑ", "Θ", "ϴ", "*", "|"];
function genInput(r: () => number): string {
  const len = Math.floor(r() * 6);
  let s = "";
  for (let i = 0; i < len; i++) s += INPUT_CHARS[Math.floor(r() * INPUT_CHARS.length)];
  return s;
}

/** Literal pieces of a pattern, so inputs hit matches often. */
function inputsFor(p: string, r: () => number): string[] {
  const lits = [...p.replace(/\\[a-zA-Z]|[()[\]{}*+?|^$\\]/g, "")]; // code points: no lone surrogates
  const lit = lits.join("");
  const out = ["", lit, lit + lit, lits.slice(0, -1).join(""), lit.toUpperCase()];
  for (let i = 0; i < 12; i++) out.push(genInput(r));
  for (let i = 0; i < 4; i++) {
    const a = Math.floor(r() * (lits.length + 1)), b = Math.floor(r() * (lits.length + 1));
    out.push(lits.slice(Math.min(a, b), Math.max(a, b)).join("") + [...genInput(r)].slice(0, 2).join(""));
  }
  return out;
}

interface Diff { pattern: string; input?: string; module: string; re2: string }

/** Compare acceptance and answers on `inputs`; returns the differences found. */
function compare(pattern: string, inputs: string[]): Diff[] {
  const mod = h.compile(pattern);
  const re = re2FullMatcher(pattern);
  const modOk = typeof mod === "number", reOk = typeof re !== "string";
  if (!modOk || !reOk) {
    // The module refuses what it does not support (documented); anything else must agree.
    if (modOk !== reOk && !(reOk && UNSUPPORTED.test(pattern))) {
      return [{ pattern, module: modOk ? "accepted" : `refused: ${mod}`, re2: reOk ? "accepted" : `refused: ${re}` }];
    }
    if (reOk) (re as { dispose(): void }).dispose();
    return [];
  }
  const diffs: Diff[] = [];
  for (const s of inputs) {
    const a = h.fullMatch(mod as number, s), b = re.match(s);
    if (a !== b) diffs.push({ pattern, input: s, module: String(a), re2: String(b) });
  }
  re.dispose();
  return diffs;
}

const fmt = (d: Diff[]) => d.slice(0, 15).map((x) => `/${x.pattern}/ ${x.input === undefined ? "" : JSON.stringify(x.input)} module=${x.module} re2=${x.re2}`).join("\n");

test("RE2 parity: the patterns from the issue are accepted by both, the bad ones refused by both", async () => {
  await harness();
  const valid = ["(?i)abc", "(?P<n>a)", "(?<n>a)", "\\Q.*\\E", "[[:alpha:]]+", "\\Aab\\z", "(?s).", "\\x{41}", "a\\}+", "x\\?+", "a{1000}", "(?U)a+", "((a{2}){2}){250}", "(?P<n>a)(?P<n>b)", "a\\_"];
  const invalid = ["\\u0041", "\\cA", "a{1001}", "(a)\\1", "a**", "a++", "x{2}{3}", "(?P=n)", "(?=a)", "(?<=a)b", "\\Z", "\\8", "[a-\\d]", "((a{100}){100})", "((a{2}){2}){300}", "[z-a]", "(", ")", "[a", "a{2,1}", "\\"];
  for (const p of valid) {
    assert.equal(re2Error(p), null, `RE2 should accept ${p}`);
    assert.equal(typeof h.compile(p), "number", `module should accept ${p}: ${h.compile(p)}`);
  }
  for (const p of invalid) {
    assert.notEqual(re2Error(p), null, `RE2 should refuse ${p}`);
    assert.equal(typeof h.compile(p), "string", `module should refuse ${p}`);
  }
});

test("RE2 parity: generated patterns, the same acceptance and the same full-match answers", async () => {
  await harness();
  const r = rng(20261130);
  const diffs: Diff[] = [];
  let patterns = 0, inputs = 0;
  for (let i = 0; i < 3000; i++) {
    const p = genPattern(r);
    const ins = inputsFor(p, r);
    patterns++;
    inputs += ins.length;
    diffs.push(...compare(p, ins));
  }
  assert.ok(patterns >= 3000 && inputs > 50000, `${patterns} patterns, ${inputs} inputs`);
  assert.deepEqual(diffs.length, 0, `${diffs.length} differences:\n${fmt(diffs)}`);
});

test("RE2 parity: the uncached path (taken when a DFA cache thrashes) gives the same answers", async () => {
  await harness();
  const r = rng(4242);
  const diffs: Diff[] = [];
  h.uncached(true);
  try {
    for (let i = 0; i < 1500; i++) {
      const p = genPattern(r);
      diffs.push(...compare(p, inputsFor(p, r)));
    }
  } finally {
    h.uncached(false);
  }
  assert.deepEqual(diffs.length, 0, `${diffs.length} differences:\n${fmt(diffs)}`);
});

test("RE2 parity: random strings of regex syntax are accepted and refused alike", async () => {
  await harness();
  const r = rng(7);
  const chars = "ab()[]{}*+?|\\^$.-:,0123456789PQEpxCkzAbBdDwWsS<>=!iUmsn_";
  const diffs: Diff[] = [];
  for (let i = 0; i < 20000; i++) {
    const len = 1 + Math.floor(r() * 7);
    let p = "";
    for (let j = 0; j < len; j++) p += chars[Math.floor(r() * chars.length)];
    diffs.push(...compare(p, ["", "a", "ab", "b", "aa", "{", "0", "P"]));
  }
  assert.deepEqual(diffs.length, 0, `${diffs.length} differences:\n${fmt(diffs)}`);
});

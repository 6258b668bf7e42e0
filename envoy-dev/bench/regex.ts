// In-process regex benchmark (no sockets): the module's own engine, built on its own into a
// small Wasm harness (envoy-dev/bench/regex/load.ts), against V8's RegExp in the same run.
// Prints ns per input character for literal-heavy, common and worst-case accepted patterns on
// 10 KB and 1 MB values, and a 33-regex-route config, each with the ratio to V8.
//
//   npx tsx envoy-dev/bench/regex.ts [--quick] [--base <checkout>]
//
// --base <dir>: also measure the engine of another checkout (e.g. a `git worktree` of main) in
// the same run, for before/after figures. CPU time (process.cpuUsage) is used, not wall time,
// so other load on the machine disturbs the figures less; medians of 5 runs.
import { loadRegexHarness, type RegexHarness } from "./regex/load.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const baseDir = args.includes("--base") ? args[args.indexOf("--base") + 1] : undefined;

function text(n: number, alphabet: string, seed = 1): string {
  let x = seed | 1, s = "";
  // xorshift32: an LCG's low bits are periodic (its "ab" text would be abab...)
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; s += alphabet[(x >>> 0) % alphabet.length]; }
  return s;
}
const KB10 = 10 * 1024, MB1 = 1024 * 1024;

interface Case {
  name: string; kind: "literal-heavy" | "common" | "worst"; patterns: string[]; value: (n: number) => string; sizes: number[];
  /** V8 backtracks: on some worst cases it never finishes (nested stars), so it is not run. */
  noV8?: boolean;
}

const cases: Case[] = [
  { name: "literal prefix+suffix", kind: "literal-heavy", patterns: ["com\\.example\\.demo\\.[A-Za-z.]+Service"],
    value: (n) => "com.example.demo." + text(n - 24, "abcdefghijklmnopqrstuvwxyz.") + "Service", sizes: [KB10, MB1] },
  { name: "literal inside .*", kind: "literal-heavy", patterns: [".*OrderService.*"],
    value: (n) => text(n / 2, "abcdefghij") + "OrderService" + text(n / 2 - 12, "abcdefghij"), sizes: [KB10, MB1] },
  { name: "method family", kind: "common", patterns: ["(get|set|list)[A-Z]\\w*"],
    value: (n) => "getX" + text(n - 4, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_"), sizes: [KB10, MB1] },
  { name: "version-like", kind: "common", patterns: ["v[0-9]+(\\.[0-9]+)*(-[a-z0-9]+)?"],
    value: (n) => "v1" + ".2".repeat((n - 8) / 2) + "-rc1", sizes: [KB10, MB1] },
  { name: "case-insensitive words", kind: "common", patterns: ["(?i)[a-z ]*token[a-z ]*"],
    value: (n) => text(n / 2, "abcdefghijklmnopqrstuvwxyz ") + "TOKEN" + text(n / 2 - 5, "abcdefghijklmnopqrstuvwxyz "), sizes: [KB10, MB1] },
  // Worst cases the module accepts: DFAs of 2^21 and 2^1000 states (the cache thrashes and the
  // engine steps state sets, as a Pike VM), and a program near the per-regex size limit.
  { name: "[ab]*a[ab]{20}", kind: "worst", patterns: ["[ab]*a[ab]{20}"], value: (n) => text(n, "ab"), sizes: [KB10, MB1] },
  { name: "[ab]*a[ab]{999}", kind: "worst", patterns: ["[ab]*a[ab]{999}"], value: (n) => text(n, "ab"), sizes: quick ? [KB10] : [KB10, MB1] },
  { name: "4 x [ab]*a[ab]{999}", kind: "worst", patterns: ["[ab]*a[ab]{999}".repeat(4)], value: (n) => text(n, "ab"), sizes: [KB10], noV8: true },
];

// The 33-regex-route config of the resilience issue: every route a regex on the same attribute,
// none matching, so each request tries all 33.
const routes33: string[] = [];
for (let i = 0; i < 33; i++) routes33.push(`com\\.example\\.svc${i}\\.[A-Za-z]+(Service|Api)V[0-9]+`);
cases.push({ name: "33 regex routes", kind: "common", patterns: routes33, value: (n) => "com.example.other." + text(n - 18, "abcdefghijklmnop"), sizes: [KB10] });
// ... and 33 routes no literal end can reject: each scans the whole value.
const scan33: string[] = [];
for (let i = 0; i < 33; i++) scan33.push(`.*(svc${i}|api${i})[a-z]*`);
cases.push({ name: "33 regex routes, no literal ends", kind: "common", patterns: scan33, value: (n) => text(n - 1, "abcdefghijklmnopqrstuvwxyz") + "!", sizes: [KB10] });

function cpuMs(f: () => void): number {
  const t = process.cpuUsage();
  f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1000;
}

/** Median ns per character of matching `value` against all `handles` in order. */
function measure(run: (iters: number) => void, chars: number): number {
  run(1); // warm up (compiles, sizes caches)
  let iters = 1;
  while (cpuMs(() => run(iters)) < 20 && iters < 1 << 20) iters *= 2;
  const samples: number[] = [];
  for (let k = 0; k < (quick ? 3 : 5); k++) samples.push((cpuMs(() => run(iters)) * 1e6) / iters / chars);
  return samples.sort((a, b) => a - b)[samples.length >> 1];
}

function engine(h: RegexHarness, patterns: string[]) {
  const hs = patterns.map((p) => { const x = h.compile(p); if (typeof x === "string") throw new Error(`${p}: ${x}`); return x; });
  for (let i = 1; i < hs.length; i++) if (hs[i] !== hs[0] + i) throw new Error("handles not contiguous");
  return { from: hs[0], to: hs[0] + hs.length };
}

const harness = await loadRegexHarness();
const base = baseDir ? await loadRegexHarness(baseDir.endsWith("/") ? baseDir : baseDir + "/") : undefined;

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rows: string[][] = [["kind", "case", "value", "module ns/char", "V8 ns/char", "module/V8", "per match", ...(base ? ["before ns/char", "before/after"] : [])]];
for (const c of cases) {
  for (const n of c.sizes) {
    const value = c.value(n);
    const ours = engine(harness, c.patterns);
    const v8 = c.patterns.map((p) => new RegExp(`^(?:${p.replace("(?i)", "")})$`, p.startsWith("(?i)") ? "i" : ""));
    const mod = measure((it) => harness.loop(ours.from, ours.to, value, it), value.length);
    const js = c.noV8 || (c.kind === "worst" && n > KB10) ? NaN // V8 backtracks: far too slow on these
      : measure((it) => { for (let i = 0; i < it; i++) for (const r of v8) r.test(value); }, value.length);
    const row = [c.kind, c.name, n >= MB1 ? "1 MB" : "10 KB", fmt(mod), Number.isNaN(js) ? "-" : fmt(js), Number.isNaN(js) ? "-" : fmt(mod / js) + "x",
      `${fmt((mod * value.length) / 1e6)} ms`];
    if (base) {
      const skip = n >= MB1 && c.kind === "worst"; // the old engine needs minutes here
      const b = skip ? NaN : (() => { const e = engine(base, c.patterns); return measure((it) => base.loop(e.from, e.to, value, it), value.length); })();
      row.push(Number.isNaN(b) ? "-" : fmt(b), Number.isNaN(b) ? "-" : fmt(b / mod) + "x");
    }
    rows.push(row);
    console.log(row.join(" | "));
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(rows.map((r) => r.map((x, i) => x.padEnd(widths[i])).join("  ")).join("\n"));
console.log("\nns/char: CPU time per input character (median of runs); per match: one match (all 33 regexes for the route case).");

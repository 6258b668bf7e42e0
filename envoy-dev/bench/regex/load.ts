// Builds (once, cached under .cache/regex-harness keyed by the sources' hash) and loads the
// regex harness: the module's own regex engine compiled on its own, callable from Node.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join, relative } from "node:path";

const ROOT = new URL("../../../", import.meta.url).pathname;

// The AssemblyScript entry (written next to the build, since AssemblyScript is not TypeScript).
const HARNESS = `// AssemblyScript entry for the in-process regex harness (benchmark and RE2 differential tests):
// the module's own Regex, with matching loops inside Wasm so the JS boundary is not measured.
import { Regex } from "ROOT/assembly/meta/regex";
import { regexWork, setUncachedOnly } from "ROOT/assembly/meta/regex/dfa";
import { setRegexWorkBudget } from "ROOT/assembly/meta/regex/dfa";

// The engine itself is measured: the module's per-callback work budget is lifted.
setRegexWorkBudget(-1);

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

/** Match s against handles [from, to) in order, \`iters\` times; the number of matches. */
export function loop(from: i32, to: i32, s: string, iters: i32): i32 {
  let hits = 0;
  for (let it = 0; it < iters; it++) {
    for (let h = from; h < to; h++) if (unchecked(compiled[h]).fullMatch(s)) hits++;
  }
  return hits;
}

/** NFA instructions visited so far (a work counter for linearity checks). */
export function work(): f64 { return <f64>regexWork; }

/** Run every match without the DFA cache (the path taken when it thrashes). */
export function uncached(on: bool): void { setUncachedOnly(on); }
`;

export interface RegexHarness {
  /** handle, or the error text */
  compile(pattern: string): number | string;
  fullMatch(h: number, s: string): boolean;
  loop(from: number, to: number, s: string, iters: number): number;
  work(): number;
  /** Match without the DFA cache from now on (true) or with it (false). */
  uncached(on: boolean): void;
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".ts")).map((f) => join(ROOT, dir, f));
}

/** Build the harness from `root`'s assembly/ (default: this checkout) and load it. */
export async function loadRegexHarness(root = ROOT): Promise<RegexHarness> {
  const files = [join(root, "assembly/meta/regex.ts"), ...sources("assembly/meta/regex").map((f) => f.replace(ROOT, root))].filter(existsSync);
  const h = createHash("sha256").update(HARNESS);
  for (const f of files) h.update(f).update(readFileSync(f));
  const out = join(ROOT, ".cache/regex-harness", h.digest("hex").slice(0, 16) + ".wasm");
  if (!existsSync(out)) {
    mkdirSync(join(ROOT, ".cache/regex-harness"), { recursive: true });
    // Run outside the project so its asconfig.json (which wires the proxy-wasm abort) is not read.
    const entry = out.replace(/\.wasm$/, ".ts");
    let src = HARNESS;
    const dfa = join(root, "assembly/meta/regex/dfa.ts");
    if (!existsSync(dfa) || !readFileSync(dfa, "utf8").includes("setRegexWorkBudget")) { // no work budget
      src = src.replace(/import \{ setRegexWorkBudget.*\n/, "").replace("setRegexWorkBudget(-1);", "");
    }
    if (!existsSync(dfa)) { // an older engine: no work counter
      src = src.replace(/import \{ regexWork.*\n/, "").replace("<f64>regexWork", "0").replace("setUncachedOnly(on);", "");
    }
    writeFileSync(entry, src.replaceAll("ROOT/", relative(join(ROOT, ".cache/regex-harness"), root) + "/"));
    const r = spawnSync(join(ROOT, "node_modules/.bin/asc"), [entry, "-o", out,
      "--runtime", "incremental", "-O3", "--exportRuntime"], { cwd: join(ROOT, ".cache/regex-harness"), stdio: "inherit" });
    if (r.status !== 0) throw new Error("regex harness: asc failed");
  }
  const { instance } = await WebAssembly.instantiate(readFileSync(out), { env: { abort: () => { throw new Error("abort"); } } });
  const x = instance.exports as any;
  const mem = x.memory as WebAssembly.Memory;
  const lower = (s: string): number => {
    const p = x.__new(s.length << 1, 2) >>> 0;
    const u = new Uint16Array(mem.buffer, p, s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return p;
  };
  const lift = (p: number): string => {
    const len = new Uint32Array(mem.buffer)[(p - 4) >>> 2] >>> 1;
    return String.fromCharCode(...new Uint16Array(mem.buffer, p, len));
  };
  // Strings passed in are pinned for the call (the incremental GC may run inside it).
  const withStr = <T>(s: string, f: (p: number) => T): T => {
    const p = x.__pin(lower(s));
    try { return f(p); } finally { x.__unpin(p); }
  };
  return {
    compile: (pattern) => withStr(pattern, (p) => { const hd = x.compile(p); return hd >= 0 ? hd : lift(x.lastError() >>> 0); }),
    fullMatch: (hd, s) => withStr(s, (p) => x.fullMatch(hd, p) !== 0),
    loop: (from, to, s, iters) => withStr(s, (p) => x.loop(from, to, p, iters)),
    work: () => x.work(),
    uncached: (on) => x.uncached(on ? 1 : 0),
  };
}

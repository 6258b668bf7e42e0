// The extra modules the in-process benchmark needs beside build/*.wasm, rebuilt into build/bench/
// only when their sources changed: the floor (envoy-dev/bench/floor/floor.ts) and, for counting
// allocations and collector work, each protocol module built with AssemblyScript's runtime
// tracing (ASC_RTRACE: the allocator and collector call imported hooks the benchmark counts).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../..", import.meta.url));
const OUT = join(REPO, "build", "bench");
const ASC = join(REPO, "node_modules", ".bin", "asc");

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const e of readdirSync(path)) t = Math.max(t, newest(join(path, e)));
  return t;
}

function build(out: string, sources: string[], args: string[]): string {
  mkdirSync(OUT, { recursive: true });
  const deps = Math.max(...sources.map(newest), newest(join(REPO, "asconfig.json")));
  if (existsSync(out) && statSync(out).mtimeMs > deps) return out;
  console.error(`bench: building ${out.slice(REPO.length)}`);
  const r = spawnSync("nice", [ASC, ...args, "--outFile", out], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`asc ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  return out;
}

/**
 * The protocol modules measured: build/<name>.wasm, or those in BENCH_MODULES (a directory, e.g.
 * a copy of another build, to compare two builds in turn on the same busy machine).
 */
export function moduleWasm(name: string): string {
  return join(process.env.BENCH_MODULES || join(REPO, "build"), `${name}.wasm`);
}

/** The read-only floor module (stub runtime: it allocates nothing it keeps). */
export function floorWasm(): string {
  const src = join(REPO, "envoy-dev", "bench", "floor", "floor.ts");
  const cfg = join(REPO, "envoy-dev", "bench", "floor", "asconfig.json");
  return build(join(OUT, "floor.wasm"), [src, cfg], [src, "--config", cfg]);
}

/** build/<name>.wasm's sources and options, with allocator and collector hooks (module "rtrace"). */
export function rtraceWasm(name: string): string {
  return build(join(OUT, `${name}.rtrace.wasm`), [join(REPO, "assembly")],
    [`assembly/protocols/${name}/index.ts`, "--target", name, "--use", "ASC_RTRACE=1"]);
}

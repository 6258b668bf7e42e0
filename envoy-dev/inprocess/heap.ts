// Exact heap figures for a module run in-process: a build of it that exports AssemblyScript's
// runtime (`__collect`), so garbage can be collected before measuring, and the allocator's exact
// count of bytes in use (assembly/abi/gc.ts, exported by assembly/abi/heap-export.ts). Only for
// measurements: the modules Envoy loads export neither.
import { spawnSync } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { InProcessProxy } from "./driver.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * build/<name>.wasm rebuilt with --exportRuntime into .cache/measure/<name>-<hash of assembly/>.wasm.
 * Keyed by content, not time: .cache is shared by checkouts (worktrees, CI's persistent cache),
 * and a newer build of other sources must never stand in for this checkout's.
 */
export function measureBuild(name: string): string {
  const dir = join(ROOT, ".cache", "measure");
  mkdirSync(dir, { recursive: true });
  const h = createHash("sha256");
  h.update(readFileSync(join(ROOT, "asconfig.json")));
  hashSources(join(ROOT, "assembly"), h);
  const out = join(dir, `${name}-${h.digest("hex").slice(0, 12)}.wasm`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(join(ROOT, "node_modules/.bin/asc"), [`assembly/protocols/${name}/index.ts`, "assembly/abi/heap-export.ts", "--target", name, "--exportRuntime", "--outFile", tmp],
    { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`asc ${name} --exportRuntime failed:\n${r.stdout}${r.stderr}`);
  renameSync(tmp, out); // whole or absent: another run may be reading the cache
  return out;
}

function hashSources(dir: string, h: Hash): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    h.update(p.slice(ROOT.length));
    if (e.isDirectory()) hashSources(p, h); else h.update(readFileSync(p));
  }
}

/** Live heap bytes, exact: a full collection, then the allocator's bytes in use (headers included). */
export function liveHeapBytes(p: InProcessProxy): number {
  const ex = p.vm.exports as Record<string, any>;
  if (typeof ex.__collect !== "function" || typeof ex.heapInUse !== "function") throw new Error("liveHeapBytes needs a measureBuild() module");
  ex.__collect();
  return ex.heapInUse() >>> 0;
}

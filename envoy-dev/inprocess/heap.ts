// Exact heap figures for a module run in-process: a build of it that exports AssemblyScript's
// runtime (`__collect`), so garbage can be collected before measuring, and a probe that counts
// the free heap by allocating until the memory would have to grow. Only for measurements: the
// modules Envoy loads export no runtime.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { InProcessProxy } from "./driver.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** build/<name>.wasm rebuilt with --exportRuntime into .cache/measure/ (when assembly/ changed). */
export function measureBuild(name: string): string {
  const dir = join(ROOT, ".cache", "measure");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${name}.wasm`);
  if (existsSync(out) && statSync(out).mtimeMs > newestSource(join(ROOT, "assembly"))) return out;
  const r = spawnSync(join(ROOT, "node_modules/.bin/asc"), [`assembly/protocols/${name}/index.ts`, "--target", name, "--exportRuntime", "--outFile", out],
    { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`asc ${name} --exportRuntime failed:\n${r.stdout}${r.stderr}`);
  return out;
}

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Live heap bytes: a full collection, then the free space is found by allocating 256-byte
 * blocks until the next one would grow the memory. Consumes the VM's free memory: the proxy
 * is to be thrown away afterwards.
 */
export function liveHeapBytes(p: InProcessProxy): number {
  const ex = p.vm.exports as Record<string, any>;
  if (typeof ex.__collect !== "function") throw new Error("liveHeapBytes needs a measureBuild() module");
  ex.__collect();
  const mem = ex.memory as WebAssembly.Memory;
  const size = mem.buffer.byteLength;
  const BLOCK = 256;
  let free = 0;
  for (;;) {
    ex.malloc(BLOCK);
    if (mem.buffer.byteLength !== size) break;
    free += BLOCK + 4; // + the allocator's block header
  }
  return size - free;
}

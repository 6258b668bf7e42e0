// Heavy peer builds (Maven, Go) cached under the repository's .cache/<name>-<hash>/, where the
// hash covers every source file of the peer: a change rebuilds, a clean clone builds on first
// use, an unchanged tree reuses the build. Tests call ensureBuilt() themselves (CI runs on a
// clean clone); a lock directory keeps two processes from building the same thing at once.
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("..", import.meta.url));
/** The cache root, .cache/ (.ci/run links it to a place kept between runs). */
export const CACHE = join(REPO, ".cache");

/** A short hash of the files and every file under the folders in `paths` (names and contents) plus `extra` (tool versions). */
export function treeHash(paths: string[], extra = ""): string {
  const h = createHash("sha256");
  h.update(extra);
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) if (e !== "target" && e !== "node_modules") walk(join(p, e));
    } else {
      h.update(relative(REPO, p)); h.update("\0"); h.update(readFileSync(p)); h.update("\0");
    }
  };
  for (const p of paths) walk(p);
  return h.digest("hex").slice(0, 12);
}

/** Older builds of the same thing (`<name>-<other hash>`) go once a new one is complete. */
function pruneSiblings(dir: string): void {
  const base = dir.slice(dir.lastIndexOf("/") + 1);
  const name = base.replace(/-[0-9a-f]{12}$/, "");
  const parent = dir.slice(0, dir.lastIndexOf("/"));
  for (const e of readdirSync(parent)) {
    if (e !== base && new RegExp(`^${name}-[0-9a-f]{12}$`).test(e)) rmSync(join(parent, e), { recursive: true, force: true });
  }
}

export interface BuildStep { cmd: string; args: string[]; cwd?: string; env?: Record<string, string> }

/**
 * Returns `dir` after making sure `steps` ran to completion in it once (marker file `.built`).
 * Build output goes to stderr of this process only on failure (it is kept in `dir/build.log`).
 */
export async function ensureBuilt(dir: string, steps: (dir: string) => BuildStep[], what: string): Promise<{ dir: string; built: boolean; ms: number }> {
  const done = join(dir, ".built");
  if (existsSync(done)) return { dir, built: false, ms: 0 };
  mkdirSync(CACHE, { recursive: true });
  const lock = `${dir}.lock`;
  const t0 = Date.now();
  for (;;) {
    try { mkdirSync(lock); break; } catch { /* another process builds it */ }
    if (Date.now() - t0 > 30 * 60_000) throw new Error(`${what}: waited 30 min for ${lock}; remove it if no build runs`);
    await new Promise((r) => setTimeout(r, 1000));
    if (existsSync(done)) return { dir, built: false, ms: 0 };
  }
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    let log = "";
    for (const s of steps(dir)) {
      const code = await new Promise<number>((resolve, reject) => {
        // nice: the machine is shared with other builds and tests.
        const p = spawn("nice", [s.cmd, ...s.args], { cwd: s.cwd ?? REPO, env: { ...process.env, ...s.env }, stdio: ["ignore", "pipe", "pipe"] });
        p.stdout.on("data", (d) => { log += d; });
        p.stderr.on("data", (d) => { log += d; });
        p.on("error", reject);
        p.on("close", (c) => resolve(c ?? 1));
      });
      writeFileSync(join(dir, "build.log"), log);
      if (code !== 0) throw new Error(`${what}: ${s.cmd} ${s.args.join(" ")} failed (exit ${code}); log:\n${log.slice(-4000)}`);
    }
    writeFileSync(done, new Date().toISOString() + "\n");
    pruneSiblings(dir);
    return { dir, built: true, ms: Date.now() - t0 };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

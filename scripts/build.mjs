#!/usr/bin/env node
// Builds one .wasm per protocol: every target in asconfig.json (or the ones named on the
// command line). `--debug` keeps names and skips optimization for readable traps.
import { readFileSync, mkdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const debug = args.includes("--debug");
const wanted = args.filter((a) => !a.startsWith("--"));
const { targets } = JSON.parse(readFileSync(join(root, "asconfig.json"), "utf8"));
const names = wanted.length ? wanted : Object.keys(targets);

mkdirSync(join(root, "build"), { recursive: true });
const asc = join(root, "node_modules", ".bin", "asc");
let failed = 0;
for (const name of names) {
  const t = targets[name];
  if (!t) { console.error(`build: no target "${name}" in asconfig.json`); failed++; continue; }
  const extra = debug ? ["--debug", "-O0", "--textFile", t.outFile.replace(/\.wasm$/, ".wat")] : [];
  const r = spawnSync(asc, [t.entry, "--target", name, ...extra], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) { console.error(`build: ${name} failed`); failed++; continue; }
  console.log(`build: ${t.outFile} ${statSync(join(root, t.outFile)).size} bytes`);
}
process.exit(failed ? 1 : 0);

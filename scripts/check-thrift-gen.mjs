#!/usr/bin/env node
// envoy-dev/apps/thrift/gen-nodejs is committed so `npm test` runs on a fresh machine without
// a Thrift compiler. This check (run by .ci/run, which installs Debian's thrift-compiler) proves
// the committed code is exactly what `thrift --gen js:node` makes from demo.thrift.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const APP = fileURLToPath(new URL("../envoy-dev/apps/thrift/", import.meta.url));
const version = spawnSync("thrift", ["--version"], { encoding: "utf8" });
if (version.status !== 0) {
  console.error("check-thrift-gen: the thrift binary is missing (Debian: apt-get install thrift-compiler)");
  process.exit(1);
}
const out = mkdtempSync(join(tmpdir(), "thrift-gen-"));
let bad = 0;
try {
  const r = spawnSync("thrift", ["--gen", "js:node", "-o", out, join(APP, "demo.thrift")], { encoding: "utf8" });
  if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
  const fresh = readdirSync(join(out, "gen-nodejs")).sort();
  const committed = readdirSync(join(APP, "gen-nodejs")).filter((f) => f !== "package.json").sort();
  if (JSON.stringify(fresh) !== JSON.stringify(committed)) {
    console.error(`check-thrift-gen: files differ: committed ${committed.join(",")} vs generated ${fresh.join(",")}`);
    bad++;
  }
  for (const f of fresh) {
    if (!committed.includes(f)) continue;
    if (readFileSync(join(APP, "gen-nodejs", f), "utf8") !== readFileSync(join(out, "gen-nodejs", f), "utf8")) {
      console.error(`check-thrift-gen: ${f} differs from the compiler's output: regenerate it`);
      bad++;
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (bad) process.exit(1);
console.log(`check-thrift-gen: gen-nodejs matches ${version.stdout.trim()} output for demo.thrift`);

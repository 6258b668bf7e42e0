#!/usr/bin/env node
// envoy-dev/apps/thrift/gen-nodejs and peers/py-thrift/gen-py are committed so the tests run on
// a fresh machine without a Thrift compiler. This check (run by .ci/run, which installs Debian's
// thrift-compiler) proves the committed code is exactly what `thrift --gen js:node` and
// `thrift --gen py` make from demo.thrift (gen-py without its Greeter-remote script).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const APP = fileURLToPath(new URL("../envoy-dev/apps/thrift/", import.meta.url));
const version = spawnSync("thrift", ["--version"], { encoding: "utf8" });
if (version.status !== 0) {
  console.error("check-thrift-gen: the thrift binary is missing (Debian: apt-get install thrift-compiler)");
  process.exit(1);
}
const PY = fileURLToPath(new URL("../peers/py-thrift/", import.meta.url));
let bad = 0;
/** Compares the generated tree `gen` (in a fresh output dir) with the committed `committedDir`. */
function compare(lang, gen, committedDir, skip) {
  const out = mkdtempSync(join(tmpdir(), "thrift-gen-"));
  try {
    const r = spawnSync("thrift", ["--gen", lang, "-o", out, join(APP, "demo.thrift")], { encoding: "utf8" });
    if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
    const list = (root) => {
      const files = [];
      (function walk(d) {
        for (const e of readdirSync(d)) {
          const p = join(d, e);
          if (statSync(p).isDirectory()) walk(p);
          else if (!skip.includes(e)) files.push(relative(root, p));
        }
      })(root);
      return files.sort();
    };
    const fresh = list(join(out, gen));
    const committed = list(committedDir);
    if (JSON.stringify(fresh) !== JSON.stringify(committed)) {
      console.error(`check-thrift-gen: ${gen} files differ: committed ${committed.join(",")} vs generated ${fresh.join(",")}`);
      bad++;
    }
    for (const f of fresh) {
      if (!committed.includes(f)) continue;
      if (readFileSync(join(committedDir, f), "utf8") !== readFileSync(join(out, gen, f), "utf8")) {
        console.error(`check-thrift-gen: ${gen}/${f} differs from the compiler's output: regenerate it`);
        bad++;
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
compare("js:node", "gen-nodejs", join(APP, "gen-nodejs"), ["package.json"]);
compare("py", "gen-py", join(PY, "gen-py"), ["Greeter-remote"]);
if (bad) process.exit(1);
console.log(`check-thrift-gen: gen-nodejs and gen-py match ${version.stdout.trim()} output for demo.thrift`);

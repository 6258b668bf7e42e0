#!/usr/bin/env node
// The AssemblyScript specs (as-pect), all of them or those whose path contains an argument:
//   npm run test:spec                   every spec
//   npm run test:spec -- conformance/mything   one protocol's conformance suite
//   npm run test:spec -- regex config   the regex and config specs
// Generates the fixtures and vectors the specs read first.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
for (const s of ["gen-config-fixtures.mjs", "gen-dubbo-vectors.mjs", "gen-thrift-vectors.mjs"]) {
  const r = spawnSync(process.execPath, [join(root, "scripts", s)], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const filters = process.argv.slice(2);
const env = { ...process.env };
if (filters.length) {
  const specs = [];
  (function walk(dir) {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith(".spec.ts")) specs.push(relative(root, p));
    }
  })(join(root, "tests/spec"));
  const chosen = specs.filter((f) => filters.some((x) => f.includes(x)));
  if (!chosen.length) { console.error(`test-spec: no spec matches ${filters.join(", ")}`); process.exit(1); }
  env.SPEC_FILES = chosen.join(",");
}
const r = spawnSync(join(root, "node_modules/.bin/asp"), ["--config", "as-pect.config.js"], { cwd: root, stdio: "inherit", env });
process.exit(r.status ?? 1);

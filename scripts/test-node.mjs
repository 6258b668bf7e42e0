#!/usr/bin/env node
// Runs the node test files (tests/**/*.test.ts) with Node's test runner. Node 20's --test
// does not expand globs, so the files are listed here. Extra args filter by path substring.
// Suites that need more than Node and Envoy (Go services, Java/Go peers, Kubernetes and Istio
// builds) live in folders of their own and run only when a filter names them:
//   npm test                        everything else, in the local host and real Envoy
//   node scripts/test-node.mjs tests/services/    (npm run test:services)
import { readdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
/** Folders whose suites have their own npm script (README: "Slower suites"). */
const OWN_SCRIPT = ["tests/services/", "tests/mesh/", "tests/java/"];
// So have the real-stack peers (tests/peers/*.peers.test.ts: Java, Go, Python builds): npm run test:peers.
const OWN_SCRIPT_FILES = ".peers.test.ts";
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) { if (e !== "fixtures" && e !== "spec") walk(p); }
    else if (e.endsWith(".test.ts")) files.push(relative(root, p));
  }
})(join(root, "tests"));
const chosen = files.sort().filter((f) => filters.length
  ? filters.some((x) => f.includes(x))
  : !OWN_SCRIPT.some((d) => f.startsWith(d)) && !f.endsWith(OWN_SCRIPT_FILES));
if (!chosen.length) { console.error("test-node: no test files matched"); process.exit(1); }
// The e2e suites run in real Envoy too (PROXIES, default local,envoy): get the pinned release
// once here, so a missing Envoy fails with one clear message instead of in every suite.
if ((process.env.PROXIES ?? "local,envoy").split(",").includes("envoy")) {
  const got = spawnSync(process.execPath, ["--import", "tsx", "envoy-dev/proxy/get.ts"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  if (got.status !== 0) {
    console.error("test-node: real Envoy is needed (PROXIES=local runs the local host only)");
    process.exit(1);
  }
}
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...chosen],
  { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);

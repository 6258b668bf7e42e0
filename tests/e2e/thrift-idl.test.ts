// envoy-dev/apps/thrift/gen-nodejs is committed so `npm test` runs on a fresh machine; this
// test proves it is exactly what Debian's thrift-compiler makes from demo.thrift. CI installs
// the compiler (Debian package thrift-compiler); there, its absence is a failure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const APP = fileURLToPath(new URL("../../envoy-dev/apps/thrift/", import.meta.url));
const hasThrift = spawnSync("thrift", ["--version"]).status === 0;
const inCI = process.env.CI === "true";

test("gen-nodejs matches thrift --gen js:node of demo.thrift", { skip: !hasThrift && !inCI ? "thrift-compiler not installed (CI installs it)" : false }, () => {
  assert.ok(hasThrift, "the thrift binary (Debian package thrift-compiler) is required in CI");
  const out = mkdtempSync(join(tmpdir(), "thrift-gen-"));
  try {
    const r = spawnSync("thrift", ["--gen", "js:node", "-o", out, join(APP, "demo.thrift")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const fresh = readdirSync(join(out, "gen-nodejs")).sort();
    const committed = readdirSync(join(APP, "gen-nodejs")).filter((f) => f !== "package.json").sort();
    assert.deepEqual(committed, fresh);
    for (const f of fresh) {
      assert.equal(readFileSync(join(APP, "gen-nodejs", f), "utf8"), readFileSync(join(out, "gen-nodejs", f), "utf8"), `${f} differs: regenerate it`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

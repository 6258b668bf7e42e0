// The controller ships as one esbuild file (the image runs it): build it the way
// `npm run build:controller` does, into a temp dir, and render a golden case with the bundle alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURES } from "./fixtures.js";

const ROOT = new URL("../../", import.meta.url).pathname;

test("the one-file bundle renders the golden Dubbo objects without the source tree", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const dir = mkdtempSync(join(tmpdir(), "mpw-bundle-"));
  try {
    const out = join(dir, "metaprotocol-wasm.js");
    // The same esbuild command as the npm script, with only the output path changed.
    const cmd = pkg.scripts["build:controller"].replace("--outfile=dist/metaprotocol-wasm.js", `--outfile=${out}`);
    assert.notEqual(cmd, pkg.scripts["build:controller"], "build:controller must name its --outfile");
    const b = spawnSync(cmd, { cwd: ROOT, shell: true, encoding: "utf8", timeout: 120_000,
      env: { ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}` } });
    assert.equal(b.status, 0, b.stderr);
    assert.ok(statSync(out).size > 0);
    // Run from the temp dir so nothing resolves from the repo's node_modules.
    const r = spawnSync(process.execPath, [out, "render", "-f", `${FIXTURES}dubbo-demo/input.yaml`], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(`${FIXTURES}dubbo-demo/expected.yaml`, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

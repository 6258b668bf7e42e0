// The controller ships as one esbuild file (the image runs it): build it the way
// `npm run build:controller` does, into a temp dir laid out as controller/Dockerfile lays out
// /app (the bundle, node_modules/re2-wasm, wasm/*.wasm), and render golden cases from there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURES } from "./fixtures.js";

const ROOT = new URL("../../", import.meta.url).pathname;

test("the one-file bundle renders the golden cases without the source tree, RE2 and the module check included", () => {
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
    cpSync(join(ROOT, "node_modules/re2-wasm"), join(dir, "node_modules/re2-wasm"), { recursive: true });
    for (const m of ["dubbo", "thrift", "awesomerpc"]) cpSync(join(ROOT, "build", `${m}.wasm`), join(dir, "wasm", `${m}.wasm`));
    // Run from the temp dir so nothing resolves from the repo's node_modules.
    const render = (fixture: string, ...extra: string[]) => spawnSync(process.execPath, [out, "render", ...extra, "-f", `${FIXTURES}${fixture}/input.yaml`],
      { cwd: dir, encoding: "utf8", timeout: 60_000, env: { ...process.env, METAPROTOCOL_WASM_DIR: join(dir, "wasm") } });
    const r = render("dubbo-demo");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(`${FIXTURES}dubbo-demo/expected.yaml`, "utf8"));
    // Regexes: checked by RE2 (re2-wasm beside the bundle) and by the module, both from /app.
    const t = render("thrift-demo");
    assert.equal(t.status, 0, t.stderr);
    assert.equal(t.stdout, readFileSync(`${FIXTURES}thrift-demo/expected.yaml`, "utf8"));
    const bad = render("bad-input", "--strict");
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /spec\.routes\[0\]\.match\.attributes\.interface\.regex/);
    assert.doesNotMatch(bad.stderr, /RE2 is not available|cannot be read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

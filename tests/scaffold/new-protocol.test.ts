// The promise to protocol authors, checked end to end: `npm run new-protocol <name>` makes a
// module that builds and passes the conformance suite. Everything generated (files, the
// asconfig.json target, the .wasm) is removed afterwards, also when a step fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NAME = `scaffoldt${process.pid}`;

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", timeout: 240_000 });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

test("new-protocol scaffolds a module that builds and passes the conformance suite", { timeout: 300_000 }, () => {
  const asconfigBefore = readFileSync(join(ROOT, "asconfig.json"), "utf8");
  const tmp = mkdtempSync(join(tmpdir(), "scaffold-"));
  try {
    const gen = run(process.execPath, ["scripts/new-protocol.mjs", NAME]);
    assert.equal(gen.status, 0, gen.out);
    for (const f of [`assembly/protocols/${NAME}/codec.ts`, `assembly/protocols/${NAME}/index.ts`,
      `tests/spec/conformance/${NAME}.frames.ts`, `tests/spec/conformance/${NAME}.spec.ts`]) {
      assert.ok(existsSync(join(ROOT, f)), `${f} generated`);
    }
    assert.equal(JSON.parse(readFileSync(join(ROOT, "asconfig.json"), "utf8")).targets[NAME].outFile, `build/${NAME}.wasm`);
    assert.equal(run(process.execPath, ["scripts/new-protocol.mjs", NAME]).status, 1, "refuses to overwrite");

    const build = run(process.execPath, ["scripts/build.mjs", NAME]);
    assert.equal(build.status, 0, build.out);
    assert.ok(existsSync(join(ROOT, "build", `${NAME}.wasm`)));

    // One protocol's conformance suite alone, as the guide tells authors to run it.
    const spec = run(process.execPath, ["scripts/test-spec.mjs", `conformance/${NAME}`]);
    assert.equal(spec.status, 0, spec.out.slice(-3000));
    assert.match(spec.out, /\[Tests\]: .*13.* \/ 13/);

    // Editing the generated code (the author's job) does not stop --remove.
    const codec = join(ROOT, "assembly/protocols", NAME, "codec.ts");
    writeFileSync(codec, readFileSync(codec, "utf8") + "\n// the author's change\n");
  } finally {
    const rm = run(process.execPath, ["scripts/new-protocol.mjs", "--remove", NAME]);
    rmSync(tmp, { recursive: true, force: true });
    assert.equal(rm.status, 0, rm.out);
  }
  assert.equal(readFileSync(join(ROOT, "asconfig.json"), "utf8"), asconfigBefore, "asconfig.json restored");
  assert.ok(!existsSync(join(ROOT, "assembly/protocols", NAME)));
  assert.ok(!existsSync(join(ROOT, "tests/spec/conformance", `${NAME}.spec.ts`)));
  assert.ok(!existsSync(join(ROOT, "build", `${NAME}.wasm`)));
});

test("new-protocol refuses names the ApplicationProtocol CRD and port names would refuse", () => {
  for (const bad of ["my_proto", "my-proto", "Proto", "9lives"]) {
    const r = run(process.execPath, ["scripts/new-protocol.mjs", bad]);
    assert.equal(r.status, 2, `${bad}: ${r.out}`);
    assert.match(r.out, /lowercase letters and digits/);
  }
});

test("new-protocol --remove keeps a module directory holding files it did not make, unless --force", () => {
  const name = `scaffoldk${process.pid}`;
  const asconfigBefore = readFileSync(join(ROOT, "asconfig.json"), "utf8");
  const extra = join(ROOT, "assembly/protocols", name, "wire.ts");
  try {
    const gen = run(process.execPath, ["scripts/new-protocol.mjs", name]);
    assert.equal(gen.status, 0, gen.out);
    writeFileSync(extra, "// the author's own work\n");
    const rm = run(process.execPath, ["scripts/new-protocol.mjs", "--remove", name]);
    assert.equal(rm.status, 1, rm.out);
    assert.match(rm.out, /wire\.ts/);
    assert.match(rm.out, /--force/);
    assert.ok(existsSync(extra), "the author's file survived");
    const forced = run(process.execPath, ["scripts/new-protocol.mjs", "--remove", name, "--force"]);
    assert.equal(forced.status, 0, forced.out);
    assert.ok(!existsSync(extra));
  } finally {
    rmSync(extra, { force: true });
    run(process.execPath, ["scripts/new-protocol.mjs", "--remove", name, "--force"]);
  }
  assert.equal(readFileSync(join(ROOT, "asconfig.json"), "utf8"), asconfigBefore, "asconfig.json restored");
  assert.ok(!existsSync(join(ROOT, "assembly/protocols", name)));
});

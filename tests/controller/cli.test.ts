// The offline mode as CI uses it: `metaprotocol-wasm render -f ...` through the bin launcher.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { FIXTURES } from "./fixtures.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [`${ROOT}controller/bin/metaprotocol-wasm.mjs`, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

test("render prints the golden objects and exits 0", () => {
  const r = run("render", "-f", `${FIXTURES}dubbo-demo/input.yaml`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(`${FIXTURES}dubbo-demo/expected.yaml`, "utf8"));
  assert.match(r.stderr, /Accepted=True/);
});

test("render --strict exits 2 on bad input and names the field on stderr", () => {
  const r = run("render", "--strict", "-f", `${FIXTURES}bad-input/input.yaml`);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /spec\.routes\[0\]\.match\.attributes\.interface\.regex/);
});

test("render with no files prints usage and fails", () => {
  const r = run("render");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /usage:/);
});

// Envoy links every ABI function with its exact type; the host refuses what Envoy would refuse,
// so a module with a wrong signature cannot pass here and then fail to load in Envoy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tryConfigure } from "../../envoy-dev/host/index.ts";
import { checkSignatures, functionSignatures } from "../../envoy-dev/host/wasm-signatures.ts";
import { compileFixture, echoServer, proxyWith, yamlFor } from "./helpers.ts";
import { proxyKinds } from "../support/proxies.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

test("an import with a 32-bit metric delta is refused, naming the function and both types", async () => {
  const wasm = compileFixture("bad-import-signature");
  assert.throws(() => checkSignatures(readFileSync(wasm)),
    /import env\.proxy_increment_metric is \(i32, i32\) -> i32, ABI 0\.2\.1 says \(i32, i64\) -> i32/);
  await assert.rejects(tryConfigure(wasm, "{}"), /bad signature: import env\.proxy_increment_metric/);
});

test("a callback with the wrong result type is refused", () => {
  const wasm = compileFixture("bad-export-signature");
  assert.throws(() => checkSignatures(readFileSync(wasm)), /export proxy_on_tick is \(i32\) -> i32, ABI 0\.2\.1 says \(i32\) -> nothing/);
});

test("the project's modules have exactly the ABI's types", () => {
  for (const m of ["dubbo", "thrift", "awesomerpc"]) {
    const bytes = readFileSync(join(ROOT, "build", `${m}.wasm`));
    checkSignatures(bytes);
    const { imports, exports } = functionSignatures(bytes);
    assert.equal(imports.get("env.proxy_increment_metric"), "(i32, i64) -> i32", m);
    assert.equal(exports.get("proxy_on_downstream_data"), "(i32, i32, i32) -> i32", m);
    assert.equal(exports.get("proxy_on_context_create"), "(i32, i32) -> nothing", m);
  }
});

// Real Envoy refuses both modules at load, naming the function and the types (Envoy 1.40).
if (proxyKinds().includes("envoy")) {
  test("Envoy refuses the same modules at load", async () => {
    const up = await echoServer();
    try {
      await assert.rejects(proxyWith("envoy", yamlFor({ wasm: "bad-import-signature.wasm" }, { echo: [up.port] })),
        /import type mismatch: env\.proxy_increment_metric, want: i32 i32 -> i32, but host exports: i32 i64 -> i32/);
      await assert.rejects(proxyWith("envoy", yamlFor({ wasm: "bad-export-signature.wasm" }, { echo: [up.port] })),
        /Bad function signature for: proxy_on_tick, want: i32 -> void, but the module exports: i32 -> i32/);
    } finally { await up.close(); }
  });
}

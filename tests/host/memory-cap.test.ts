// How large a VM's linear memory may grow, in real Envoy and in the local host. Envoy's V8 runs
// with wasm_max_mem_pages = 1 GiB / 64 KiB (proxy-wasm-cpp-host limits.h): beyond it
// memory.grow fails, and AssemblyScript's allocator traps. The module's held-bytes budget is
// sized against this ceiling, so the local host must have the same one.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { compileFixture, echoServer, yamlFor, proxyWith, waitLog, moduleLines, type Upstream } from "./helpers.ts";

let up: Upstream;
before(async () => { compileFixture("probe"); up = await echoServer(); });
after(async () => { await up.close(); });

eachProxy("Wasm memory ceiling", (kind) => {
  test("memory.grow stops at 1 GiB (16384 pages)", async () => {
    const p = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "grow-memory" }, { echo: [up.port] }));
    try {
      await waitLog(p, "probe: memory pages max=", 20_000);
      // Envoy runs one VM per worker and one on the main thread: each says the same.
      assert.deepEqual([...new Set(moduleLines(p, "probe: memory pages max="))], ["probe: memory pages max=16384"]);
    } finally { await p.close(); }
  });
});

// Loading like Envoy, in real Envoy and in the local host: forbidden imports refused by name,
// the start-up restriction, config refusal (start fails with the module's log lines), and
// config updates (Envoy: ECDS) with the previous config serving when one is refused.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { eachProxy, test } from "../support/proxies.ts";
import { tryConfigure } from "../../envoy-dev/host/index.ts";
import { compileFixture, echoServer, client, yamlFor, proxyWith, WASM_DIR, type Upstream } from "./helpers.ts";

let up: Upstream;
before(async () => {
  compileFixture("probe");
  compileFixture("startup-call");
  compileFixture("default-abort", { defaultAbort: true });
  up = await echoServer();
});
after(async () => { await up.close(); });

eachProxy("loading a module", (kind) => {
  test("a module importing env.abort is refused at load, naming the import", async () => {
    await assert.rejects(proxyWith(kind, yamlFor({ wasm: "default-abort.wasm" }, { echo: [up.port] })), /missing import: env\.abort/);
  });

  // The local host refuses the module with a message; Envoy 1.40 crashes (SIGSEGV while loading
  // the listener, seen in this test), which is why the local host checks this at all.
  test("start-up restriction: a host call other than proxy_log during start fails the VM (Envoy 1.40 crashes)", async () => {
    await assert.rejects(proxyWith(kind, yamlFor({ wasm: "startup-call.wasm" }, { echo: [up.port] })),
      kind === "local" ? /proxy_define_metric is prohibited during VM start-up/ : /Caught Segmentation fault/);
  });

  test("on_configure returning false refuses the config; the error carries the module's log", async () => {
    await assert.rejects(proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "refuse please" }, { echo: [up.port] })),
      (e: Error) => /configur/.test(e.message) && /probe: config refused: refuse please/.test(e.message));
  });

  test("a config update: a refused one leaves the previous config serving; an accepted one serves new connections only", async () => {
    const p = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "refuse" }, { echo: [up.port] }),
      { pluginConfig: { probe: "accumulate" }, reconfigurable: ["probe"] });
    try {
      assert.equal(await p.reconfigure("probe", "refuse now"), false);
      // The old config (accumulate) still serves: a line without \n is held back.
      const c = await client(p.listeners.probe.port);
      c.send("ab");
      await assert.rejects(c.waitFor((b) => b.length > 0, 300), /timeout/);
      c.send("\n");
      assert.equal((await c.waitFor((b) => b.length >= 3)).toString(), "ab\n");
      assert.equal(await p.reconfigure("probe", "tail"), true);
      // New connections get the new config; the old connection keeps its own.
      const d = await client(p.listeners.probe.port);
      d.send("x\ny");
      assert.equal((await d.waitFor((b) => b.length >= 4)).toString(), "<x>\n");
      c.send("q\n");
      assert.equal((await c.waitFor((b) => b.length >= 5)).toString(), "ab\nq\n");
      c.socket.destroy(); d.socket.destroy();
    } finally { await p.close(); }
  });
});

test("tryConfigure (local host) runs vm_start + configure in a fresh VM", async () => {
  const wasm = join(WASM_DIR, "probe.wasm");
  const ok = await tryConfigure(wasm, "fine");
  assert.equal(ok.accepted, true);
  assert.ok(ok.logs.some((l) => l.includes("probe: configured fine")));
  const no = await tryConfigure(wasm, "refuse this");
  assert.equal(no.accepted, false);
  assert.ok(no.logs.some((l) => l.includes("probe: config refused: refuse this")));
  await assert.rejects(tryConfigure(join(WASM_DIR, "default-abort.wasm"), "{}"), /missing import: env\.abort/);
});

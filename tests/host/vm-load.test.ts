// Loading like Envoy: forbidden imports refused by name, the start-up restriction, config
// refusal (startHost rejects with the module's log lines), tryConfigure, reconfigure.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startHost, tryConfigure } from "../../envoy-dev/host/index.ts";
import { compileFixture, echoServer, client, tmpYaml, yamlFor, WASM_DIR, type Upstream } from "./helpers.ts";

let up: Upstream;
before(async () => {
  compileFixture("probe");
  compileFixture("startup-call");
  compileFixture("default-abort", { defaultAbort: true });
  up = await echoServer();
});
after(async () => { await up.close(); });

test("a module importing env.abort is refused at load, naming the import", async () => {
  await assert.rejects(
    startHost({ configPath: tmpYaml(yamlFor({ wasm: "default-abort.wasm" }, { echo: [up.port] })), wasmDir: WASM_DIR }),
    /missing import: env\.abort/);
  await assert.rejects(tryConfigure(join(WASM_DIR, "default-abort.wasm"), "{}"), /missing import: env\.abort/);
});

test("start-up restriction: a host call other than proxy_log during start fails the VM", async () => {
  await assert.rejects(
    startHost({ configPath: tmpYaml(yamlFor({ wasm: "startup-call.wasm" }, { echo: [up.port] })), wasmDir: WASM_DIR }),
    /proxy_define_metric is prohibited during VM start-up/);
});

test("on_configure returning false refuses the config; the error carries the module's log", async () => {
  await assert.rejects(
    startHost({ configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "refuse please" }, { echo: [up.port] })), wasmDir: WASM_DIR }),
    (e: Error) => /configuration refused/.test(e.message) && /probe: config refused: refuse please/.test(e.message));
});

test("tryConfigure runs vm_start + configure in a fresh VM", async () => {
  const wasm = join(WASM_DIR, "probe.wasm");
  const ok = await tryConfigure(wasm, "fine");
  assert.equal(ok.accepted, true);
  assert.ok(ok.logs.some((l) => l.includes("probe: configured fine")));
  const no = await tryConfigure(wasm, "refuse this");
  assert.equal(no.accepted, false);
  assert.ok(no.logs.some((l) => l.includes("probe: config refused: refuse this")));
});

test("pluginConfig overrides the YAML configuration; reconfigure follows Envoy's update rules", async () => {
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "refuse" }, { echo: [up.port] })),
    wasmDir: WASM_DIR,
    pluginConfig: { probe: "accumulate" },
  });
  try {
    assert.equal(host.reconfigure("probe", "refuse now"), false);
    // The old config (accumulate) still serves: a line without \n is held back.
    const c = await client(host.listeners.probe.port);
    c.send("ab");
    await assert.rejects(c.waitFor((b) => b.length > 0, 200), /timeout/);
    c.send("\n");
    assert.equal((await c.waitFor((b) => b.length >= 3)).toString(), "ab\n");
    assert.equal(host.reconfigure("probe", "tail"), true);
    // New connections get the new root context; the old connection keeps its own.
    const d = await client(host.listeners.probe.port);
    d.send("x\ny");
    assert.equal((await d.waitFor((b) => b.length >= 4)).toString(), "<x>\n");
    c.send("q\n");
    assert.equal((await c.waitFor((b) => b.length >= 5)).toString(), "ab\nq\n");
    c.socket.destroy(); d.socket.destroy();
  } finally { await host.close(); }
});

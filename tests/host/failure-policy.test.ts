// A trap fails the VM. FAIL_CLOSED: that connection and every later one on the listener are
// closed (counted). FAIL_OPEN: traffic passes without the filter. FAIL_RELOAD: a fresh VM.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHost, type Host } from "../../envoy-dev/host/index.ts";
import { compileFixture, echoServer, client, tmpYaml, yamlFor, WASM_DIR, type Upstream } from "./helpers.ts";

let up: Upstream;
before(async () => { compileFixture("probe"); up = await echoServer(); });
after(async () => { await up.close(); });

function hostWith(policy: string): Promise<Host> {
  return startHost({ configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "trap", failurePolicy: policy }, { echo: [up.port] })), wasmDir: WASM_DIR });
}

async function trapOnce(host: Host): Promise<void> {
  const c = await client(host.listeners.probe.port);
  c.send("ok1");
  assert.equal((await c.waitFor((b) => b.length >= 3)).toString(), "ok1");
  c.send("TRAP");
  await c.closed; // the trapping connection is closed
  assert.equal(c.received().toString(), "ok1");
}

test("FAIL_CLOSED: the trap closes the connection; later connections are closed at once", async () => {
  const host = await hostWith("FAIL_CLOSED");
  try {
    await trapOnce(host);
    assert.ok(host.logs.some((l) => l.includes("Wasm VM failed: proxy_on_downstream_data") && l.includes("unreachable")), host.logs.join("\n"));
    for (let i = 0; i < 2; i++) {
      const c = await client(host.listeners.probe.port);
      c.send("hello");
      await c.closed;
      assert.equal(c.received().length, 0);
    }
    assert.equal(host.stats().get("wasm.plugin.probe-plugin.vm_failed"), 1);
    assert.equal(host.stats().get("wasm.plugin.probe-plugin.fail_closed"), 2);
  } finally { await host.close(); }
});

test("FAIL_OPEN: after the trap, traffic passes through without the filter", async () => {
  const host = await hostWith("FAIL_OPEN");
  try {
    const c = await client(host.listeners.probe.port);
    c.send("TRAP");
    // The failing connection itself continues without the filter.
    assert.equal((await c.waitFor((b) => b.length >= 4)).toString(), "TRAP");
    const d = await client(host.listeners.probe.port);
    d.send("TRAP again");
    assert.equal((await d.waitFor((b) => b.length >= 10)).toString(), "TRAP again");
    assert.equal(host.stats().get("wasm.plugin.probe-plugin.fail_open"), 1);
    c.socket.destroy(); d.socket.destroy();
  } finally { await host.close(); }
});

test("FAIL_RELOAD: new connections get a fresh VM that runs the filter again", async () => {
  const host = await hostWith("FAIL_RELOAD");
  try {
    await trapOnce(host);
    const d = await client(host.listeners.probe.port);
    d.send("fine");
    assert.equal((await d.waitFor((b) => b.length >= 4)).toString(), "fine");
    d.send("TRAP");
    await d.closed; // the new VM runs the module again, so the trap happens again
    assert.equal(host.stats().get("wasm.plugin.probe-plugin.vm_reloaded"), 1);
    assert.equal(host.stats().get("wasm.plugin.probe-plugin.vm_failed"), 2);
    assert.equal(host.stats().get("wasm.envoy.wasm.runtime.v8.created"), 2);
  } finally { await host.close(); }
});

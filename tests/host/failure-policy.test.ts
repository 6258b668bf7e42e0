// A trap fails the VM, and under every policy the trapping connection is closed with none of
// that callback's bytes forwarded (Envoy 1.40's cpp-host reads only the legacy fail_open flag
// for the stream). The policy decides what NEW connections get: FAIL_CLOSED closes them,
// FAIL_OPEN lets them pass without the filter, FAIL_RELOAD closes them until its backoff has
// passed and then loads a fresh VM. In real Envoy and in the local host. Envoy runs one VM per
// worker (--concurrency 1 here, so every later connection meets the failed VM, as it would on
// one worker of many).
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import type { Proxy } from "../../envoy-dev/proxy/index.ts";
import { compileFixture, echoServer, client, yamlFor, proxyWith, sleep, type Upstream } from "./helpers.ts";

let up: Upstream;
before(async () => { compileFixture("probe"); up = await echoServer(); });
after(async () => { await up.close(); });

async function trapOnce(p: Proxy): Promise<void> {
  const c = await client(p.listeners.probe.port);
  c.send("ok1");
  assert.equal((await c.waitFor((b) => b.length >= 3)).toString(), "ok1");
  c.send("TRAP");
  await c.closed; // the trapping connection is closed
  assert.equal(c.received().toString(), "ok1");
}

eachProxy("failure policy", (kind) => {
  const withPolicy = (policy: string, reloadBaseMs?: number) =>
    proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "trap", failurePolicy: policy, reloadBaseMs }, { echo: [up.port] }), { concurrency: 1 });

  test("FAIL_CLOSED: the trap closes the connection; later connections are closed at once", async () => {
    const p = await withPolicy("FAIL_CLOSED");
    try {
      await trapOnce(p);
      assert.ok(p.vmFailures().some((l) => /proxy_on_downstream_data/.test(l)), p.logs().slice(-10).join("\n"));
      for (let i = 0; i < 2; i++) {
        const c = await client(p.listeners.probe.port);
        c.send("hello");
        await c.closed;
        assert.equal(c.received().length, 0);
      }
    } finally { await p.close(); }
  });

  test("FAIL_OPEN: the trapping connection is closed; later connections pass without the filter", async () => {
    const p = await withPolicy("FAIL_OPEN");
    try {
      await trapOnce(p);
      const d = await client(p.listeners.probe.port);
      d.send("TRAP again");
      assert.equal((await d.waitFor((b) => b.length >= 10)).toString(), "TRAP again");
      d.socket.destroy();
    } finally { await p.close(); }
  });

  test("FAIL_RELOAD: new connections are closed during the backoff, then get a fresh VM", async () => {
    const p = await withPolicy("FAIL_RELOAD", 300);
    try {
      await sleep(500); // past the backoff of the first load
      await trapOnce(p);
      // The trap's connection was the first to meet the failed VM: the VM reloads for the next one.
      const d = await client(p.listeners.probe.port);
      d.send("fine");
      assert.equal((await d.waitFor((b) => b.length >= 4)).toString(), "fine");
      d.send("TRAP");
      await d.closed; // the new VM runs the module again, so the trap happens again
      // Within the backoff (0.3..0.45 s since that load) a new connection meets the failed VM.
      const e = await client(p.listeners.probe.port);
      e.send("early");
      await e.closed;
      assert.equal(e.received().length, 0);
      assert.equal(await p.stat("envoy_wasm_probe_plugin_vm_reload_success"), 1);
      assert.ok((await p.stat("envoy_wasm_probe_plugin_vm_reload_backoff")) >= 1);
      await sleep(500);
      const f = await client(p.listeners.probe.port);
      f.send("later");
      assert.equal((await f.waitFor((b) => b.length >= 5)).toString(), "later");
      assert.equal(await p.stat("envoy_wasm_probe_plugin_vm_reload_success"), 2);
      f.socket.destroy();
    } finally { await p.close(); }
  });
});

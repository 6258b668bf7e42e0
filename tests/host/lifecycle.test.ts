// Connection lifecycle and the write path: close callbacks and their order, upstream close
// flushing to the client, PAUSE on upstream data, close_stream, the 1 MiB read limit, and
// connection properties. In real Envoy and in the local host.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { eachProxy, test } from "../support/proxies.ts";
import { compileFixture, echoServer, client, yamlFor, waitLog, moduleLines, proxyWith, until, sleep, type Upstream } from "./helpers.ts";

let echo: Upstream;
before(async () => { compileFixture("probe"); echo = await echoServer(); });
after(async () => { await echo.close(); });

/** An upstream that answers the first bytes with `parts`, spaced in time, then closes. */
async function scripted(parts: string[], gapMs: number): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => {
    s.on("error", () => {});
    s.once("data", async () => {
      for (const p of parts) { s.write(p); await sleep(gapMs); }
      s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

eachProxy("lifecycle", (kind) => {
  test("client FIN: tcp_proxy relays the half-close, the echo upstream ends, the close is local (peer=1); then done/log/delete", async () => {
    const host = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "lifecycle" }, { echo: [echo.port] }));
    try {
      const c = await client(host.listeners.probe.port);
      c.send("x"); await c.waitFor((b) => b.length === 1);
      c.socket.end();
      await waitLog(host, "probe: on_log");
      const lines = moduleLines(host, "probe: ").filter((l) => l.startsWith("probe: downstream close") || l.startsWith("probe: on_log"));
      assert.match(lines[0], /downstream close peer=1/);
      assert.match(lines[1], /on_log/);
    } finally { await host.close(); }
  });

  test("client reset: the close is remote (peer=2)", async () => {
    const host = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "lifecycle" }, { echo: [echo.port] }));
    try {
      const c = await client(host.listeners.probe.port);
      c.send("x"); await c.waitFor((b) => b.length === 1);
      c.socket.resetAndDestroy();
      await waitLog(host, "probe: on_log");
      assert.deepEqual(moduleLines(host, "probe: downstream close"), ["probe: downstream close peer=2"]);
    } finally { await host.close(); }
  });

  test("upstream PAUSE holds bytes until a later callback continues; upstream close reaches the client after the flush", async () => {
    const up = await scripted(["ab", "c", "d\n"], 40);
    const host = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "hold-up" }, { s: [up.port] }));
    try {
      const c = await client(host.listeners.probe.port);
      c.send("go");
      await waitLog(host, "probe: upstream size=3");
      assert.equal(c.received().length, 0, "paused bytes must not reach the client");
      await c.closed; // upstream ended: downstream closed after what was queued is written
      assert.equal(c.received().toString(), "abcd\n");
      const sizes = host.logs().filter((l) => l.includes("probe: upstream size=")).map((l) => l.split("=")[1]);
      assert.deepEqual(sizes.slice(0, 3), ["2", "3", "5"]);
      await waitLog(host, "probe: upstream close peer=0");
    } finally { await host.close(); up.server.close(); }
  });

  test("close_stream(DOWNSTREAM) closes the client (peer=local); continue_stream(UPSTREAM) is UNIMPLEMENTED", async () => {
    const host = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "closer" }, { echo: [echo.port] }));
    try {
      const c = await client(host.listeners.probe.port);
      c.send("hi"); await c.waitFor((b) => b.length === 2);
      c.send("QUIT");
      await c.closed;
      assert.equal(c.received().toString(), "hi");
      await waitLog(host, "probe: downstream close peer=1");
      assert.ok(host.logs().some((l) => l.includes("probe: close_stream=0 continue_up=12")));
    } finally { await host.close(); }
  });

  test("above the 1 MiB read buffer the host stops reading: a filter waiting for more stalls", async () => {
    const host = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "accumulate" }, { echo: [echo.port] }));
    try {
      const c = await client(host.listeners.probe.port);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 0; i < 48; i++) c.socket.write(chunk); // 3 MiB, no newline
      const sizesSeen = () => host.logs().filter((l) => l.includes("probe: downstream size=")).map((l) => Number(/size=(\d+)/.exec(l)![1]));
      await until(() => Math.max(0, ...sizesSeen()) > 1024 * 1024, "the buffer to pass 1 MiB");
      // Then nothing more is read: the count of callbacks stays put.
      const n = sizesSeen().length;
      await sleep(300);
      const sizes = sizesSeen();
      assert.equal(sizes.length, n);
      const max = Math.max(...sizes);
      assert.ok(max > 1024 * 1024 && max < 1024 * 1024 + 256 * 1024, `largest buffer seen ${max}`);
      assert.equal(c.received().length, 0);
      c.socket.destroy();
    } finally { await host.close(); }
  });

  test("properties: source/destination address, plugin name; xds.cluster_name only once picked", async () => {
    const host = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "pause-new route properties" }, { echo: [echo.port] }));
    try {
      const c = await client(host.listeners.probe.port);
      c.send("echo\nz");
      await c.waitFor((b) => b.length === 1);
      await waitLog(host, "probe: src=");
      assert.deepEqual(moduleLines(host, "probe: src="), [`probe: src=127.0.0.1:${c.socket.localPort} dst=127.0.0.1:${host.listeners.probe.port} plugin=probe-plugin cluster=<status 1>`]);
      await until(() => host.logs().some((l) => l.includes("probe: cluster after set=")), "cluster log");
      // tcp_proxy picks the cluster after the callback returns CONTINUE, so inside it the property is still absent.
      assert.ok(host.logs().some((l) => l.includes("probe: cluster after set=<status 1>")));
      c.socket.destroy();
    } finally { await host.close(); }
  });
});

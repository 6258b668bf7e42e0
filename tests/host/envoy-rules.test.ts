// Envoy rules that decide whether a module that works in the local host also works in Envoy:
// when tcp_proxy disables reading and picks its route, what a trapping callback does, how
// properties resolve, the buffer pointer Envoy keeps after a PAUSE, and get/set_buffer_bytes at
// their edges. Each test runs in real Envoy and in the local host and asserts the same outcome:
// where they differed, Envoy's behaviour (seen in Envoy 1.40) is what the expectation says.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { eachProxy, test } from "../support/proxies.ts";
import { clusterSeries } from "../../envoy-dev/proxy/prometheus.ts";
import { compileFixture, echoServer, client, yamlFor, waitLog, moduleLines, proxyWith, until, sleep, type Upstream } from "./helpers.ts";

let a: Upstream, b: Upstream;
before(async () => {
  compileFixture("probe");
  compileFixture("rules");
  a = await echoServer("A:");
  b = await echoServer("B:");
});
after(async () => { await a.close(); await b.close(); });

const clusters = () => ({ "outbound|1||a.local": [a.port], "outbound|1|v2|b.local": [b.port] });

/** An upstream that never answers and keeps what it received. */
async function sink(): Promise<{ port: number; server: Server; got(): string }> {
  let got = "";
  const server = createServer((s) => { s.on("error", () => {}); s.on("data", (d) => { got += d.toString(); }); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as { port: number }).port, server, got: () => got };
}

eachProxy("Envoy rules", (kind) => {
  test("IMMEDIATE without early data: tcp_proxy disables reading at start, so a filter pausing on_new_connection stalls", async () => {
    const before = a.accepted;
    const p = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "pause-new accumulate", connectMode: "IMMEDIATE" }, clusters()));
    try {
      const c = await client(p.listeners.probe.port);
      c.send("hello\n");
      await sleep(300);
      assert.deepEqual(moduleLines(p, "probe: downstream size="), [], "on_downstream_data ran");
      assert.equal(a.accepted, before, "tcp_proxy was never initialized, so it never connects");
      assert.equal(c.received().length, 0);
      // tcp_proxy counts the connection when the filter chain is created.
      assert.equal(await p.stat('envoy_tcp_downstream_cx_total{envoy_tcp_prefix="probe_tcp"}'), 1);
      c.socket.destroy();
    } finally { await p.close(); }
  });

  test("ON_DOWNSTREAM_DATA picks the route in onNewConnection: filter state set after a CONTINUE there is ignored", async () => {
    const p = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "route" }, clusters())); // no pause-new
    try {
      const c = await client(p.listeners.probe.port);
      c.send("outbound|1|v2|b.local\nping\n");
      assert.equal((await c.waitFor((x) => x.length >= 7)).toString(), "A:ping\n");
      await waitLog(p, "probe: route outbound|1|v2|b.local status=0");
      assert.equal(await p.stat(clusterSeries("upstream_cx_total", "outbound|1|v2|b.local")), 0);
      c.socket.destroy();
    } finally { await p.close(); }
  });

  // proxy-wasm-cpp-host ContextBase::onDownstreamData: a failed VM call makes CHECK_FAIL_NET close
  // the stream and return StopIteration, so none of the trapping callback's bytes are forwarded.
  test("FAIL_CLOSED: a trap closes that connection at once and forwards none of the callback's bytes", async () => {
    const up = await sink();
    const p = await proxyWith(kind, yamlFor({ wasm: "probe.wasm", config: "trap", failurePolicy: "FAIL_CLOSED" }, { s: [up.port] }));
    try {
      const c = await client(p.listeners.probe.port);
      c.send("fine");
      await until(() => up.got() === "fine", "the first bytes to reach the upstream");
      c.send("TRAP");
      await c.closed;
      await sleep(100);
      assert.equal(up.got(), "fine", "the trapping callback's bytes never reach the upstream");
      assert.ok(p.vmFailures().length > 0, "the trap is logged");
    } finally { await p.close(); up.server.close(); }
  });

  // FilterManagerImpl::onWrite stops the write pass once the connection is no longer open, and
  // the module's close_stream takes effect right after its callback: that callback's bytes are dropped.
  test("close_stream inside on_upstream_data: none of that callback's bytes reach the client", async () => {
    const server = createServer((s) => {
      s.on("error", () => {});
      s.once("data", async () => { s.write("hello;"); await sleep(150); s.write("BYE and more"); });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const p = await proxyWith(kind, yamlFor({ wasm: "rules.wasm", config: "close-up" }, { g: [port] }));
    try {
      const c = await client(p.listeners.probe.port);
      c.send("go");
      await c.closed;
      assert.equal(c.received().toString(), "hello;");
      await waitLog(p, "rules: close_stream=0");
    } finally { await p.close(); server.close(); }
  });

  test("properties: set_property(k) reads back as k (not wasm/k); dotted single segments and other filter state are NOT_FOUND", async () => {
    const p = await proxyWith(kind, yamlFor({ wasm: "rules.wasm", config: "props" }, clusters()));
    try {
      const c = await client(p.listeners.probe.port);
      c.send("x");
      await waitLog(p, "rules: set=");
      assert.deepEqual(moduleLines(p, "rules: set="), ["rules: set=0 k=v wasm/k=<status 1> dotted=<status 1> fs=<status 1>"]);
      c.socket.destroy();
    } finally { await p.close(); }
  });

  test("after a PAUSE Envoy keeps the read buffer reachable: DOWNSTREAM_DATA is readable in on_upstream_data", async () => {
    // An upstream that speaks first, once the client's bytes are surely held by the filter.
    const server = createServer((s) => { s.on("error", () => {}); setTimeout(() => s.write("hi"), 100); });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const p = await proxyWith(kind, yamlFor({ wasm: "rules.wasm", config: "hold", connectMode: "IMMEDIATE" }, { g: [port] }));
    try {
      const c = await client(p.listeners.probe.port);
      c.send("held");
      assert.equal((await c.waitFor((x) => x.length >= 2)).toString(), "hi");
      await waitLog(p, "rules: upstream get=");
      assert.deepEqual(moduleLines(p, "rules: upstream get="), ["rules: upstream get=0 data=held"]);
      c.socket.destroy();
    } finally { await p.close(); server.close(); }
  });

  // proxy-wasm-cpp-host exports.cc get_buffer_bytes: start past the end or nothing to copy writes
  // 0/0 and returns OK; Envoy's Context::getBuffer hands out the (empty) data buffer wrapper even
  // outside its callback, so reads there are OK and empty and writes are BAD_ARGUMENT (2).
  test("get/set_buffer_bytes at the edges, inside and outside the data callbacks", async () => {
    const p = await proxyWith(kind, yamlFor({ wasm: "rules.wasm", config: "edges" }, { echo: [a.port] }));
    try {
      const c = await client(p.listeners.probe.port);
      c.send("hello");
      assert.equal((await c.waitFor((x) => x.length >= 7)).toString(), "A:hello");
      await waitLog(p, "rules: downstream");
      assert.deepEqual(moduleLines(p, "rules: new_connection"), ["rules: new_connection down=0/0 up=0/0 set_down=2 type99=2/unset"]);
      assert.deepEqual(moduleLines(p, "rules: downstream"), ["rules: downstream len0=0/0 past=0/0 at_end=0/0 clamp=0/4 up=0/0 set_up=2 set_past=0 set_mid=2"]);
      c.socket.destroy();
    } finally { await p.close(); }
  });
});

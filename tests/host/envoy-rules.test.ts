// Envoy rules that decide whether a module that works here also works in Envoy: when
// tcp_proxy disables reading and picks its route, what a trapping callback returns, how
// properties resolve, and the buffer pointer Envoy keeps after a PAUSE.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { startHost } from "../../envoy-dev/host/index.ts";
import { compileFixture, echoServer, client, tmpYaml, yamlFor, waitLog, until, sleep, WASM_DIR, type Upstream } from "./helpers.ts";

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

test("IMMEDIATE without early data: tcp_proxy disables reading at start, so a filter pausing on_new_connection stalls", async () => {
  const before = a.accepted;
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "pause-new accumulate", connectMode: "IMMEDIATE" }, clusters())),
    wasmDir: WASM_DIR,
  });
  try {
    const c = await client(host.listeners.probe.port);
    c.send("hello\n");
    await sleep(200);
    assert.ok(!host.logs.some((l) => l.includes("probe: downstream size=")), "on_downstream_data ran: " + host.logs.join("\n"));
    assert.equal(a.accepted, before, "tcp_proxy was never initialized, so it never connects");
    assert.equal(c.received().length, 0);
    assert.equal(host.stats().get("tcp.probe_tcp.downstream_cx_total"), 1); // counted when the filter is created
    c.socket.destroy();
  } finally { await host.close(); }
});

test("ON_DOWNSTREAM_DATA picks the route in onNewConnection: filter state set after a CONTINUE there is ignored", async () => {
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "route" }, clusters())), // no pause-new
    wasmDir: WASM_DIR,
  });
  try {
    const c = await client(host.listeners.probe.port);
    c.send("outbound|1|v2|b.local\nping\n");
    assert.equal((await c.waitFor((x) => x.length >= 7)).toString(), "A:ping\n");
    assert.ok(host.logs.some((l) => l.includes("probe: route outbound|1|v2|b.local status=0")));
    assert.equal(host.stats().get("cluster.outbound|1|v2|b.local.upstream_cx_total"), 0);
    c.socket.destroy();
  } finally { await host.close(); }
});

test("a trap returns CONTINUE for that callback (its bytes go upstream); FAIL_CLOSED closes at the next callback", async () => {
  const up = await sink();
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ wasm: "probe.wasm", config: "trap", failurePolicy: "FAIL_CLOSED" }, { s: [up.port] })),
    wasmDir: WASM_DIR,
  });
  try {
    const c = await client(host.listeners.probe.port);
    c.send("TRAP");
    await until(() => up.got() === "TRAP", "the trapping request to reach the upstream");
    assert.equal(c.socket.destroyed, false, "no callback since the trap: the connection is still open");
    c.send("next");
    await c.closed; // CHECK_FAIL in the next on_downstream_data closes it
    await sleep(50);
    assert.equal(up.got(), "TRAP");
  } finally { await host.close(); up.server.close(); }
});

test("properties: set_property(k) reads back as k (not wasm/k); dotted single segments and other filter state are NOT_FOUND", async () => {
  const host = await startHost({ configPath: tmpYaml(yamlFor({ wasm: "rules.wasm", config: "props" }, clusters())), wasmDir: WASM_DIR });
  try {
    const c = await client(host.listeners.probe.port);
    c.send("x");
    await waitLog(host, "rules: set=");
    assert.ok(host.logs.some((l) => l.endsWith("rules: set=0 k=v wasm/k=<status 1> dotted=<status 1> fs=<status 1>")), host.logs.join("\n"));
    c.socket.destroy();
  } finally { await host.close(); }
});

test("after a PAUSE Envoy keeps the read buffer reachable: DOWNSTREAM_DATA is readable in on_upstream_data", async () => {
  // An upstream that speaks first, once the client's bytes are surely held by the filter.
  const server = createServer((s) => { s.on("error", () => {}); setTimeout(() => s.write("hi"), 100); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const host = await startHost({
    configPath: tmpYaml(yamlFor({ wasm: "rules.wasm", config: "hold", connectMode: "IMMEDIATE" }, { g: [port] })),
    wasmDir: WASM_DIR,
  });
  try {
    const c = await client(host.listeners.probe.port);
    c.send("held");
    assert.equal((await c.waitFor((x) => x.length >= 2)).toString(), "hi");
    assert.ok(host.logs.some((l) => l.endsWith("rules: upstream get=0 data=held")), host.logs.join("\n"));
    c.socket.destroy();
  } finally { await host.close(); server.close(); }
});

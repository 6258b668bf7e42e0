// gRPC callouts from a NETWORK filter, in the local host and in real Envoy (one body per proxy):
// the grpc-probe module holds a connection (PAUSE), calls a service with proxy_grpc_call and acts
// on the connection from the answer's callback. The services are the real ones users deploy
// (envoyproxy/ratelimit with Redis, an OpenTelemetry Collector); the test's own gRPC server
// (grpc-hold-server.ts) stages what they cannot: held answers, errors, resets.
// Envoy runs with one worker here: the probe's log lines are matched by token and context id,
// which each worker's VM numbers on its own.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { startProxy, type Proxy, type ProxyKind } from "../../envoy-dev/proxy/index.ts";
import { startRateLimitService, type RateLimitService } from "../../envoy-dev/services/ratelimit.ts";
import { startCollector, type Collector } from "../../envoy-dev/services/collector.ts";
import { freePort } from "../../envoy-dev/services/process.ts";
import { compileFixture, echoServer, client, tmpYaml, sleep, WASM_DIR, type Upstream } from "../host/helpers.ts";
import { startHoldServer, type HoldServer } from "./grpc-hold-server.ts";
import { grpcYaml } from "./grpc-support.ts";

let echo: Upstream, rls: RateLimitService, collector: Collector;
before(async () => {
  compileFixture("grpc-probe");
  echo = await echoServer();
  // Each distinct `method` value may pass once an hour: a test picks fresh values.
  rls = await startRateLimitService({ rules: { domain: "probe", descriptors: [{ key: "method", rate_limit: { unit: "hour", requests_per_unit: 1 } }] } });
  collector = await startCollector();
}, { timeout: 1_800_000 }); // a cold cache builds both services from the Go module proxy (~10 min each here)
after(async () => { await echo?.close(); await rls?.close(); await collector?.close(); });

interface Probe { p: Proxy; lines(): string[]; waitLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>; close(): Promise<void> }

async function probe(kind: ProxyKind, config: string, grpc: Record<string, number>, plain: Record<string, number> = {}): Promise<Probe> {
  const p = await startProxy(kind, { configPath: tmpYaml(grpcYaml({ config, echoPort: echo.port, grpc, plain })), wasmDir: WASM_DIR, concurrency: 1 });
  const lines = () => p.logs().map((l) => l.split("grpc-probe: ")[1]).filter((l): l is string => l !== undefined && !l.startsWith("configured"));
  return {
    p, lines,
    async waitLine(re, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const l of lines()) { const m = l.match(re); if (m) return m; }
        if (Date.now() > deadline) throw new Error(`${p.name}: no probe line ${re} within ${timeoutMs} ms; lines:\n${lines().join("\n")}`);
        await sleep(10);
      }
    },
    close: () => p.close(),
  };
}

const unique = (kind: string, what: string) => `${what}-${kind}-${process.pid}-${Date.now()}`;

eachProxy("gRPC callouts from a network filter", (kind) => {
  test("rate limit service: the held request goes on when allowed; over the limit it is answered or closed", async () => {
    const pr = await probe(kind, "cluster=rls target=rls domain=probe edit close-on-deny", { rls: rls.grpcPort });
    try {
      const method = unique(kind, "m");
      const a = await client(pr.p.listeners.probe.port);
      a.send(`${method}\n`);
      // Forwarded only after the answer, edited from the callback: the echo upstream shows it.
      assert.equal((await a.waitFor((b) => b.includes("\n"))).toString(), `OK:${method}\n`);
      const b = await client(pr.p.listeners.probe.port);
      b.send(`${method}\n`);
      await b.closed; // OVER_LIMIT: close_stream(DOWNSTREAM) from the root's callback
      assert.equal(b.received().length, 0);
      // The answer's size varies with the clock (duration_until_reset is a varint of the seconds
      // left in the hour): the whole answer arrived is what matters.
      await pr.waitLine(/^receive ctx=\d+ token=9 size=(\d+) got=\1 .* verdict=OVER_LIMIT /);
      assert.match((await pr.waitLine(/^effective .* close=\d+$/))[0], /set_effective=0 held=.* set=0 close=0$/);
      a.socket.destroy();
    } finally { await pr.close(); }
  });

  test("collector: TraceService/Export and LogsService/Export from a connection's callback reach the collector", async () => {
    const span = unique(kind, "span"), body = unique(kind, "log");
    for (const [target, line] of [["trace", span], ["logs", body]]) {
      const pr = await probe(kind, `cluster=otel target=${target} edit`, { otel: collector.grpcPort });
      try {
        const c = await client(pr.p.listeners.probe.port);
        c.send(`${line}\n`);
        // The collector answers Export only after its exporter delivered: the data is there.
        assert.equal((await c.waitFor((b) => b.includes("\n"))).toString(), `OK:${line}\n`);
        await pr.waitLine(/receive ctx=\d+ token=\d+ size=2 /); // ExportTraceServiceResponse{partial_success{}}
        c.socket.destroy();
      } finally { await pr.close(); }
    }
    const spans = await collector.waitForSpans((s) => s.some((x) => x.name === span));
    const s = spans.find((x) => x.name === span)!;
    assert.equal(s.resource["service.name"], "grpc-probe");
    assert.match(s.traceId, /^[0-9a-f]{32}$/);
    assert.equal(s.kind, 2);
    const logs = await collector.waitForLogs((l) => l.some((x) => x.body === body));
    assert.equal(logs.find((x) => x.body === body)!.severityText, "INFO");
  });

  test("the root context issues calls too: spans queued by connections are exported from on_tick in one batch", async () => {
    const pr = await probe(kind, "cluster=otel export-tick", { otel: collector.grpcPort });
    try {
      const names = [unique(kind, "batch-a"), unique(kind, "batch-b")];
      const cs = await Promise.all(names.map(() => client(pr.p.listeners.probe.port)));
      cs.forEach((c, i) => c.send(`${names[i]}\n`));
      for (const [i, c] of cs.entries()) assert.equal((await c.waitFor((b) => b.includes("\n"))).toString(), `${names[i]}\n`);
      const spans = await collector.waitForSpans((s) => names.every((n) => s.some((x) => x.name === n)));
      const exported = pr.lines().filter((l) => l.startsWith("export from root="));
      assert.ok(exported.length >= 1 && exported.every((l) => /status=0 token=\d+/.test(l)), exported.join("\n"));
      // Both connections' spans may land in one Export (same tick) or two: each span once.
      for (const n of names) assert.equal(spans.filter((x) => x.name === n).length, 1);
      for (const c of cs) c.socket.destroy();
    } finally { await pr.close(); }
  });

  test("the answer arrives on the root context, tokens are per VM (5, 9, ...), Envoy's request headers", async () => {
    const hold = await startHoldServer((c) => ({ message: `re:${c.body}` }));
    const pr = await probe(kind, "cluster=hold target=hold metadata edit timeout=1000", { hold: hold.port });
    try {
      const c = await client(pr.p.listeners.probe.port);
      c.send("hello\n");
      assert.equal((await c.waitFor((b) => b.includes("\n"))).toString(), "OK:hello\n");
      const call = await pr.waitLine(/^call ctx=(\d+) root=(\d+) status=0 token=(\d+)$/);
      const [conn, root, token] = [call[1], call[2], call[3]];
      assert.equal(Number(token) % 4, 1, "gRPC call tokens have the low bits 01");
      assert.equal(token, "5", "the VM's first gRPC call");
      const recv = await pr.waitLine(new RegExp(`^receive ctx=(\\d+) token=${token} size=8 got=8 conn=${conn} initial_metadata=0/0 verdict=OK body=re:hello get_status=0 code=0 message=$`));
      assert.equal(recv[1], root, "callback context = the root, not the connection");
      assert.notEqual(recv[1], conn);
      await sleep(100);
      // A unary call gets one callback: no metadata callbacks, no close after the receive.
      assert.deepEqual(pr.lines().filter((l) => /^(close|initial_metadata|trailing_metadata) /.test(l)), []);
      const [h] = hold.calls;
      assert.equal(h.path, "/probe.Hold/Call");
      assert.deepEqual(
        Object.fromEntries(Object.entries(h.headers).filter(([k]) => !["user-agent", "content-length"].includes(k))),
        { ":method": "POST", ":path": "/probe.Hold/Call", ":authority": "hold", ":scheme": "http", te: "trailers", "grpc-timeout": "1000m",
          "content-type": "application/grpc", "x-probe": conn, "x-envoy-internal": "true", "x-envoy-expected-rq-timeout-ms": "1000" });
      assert.equal(h.body.toString(), "hello");
      c.socket.destroy();
    } finally { await pr.close(); await hold.close(); }
  });

  test("statuses: unknown cluster, serialized GrpcService, cancel/close of unknown tokens, unknown effective context", async () => {
    const hold = await startHoldServer((c) => ({ message: `re:${c.body}` }));
    const pr = await probe(kind, "cluster=hold target=hold statuses edit", { hold: hold.port });
    try {
      const c = await client(pr.p.listeners.probe.port);
      c.send("x\n");
      assert.equal((await c.waitFor((b) => b.includes("\n"))).toString(), "OK:x\n");
      const st = await pr.waitLine(/^statuses .*/);
      assert.equal(st[0], "statuses unknown_cluster=4 unknown_cluster_proto=10 cancel_unknown=1 cancel_http_token=2 close_unknown=1 effective_unknown=2 header_pairs_0=0 header_pairs_8=2 get_status=0 code=0");
      // The GrpcService call returned INTERNAL_FAILURE, yet its token (5) gets a close callback.
      await pr.waitLine(/^close ctx=\d+ token=5 code=14 conn=0 get_status=0 code=14 message=Cluster not available$/);
      await pr.waitLine(/^call ctx=\d+ root=\d+ status=0 token=9$/);
      // get_status inside on_grpc_receive: the code of the root's last close, the message cleared.
      await pr.waitLine(/^receive ctx=\d+ token=9 .* get_status=0 code=14 message=$/);
      c.socket.destroy();
    } finally { await pr.close(); await hold.close(); }
  });

  test("bytes arriving while paused: the filter sees the growing buffer; the callback edits it; it goes on once", async () => {
    const hold = await startHoldServer();
    const pr = await probe(kind, "cluster=hold target=hold edit", { hold: hold.port });
    try {
      const c = await client(pr.p.listeners.probe.port);
      c.send("first\n");
      const [call] = await hold.waitForCalls(1);
      c.send("second\n");
      await pr.waitLine(/^data while paused ctx=\d+ size=13$/);
      c.send("third\n");
      await pr.waitLine(/^data while paused ctx=\d+ size=19$/);
      await sleep(100);
      assert.equal(c.received().length, 0, "nothing forwarded while paused");
      call.reply("go");
      assert.equal((await c.waitFor((b) => b.length >= 22)).toString(), "OK:first\nsecond\nthird\n");
      assert.match((await pr.waitLine(/^effective .*/))[0], /set_effective=0 held=first\\nsecond\\nthird\\n set=0 continue=0$/);
      // continue_stream resumes at the next filter: the probe is not called again for those bytes.
      await sleep(100);
      assert.equal(pr.lines().filter((l) => l.startsWith("data ")).length, 2);
      c.send("later\n");
      assert.equal((await c.waitFor((b) => b.length >= 28)).toString(), "OK:first\nsecond\nthird\nlater\n");
      await pr.waitLine(/^data after release ctx=\d+ size=6$/);
      c.socket.destroy();
    } finally { await pr.close(); await hold.close(); }
  });

  test("a client that half-closes while paused: the filter sees end_stream, the connection waits for the answer", async () => {
    const hold = await startHoldServer();
    const pr = await probe(kind, "cluster=hold target=hold edit", { hold: hold.port });
    try {
      const c = await client(pr.p.listeners.probe.port);
      c.send("hello\n");
      const [call] = await hold.waitForCalls(1);
      c.socket.end();
      await pr.waitLine(/^data while paused ctx=\d+ size=6 eos$/);
      await sleep(100);
      call.reply("ok");
      await c.closed; // the echo upstream gets the bytes and the FIN, answers, and closes
      assert.equal(c.received().toString(), "OK:hello\n");
    } finally { await pr.close(); await hold.close(); }
  });

  test("continue_stream from the callback without set_effective_context returns OK and does nothing", async () => {
    const hold = await startHoldServer((c) => ({ message: `re:${c.body}` }));
    const pr = await probe(kind, "cluster=hold target=hold no-effective", { hold: hold.port });
    try {
      const c = await client(pr.p.listeners.probe.port);
      c.send("hello\n");
      await pr.waitLine(/^continue without effective context conn=\d+ continue=0$/);
      await sleep(300);
      assert.equal(c.received().length, 0, "the connection is still paused");
      c.send("more\n"); // the next read calls the filter with everything, and it lets it go
      assert.equal((await c.waitFor((b) => b.length >= 11)).toString(), "hello\nmore\n");
      await pr.waitLine(/^data after unapplied answer ctx=\d+ size=11$/);
      c.socket.destroy();
    } finally { await pr.close(); await hold.close(); }
  });

  test("closing a connection does not cancel its call: the answer still comes, set_effective_context then fails", async () => {
    const hold = await startHoldServer();
    const pr = await probe(kind, "cluster=hold target=hold edit", { hold: hold.port });
    try {
      const c = await client(pr.p.listeners.probe.port);
      c.send("hello\n");
      const [call] = await hold.waitForCalls(1);
      c.socket.resetAndDestroy();
      await pr.waitLine(/^closed with a pending call ctx=\d+ token=5$/);
      await sleep(100);
      assert.equal(call.rstCode, null, "the call is still open at the server");
      call.reply("late");
      await pr.waitLine(/^receive ctx=\d+ token=5 size=4 .* body=late /);
      await pr.waitLine(/^effective conn=\d+ set_effective=2$/); // BAD_ARGUMENT: the context is gone
    } finally { await pr.close(); await hold.close(); }
  });

  test("proxy_grpc_cancel on close: OK, then NOT_FOUND; the server sees the stream reset; no callback", async () => {
    const hold = await startHoldServer();
    const pr = await probe(kind, "cluster=hold target=hold edit cancel-on-close", { hold: hold.port });
    try {
      const c = await client(pr.p.listeners.probe.port);
      c.send("hello\n");
      const [call] = await hold.waitForCalls(1);
      c.socket.resetAndDestroy();
      await pr.waitLine(/^cancel on close ctx=\d+ token=5 cancel=0 again=1$/);
      await call.closed;
      assert.equal(call.rstCode, 2, "RST_STREAM (as Node reports Envoy's reset: 2)");
      await sleep(200);
      assert.ok(!pr.lines().some((l) => /^(receive|close) /.test(l)), pr.lines().join("\n"));
      // The HTTP/2 connection stays: the next call reuses it.
      const d = await client(pr.p.listeners.probe.port);
      d.send("again\n");
      (await hold.waitForCalls(2))[1].reply("ok");
      assert.equal((await d.waitFor((b) => b.includes("\n"))).toString(), "OK:again\n");
      assert.equal(hold.sessions(), 1);
      d.socket.destroy();
    } finally { await pr.close(); await hold.close(); }
  });

  test("timeout: UNAVAILABLE when it expires, the stream reset; timeout 0 means no deadline", async () => {
    const hold = await startHoldServer();
    for (const [timeout, late] of [[200, false], [0, true]] as const) {
      const pr = await probe(kind, `cluster=hold target=hold edit timeout=${timeout}`, { hold: hold.port });
      try {
        const n = hold.calls.length;
        const c = await client(pr.p.listeners.probe.port);
        const t0 = Date.now();
        c.send("hello\n");
        const call = (await hold.waitForCalls(n + 1))[n];
        assert.equal(call.headers["grpc-timeout"], `${timeout}m`);
        assert.equal(call.headers["x-envoy-expected-rq-timeout-ms"], timeout ? String(timeout) : undefined);
        if (!late) {
          assert.equal((await c.waitFor((b) => b.includes("\n"))).toString(), "FAIL14:hello\n");
          assert.ok(Date.now() - t0 >= 190, `answered after ${Date.now() - t0} ms`);
          await pr.waitLine(/^close ctx=\d+ token=5 code=14 conn=\d+ get_status=0 code=14 message=upstream request timeout\{response_timeout\}$/);
          await call.closed;
          assert.equal(call.rstCode, 2);
        } else {
          await sleep(1200);
          call.reply("late");
          assert.equal((await c.waitFor((b) => b.includes("\n"))).toString(), "OK:hello\n");
        }
        c.socket.destroy();
      } finally { await pr.close(); }
    }
    await hold.close();
  });

  test("failures reach on_grpc_close with Envoy's status and message", async () => {
    const hold = await startHoldServer();
    const dead = await freePort();
    const pr = await probe(kind, "cluster=hold target=hold edit", { hold: hold.port });
    const cases: [string, (c: import("./grpc-hold-server.ts").HeldCall) => void, number, string][] = [
      ["status", (c) => c.fail(7, "no 100% é"), 7, "no 100%25 %C3%A9{via_upstream}"], // grpc-message is not percent-decoded
      ["http", (c) => c.httpError(503), 14, "via_upstream"],
      ["empty", (c) => c.empty(), 13, ""],
      ["trailers-only-ok", (c) => c.fail(0, "no message"), 13, ""],
    ];
    try {
      for (const [name, act, code, message] of cases) {
        const n = hold.calls.length;
        const c = await client(pr.p.listeners.probe.port);
        c.send(`${name}\n`);
        act((await hold.waitForCalls(n + 1))[n]);
        assert.equal((await c.waitFor((b) => b.includes("\n"))).toString(), `FAIL${code}:${name}\n`, name);
        const m = await pr.waitLine(new RegExp(`^close ctx=\\d+ token=${5 + 4 * n} code=(\\d+) conn=\\d+ get_status=0 code=\\d+ message=(.*)$`));
        assert.deepEqual([Number(m[1]), m[2]], [code, message], name);
        c.socket.destroy();
      }
    } finally { await pr.close(); }
    // No listener on the port / an HTTP/1.1 cluster (a gRPC server does not speak it).
    const unreachable = await probe(kind, "cluster=dead target=hold edit", { dead });
    const h1 = await probe(kind, "cluster=plain target=hold edit", {}, { plain: hold.port });
    try {
      for (const [pr2, message] of [
        [unreachable, "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure{upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}}"],
        [h1, "upstream connect error or disconnect/reset before headers. reset reason: protocol error{upstream_reset_before_response_started{protocol_error}}"],
      ] as const) {
        const c = await client(pr2.p.listeners.probe.port);
        c.send("x\n");
        assert.equal((await c.waitFor((b) => b.includes("\n"))).toString(), "FAIL14:x\n");
        const m = await pr2.waitLine(/^close ctx=\d+ token=5 code=14 conn=\d+ get_status=0 code=14 message=(.*)$/);
        assert.equal(m[1], message);
        c.socket.destroy();
      }
    } finally { await unreachable.close(); await h1.close(); await hold.close(); }
  });
});

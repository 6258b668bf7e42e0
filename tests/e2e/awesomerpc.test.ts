// build/awesomerpc.wasm end to end in the local host and real Envoy, the way a protocol author checks a
// scaffolded module: real awesomerpc peers (envoy-dev/apps/awesomerpc-{client,server}.ts) over
// loopback sockets, tests/fixtures/awesomerpc/envoy.yaml (cmd 1001 -> v2, cmd 1002 -> v1, any
// other cmd: no route). awesomerpc has no probe, so a rejected request is answered by the
// documented fallback (assembly/meta/connection.ts reject(), README "Limits"): with nothing in
// flight the connection closes at once; with a request in flight the header-only error reply
// rides on the next upstream callback.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startProxy, type Proxy } from "../../envoy-dev/proxy/index.ts";
import { clusterSeries } from "../../envoy-dev/proxy/prometheus.ts";
import { validateBootstrapYaml } from "../../envoy-dev/validate/index.ts";
import { connectAwesome, encodeFrame, HEADER_SIZE, type AwesomeConnection, type AwesomeFrame } from "../../envoy-dev/apps/awesomerpc-client.ts";
import { startAwesomeServer, type AwesomeAnswer, type AwesomeServer } from "../../envoy-dev/apps/awesomerpc-server.ts";

const CONFIG = fileURLToPath(new URL("../fixtures/awesomerpc/envoy.yaml", import.meta.url));
const LISTENER = "awesomerpc_outbound";
const SVC = "awesome-demo.default.svc.cluster.local";
const CLUSTERS = { default: `outbound|8090||${SVC}`, v1: `outbound|8090|v1|${SVC}`, v2: `outbound|8090|v2|${SVC}` } as const;
type Subset = keyof typeof CLUSTERS;
const P = "metaprotocol_awesome_demo_";
const clusterStat = (c: string) => clusterSeries("upstream_cx_total", c);
const CMD_V2 = 1001;
const CMD_V1 = 1002;
const CMD_NO_ROUTE = 4040;
/** rsp_code of the no-route error reply: 1 + ErrorType.RouteNotFound (0), as the codec documents. */
const RSP_ROUTE_NOT_FOUND = 1;
/** statsFlushIntervalMs in the fixture is 50: waits for counters are bounded by many flushes. */
const STAT_WAIT_MS = 3000;
/** "Promptly": far below any client timeout, far above one event-loop turn on a loaded machine. */
const PROMPT_MS = 1500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

eachProxy("awesomerpc e2e", (proxy) => {
  let host: Proxy;
  const servers = {} as Record<Subset, AwesomeServer>;
  const open: AwesomeConnection[] = [];

  const connect = async () => {
    const c = await connectAwesome({ port: host.listeners[LISTENER].port, timeoutMs: 5000 });
    open.push(c);
    return c;
  };
  const stat = (name: string) => host.stat(name);
  /** A snapshot of counters, taken after earlier tests' counters had time to flush. */
  const baseline = async () => { await sleep(200); return host.stats(); };
  const delta = async (base: Map<string, number>, name: string) => (await stat(name)) - (base.get(name) ?? 0);
  /** Waits until counter `name` grew by at least n since `base`; returns the growth. */
  const grew = async (base: Map<string, number>, name: string, n: number) =>
    (await host.waitForStat(name, (v) => v - (base.get(name) ?? 0) >= n, STAT_WAIT_MS)) - (base.get(name) ?? 0);
  const answer = (f: AwesomeFrame): AwesomeAnswer => JSON.parse(f.body.toString("utf8"));
  const reached = (cmd: number) => (Object.keys(servers) as Subset[]).flatMap((s) => servers[s].requests.filter((r) => r.cmd === cmd).map((r) => `${s}:${r.packFlow}`));
  /** Polls (bounded) until `cond` holds; fails with `what()` as evidence. */
  const until = async (cond: () => boolean, what: () => string, ms = 3000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) assert.fail(`timed out after ${ms} ms: ${what()}`);
      await sleep(5);
    }
  };

  before(async () => {
    for (const s of Object.keys(CLUSTERS) as Subset[]) servers[s] = await startAwesomeServer({ version: s });
    host = await startProxy(proxy, {
      configPath: CONFIG, // as written; only endpoints and ports are overridden
      endpoints: Object.fromEntries((Object.keys(CLUSTERS) as Subset[]).map((s) => [CLUSTERS[s], [{ host: "127.0.0.1", port: servers[s].port }]])),
      listenerPorts: { [LISTENER]: 0 },
    });
  });

  after(async () => {
    for (const c of open) await c.close();
    await host?.close();
    for (const s of Object.values(servers)) await s?.close();
  });

  test("the fixture envoy.yaml passes the project's Envoy proto validator", () => {
    assert.deepEqual(validateBootstrapYaml(CONFIG), []);
  });

  test("(a) routes by cmd across connections: 1001 -> v2, 1002 -> v1; a later request follows its connection", async () => {
    const base = await baseline();
    const a = await connect();
    const r1 = await a.call(CMD_V2, "first on a");
    assert.equal(answer(r1).servedBy, "v2");
    // Routing is per connection: 1002 on a connection bound to v2 stays on v2 (KEEP), counted.
    const r2 = await a.call(CMD_V1, "second on a");
    assert.equal(answer(r2).servedBy, "v2");

    const b = await connect();
    assert.equal(answer(await b.call(CMD_V1, "first on b")).servedBy, "v1");
    assert.equal(answer(await b.call(CMD_V1, "second on b")).servedBy, "v1");

    const c = await connect();
    assert.equal(answer(await c.call(CMD_V2, "first on c")).servedBy, "v2");

    for (const f of [r1, r2]) {
      assert.equal(f.rspCode, 0);
      assert.equal(f.packLen, f.raw.length);
    }
    assert.deepEqual(servers.v2.requests.map((r) => `${r.cmd}:${r.body}`), [`${CMD_V2}:first on a`, `${CMD_V1}:second on a`, `${CMD_V2}:first on c`]);
    assert.deepEqual(servers.v1.requests.map((r) => `${r.cmd}:${r.body}`), [`${CMD_V1}:first on b`, `${CMD_V1}:second on b`]);
    assert.deepEqual(servers.default.requests, []);
    assert.equal(servers.v2.connections, 2);
    assert.equal(servers.v1.connections, 1);

    assert.equal(await grew(base, P + "response_total", 5), 5);
    assert.equal(await delta(base, P + "request_total"), 5);
    assert.equal(await delta(base, P + "route_cmd1001_v2_request_total"), 2);
    assert.equal(await delta(base, P + "route_cmd1002_v1_request_total"), 3);
    assert.equal(await delta(base, P + "route_mismatch"), 1);
    assert.equal(await delta(base, P + "route_not_found"), 0);
    assert.equal(await delta(base, clusterStat(CLUSTERS.v2)), 2);
    assert.equal(await delta(base, clusterStat(CLUSTERS.v1)), 1);
    assert.equal(await delta(base, clusterStat(CLUSTERS.default)), 0);
  });

  test("(b) 300 pipelined requests on one connection, split at odd byte boundaries, each answered with its own pack_flow", async () => {
    const base = await baseline();
    const c = await connect();
    assert.equal(answer(await c.call(CMD_V2, "bind")).servedBy, "v2");
    const served = servers.v2.requests.length;
    const N = 300;
    const flows: number[] = [];
    const bodies = new Map<number, string>();
    const frames: Buffer[] = [];
    for (let i = 0; i < N; i++) {
      const packFlow = 0x7000_0000 + i * 7919; // large, not sequential
      // Every 10th answer is delayed by the server, so answers leave out of order.
      const body = (i % 10 === 0 ? "delay=120;" : "") + `req-${i}-` + "x".repeat(i % 37);
      flows.push(packFlow);
      bodies.set(packFlow, body);
      frames.push(encodeFrame({ packFlow, cmd: i % 3 === 0 ? CMD_V1 : CMD_V2, body }));
    }
    const waits = flows.map((f) => c.waitFor(f, 10_000));
    const all = Buffer.concat(frames);
    for (let off = 0, k = 0; off < all.length; k++) {
      const n = [1, 5, 12, 13, 14, 333, 4096, 9][k % 8];
      await c.write(all.subarray(off, off + n));
      off += n;
      if (k % 8 === 7) await sleep(0); // let some chunks arrive as separate reads
    }
    const got = await Promise.all(waits);
    got.forEach((f, i) => {
      const a = answer(f);
      assert.equal(f.packFlow, flows[i], `answer ${i}`);
      assert.equal(a.packFlow, flows[i], `answer ${i}: server saw another pack_flow`);
      assert.equal(a.echo, bodies.get(flows[i]), `answer ${i}: body`);
      assert.equal(a.servedBy, "v2", `answer ${i}: bound connection`);
      assert.equal(f.rspCode, 0);
      assert.equal(f.cmd, i % 3 === 0 ? CMD_V1 : CMD_V2);
    });
    // The answers really came out of order, so correlation by pack_flow was exercised.
    const order = c.received.slice(1).map((f) => f.packFlow);
    assert.notDeepEqual(order, flows);
    assert.equal(order.length, N);
    assert.equal(servers.v2.requests.length - served, N);
    assert.equal(c.closed, null);

    assert.equal(await grew(base, P + "response_total", N + 1), N + 1);
    assert.equal(await delta(base, P + "request_total"), N + 1);
    assert.equal(await delta(base, P + "response_unmatched"), 0);
    assert.equal(await delta(base, P + "request_decoding_error"), 0);
    assert.equal(await delta(base, P + "route_mismatch"), N / 3); // the 1002s on a v2 connection (KEEP)
  });

  test("(c) no route, nothing in flight, first request: the connection closes promptly, counted", async () => {
    const base = await baseline();
    const c = await connect();
    const t0 = performance.now();
    await c.write(encodeFrame({ packFlow: 77, cmd: CMD_NO_ROUTE, body: "nobody serves this" }));
    await c.waitClosed(PROMPT_MS);
    const ms = performance.now() - t0;
    assert.ok(ms < PROMPT_MS, `closed after ${ms.toFixed(0)} ms`);
    assert.equal(c.bytesReceived, 0, "no bytes: there was nothing for an error reply to ride on");
    assert.equal(await grew(base, P + "route_not_found", 1), 1);
    assert.equal(await delta(base, P + "local_reply"), 1);
    assert.equal(await delta(base, P + "request_total"), 1);
    assert.deepEqual(reached(CMD_NO_ROUTE), []);
    assert.ok(host.logs().some((l) => /RouteNotFound .*protocol has no probe, closing connection/.test(l)), host.logs().slice(-5).join("\n"));
  });

  test("(c) no route, nothing in flight, on a bound connection: answered requests stay, then it closes promptly", async () => {
    const base = await baseline();
    const c = await connect();
    assert.equal(answer(await c.call(CMD_V1, "bind")).servedBy, "v1");
    const before = c.bytesReceived;
    const t0 = performance.now();
    await c.write(encodeFrame({ packFlow: 78, cmd: CMD_NO_ROUTE }));
    await c.waitClosed(PROMPT_MS);
    const ms = performance.now() - t0;
    assert.ok(ms < PROMPT_MS, `closed after ${ms.toFixed(0)} ms`);
    assert.equal(c.bytesReceived, before);
    assert.equal(c.received.length, 1);
    assert.equal(await grew(base, P + "route_not_found", 1), 1);
    assert.equal(await delta(base, P + "local_reply"), 1);
    assert.deepEqual(reached(CMD_NO_ROUTE), []);
  });

  test("(c) no route with a request in flight: the header-only error reply rides on the next upstream callback", async () => {
    const base = await baseline();
    const c = await connect();
    assert.equal(answer(await c.call(CMD_V1, "bind")).servedBy, "v1");
    // A is held by the server for 400 ms, so it is in flight when B arrives.
    const A = 501, B = 502;
    const gotA = c.waitFor(A, 5000);
    const gotB = c.waitFor(B, 5000);
    const servedBefore = servers.v1.requests.length;
    await c.write(encodeFrame({ packFlow: A, cmd: CMD_V1, body: "delay=400;slow" }));
    await until(() => servers.v1.requests.length > servedBefore, () => `v1 never got A; v1 requests: ${JSON.stringify(servers.v1.requests)}`);
    const t0 = performance.now();
    await c.write(encodeFrame({ packFlow: B, cmd: CMD_NO_ROUTE, body: "no route for me" }));
    // No writes out of turn: until the upstream sends something, B's reply cannot be written.
    await grew(base, P + "route_not_found", 1);
    assert.equal(c.received.length, 1, "nothing may arrive before A's answer");
    assert.equal(c.closed, null, "the connection stays open while a request is in flight");

    const [fa, fb] = await Promise.all([gotA, gotB]);
    const ms = performance.now() - t0;
    assert.equal(answer(fa).servedBy, "v1");
    assert.equal(fa.rspCode, 0);
    // B's error reply: header-only, the same pack_flow (and cmd), a non-zero rsp_code.
    assert.equal(fb.raw.length, HEADER_SIZE);
    assert.equal(fb.packLen, HEADER_SIZE);
    assert.equal(fb.packFlow, B);
    assert.equal(fb.cmd, CMD_NO_ROUTE);
    assert.notEqual(fb.rspCode, 0);
    assert.equal(fb.rspCode, RSP_ROUTE_NOT_FOUND);
    assert.equal(fb.version, 1);
    // It came with A's answer (same upstream callback): right behind it, not before.
    const ia = c.received.indexOf(fa), ib = c.received.indexOf(fb);
    assert.equal(ib, ia + 1, `order: ${c.received.map((f) => f.packFlow).join(",")}`);
    assert.ok(ms < 400 + PROMPT_MS, `error reply after ${ms.toFixed(0)} ms`);

    // The connection is still usable, and B never reached a server.
    assert.equal(answer(await c.call(CMD_V1, "after")).servedBy, "v1");
    assert.deepEqual(reached(CMD_NO_ROUTE), []);
    assert.equal(await grew(base, P + "response_total", 3), 3);
    assert.equal(await delta(base, P + "route_not_found"), 1);
    assert.equal(await delta(base, P + "local_reply"), 1);
    assert.equal(await delta(base, P + "request_total"), 4);
    assert.equal(await delta(base, P + "response_unmatched"), 0);
  });

  test("(c) two no-route requests behind an in-flight one in the same write: both replies follow its answer", async () => {
    const base = await baseline();
    const c = await connect();
    const frames = Buffer.concat([
      encodeFrame({ packFlow: 601, cmd: CMD_V2, body: "binds v2" }),
      encodeFrame({ packFlow: 602, cmd: CMD_NO_ROUTE }),
      encodeFrame({ packFlow: 603, cmd: CMD_NO_ROUTE + 1, body: "also unrouted" }),
    ]);
    const [fa, fb, fc] = await Promise.all([c.waitFor(601, 5000), c.waitFor(602, 5000), c.waitFor(603, 5000), c.write(frames)]);
    assert.equal(answer(fa).servedBy, "v2");
    assert.deepEqual([fb.packFlow, fb.packLen, fb.rspCode, fb.cmd], [602, HEADER_SIZE, RSP_ROUTE_NOT_FOUND, CMD_NO_ROUTE]);
    assert.deepEqual([fc.packFlow, fc.packLen, fc.rspCode, fc.cmd], [603, HEADER_SIZE, RSP_ROUTE_NOT_FOUND, CMD_NO_ROUTE + 1]);
    assert.deepEqual(c.received.map((f) => f.packFlow), [601, 602, 603]);
    assert.equal(c.closed, null);
    assert.equal(await grew(base, P + "local_reply", 2), 2);
    assert.equal(await delta(base, P + "route_not_found"), 2);
    assert.deepEqual([...reached(CMD_NO_ROUTE), ...reached(CMD_NO_ROUTE + 1)], []);
  });

  test("(d) garbage closes only its own connection, counted; other clients keep working", async () => {
    const base = await baseline();
    const good = await connect();
    assert.equal(answer(await good.call(CMD_V2, "before garbage")).servedBy, "v2");
    const inFlight = good.call(CMD_V2, "delay=300;across the garbage", { timeoutMs: 5000 });

    // pack_len 7 < 13: not an awesomerpc frame. First bytes of a fresh connection...
    const garbage = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x00, 0x00, 0x00, 0x07, 0x42, 0x42, 0x42, 0x42, 0x42]);
    const g1 = await connect();
    let t0 = performance.now();
    await g1.write(garbage);
    await g1.waitClosed(PROMPT_MS);
    assert.ok(performance.now() - t0 < PROMPT_MS);
    assert.equal(g1.bytesReceived, 0);

    // ...and garbage after a good request on a bound connection.
    const g2 = await connect();
    assert.equal(answer(await g2.call(CMD_V1, "good first")).servedBy, "v1");
    t0 = performance.now();
    await g2.write(garbage);
    await g2.waitClosed(PROMPT_MS);
    assert.ok(performance.now() - t0 < PROMPT_MS);
    assert.equal(g2.received.length, 1);

    assert.equal(await grew(base, P + "request_decoding_error", 2), 2);
    // The good client was not touched: its in-flight call is answered, new calls work.
    assert.equal(answer(await inFlight).echo, "delay=300;across the garbage");
    assert.equal(answer(await good.call(CMD_V1, "after garbage")).servedBy, "v2");
    assert.equal(good.closed, null);
    // New connections still work (the VM did not fail).
    const fresh = await connect();
    assert.equal(answer(await fresh.call(CMD_V1, "fresh")).servedBy, "v1");
    for (const s of Object.values(servers)) assert.deepEqual(s.badInput, [], `${s.version} saw garbage`);
    assert.deepEqual(host.vmFailures(), []);
    assert.ok(host.logs().some((l) => /bad request frame: awesomerpc: pack_len 7 < 13; closing/.test(l)), host.logs().slice(-5).join("\n"));
    assert.equal(await delta(base, P + "frame_too_large"), 0);
  });

  test("every connection is accounted for once the clients are gone", async () => {
    for (const c of open) await c.close();
    await host.waitForStat(P + "downstream_cx_active", (v) => v === 0, STAT_WAIT_MS);
    assert.equal(await stat(P + "downstream_cx_total"), open.length);
  });
});

// Global rate limit (MetaRouter globalRateLimit) through build/dubbo.wasm against the service
// users deploy: envoyproxy/ratelimit with Redis, rules in its YAML, in real Envoy and the local
// host. A matching request is held (the connection pauses) while ShouldRateLimit is asked over
// proxy_grpc_call; allowed, it goes on as it would have; over the limit, it gets the Dubbo
// over-limit reply (status 100) through the probe. Requests pipelined behind a held one keep
// their order and reach nobody before the answer. Redis's CLIENT PAUSE slows the service down
// for the tests that need a late answer or a timeout.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { startRateLimitService, type RateLimitService } from "../../envoy-dev/services/ratelimit.ts";
import { freePort } from "../../envoy-dev/services/process.ts";
import { startDubboProvider, type DubboProvider } from "../../envoy-dev/apps/dubbo-provider.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { encodeRequest } from "../../envoy-dev/apps/dubbo/codec.ts";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { startSidecar, counterAtLeast, type Sidecar } from "../support/sidecar.ts";
import { startHoldServer } from "./grpc-hold-server.ts";
import { client, sleep } from "../host/helpers.ts";

const STATUS_OK = 20;
const STATUS_THREADPOOL_EXHAUSTED = 100;
const STATS = "metaprotocol_rl_";

let rls: RateLimitService;
before(async () => {
  // Aeraki's example rule (domain production, sayHello limited), and per-tenant buckets
  // (a descriptor from a Dubbo attachment) for the tests that need fresh counts.
  rls = await startRateLimitService({
    rules: {
      domain: "production",
      descriptors: [
        { key: "method", value: "sayHello", rate_limit: { unit: "hour", requests_per_unit: 2 } },
        { key: "tenant", rate_limit: { unit: "hour", requests_per_unit: 3 } },
        { key: "bulk", rate_limit: { unit: "hour", requests_per_unit: 100000 } },
      ],
    },
  });
}, { timeout: 1_800_000 }); // a cold cache builds the service from the Go module proxy
after(async () => { await rls?.close(); });

interface Rule { match?: object; descriptors: { property: string; descriptorKey: string }[]; requestTimeout?: string; denyOnFail?: boolean; rateLimitService?: string }

function pluginConfig(rule: Rule): object {
  return {
    statPrefix: "rl", statsFlushIntervalMs: 50,
    services: [{
      name: "dubbo-demo.default.svc.cluster.local",
      globalRateLimit: { domain: "production", rateLimitService: "rls", requestTimeout: "1s", ...rule },
    }],
  };
}

let unique = 0;
const tenant = (kind: string) => `t-${kind}-${process.pid}-${Date.now()}-${++unique}`;

eachProxy("dubbo: global rate limit with envoyproxy/ratelimit + Redis", (kind) => {
  let provider: DubboProvider;
  const sidecars: Sidecar[] = [];
  before(async () => { provider = await startDubboProvider({ version: "v1" }); });
  after(async () => { for (const s of sidecars) await s.close(); await provider?.close(); });
  const sidecar = async (rule: Rule, grpc: Record<string, number> = { rls: rls.grpcPort }) => {
    const s = await startSidecar(kind, { protocol: "dubbo", pluginConfig: pluginConfig(rule), upstream: { name: "provider", port: provider.port }, grpc });
    sidecars.push(s);
    return s;
  };
  const callsTo = (arg: string) => provider.calls.filter((c) => c.args[0] === arg);

  test("Aeraki's example: sayHello is limited to 2 an hour, other methods are not checked (dubbo2.js)", async () => {
    await rls.redis.command("FLUSHALL");
    const s = await sidecar({ match: { attributes: { method: { exact: "sayHello" } } }, descriptors: [{ property: "method", descriptorKey: "method" }] });
    const c = new DubboConsumer({ address: `127.0.0.1:${s.port}`, interface: DEMO_SERVICE, timeoutSeconds: 30 });
    try {
      for (const arg of ["a1", "a2"]) assert.equal((await c.call("sayHello", arg)).err, null, `sayHello(${arg}) is within the limit`);
      const third = await c.call("sayHello", "a3");
      assert.ok(third.err, "the third sayHello is over the limit");
      assert.match(third.err.message, /global rate limit exceeded for service dubbo-demo/);
      assert.ok(third.ms < 3000, `over-limit reply after ${third.ms.toFixed(0)} ms`);
      for (let i = 0; i < 4; i++) assert.equal((await c.call("echo", `e${i}`)).err, null, "echo matches no rule");
    } finally { await c.close(); }
    assert.equal(callsTo("a3").length, 0, "the refused call reached no provider");
    assert.equal(await counterAtLeast(s.proxy, STATS + "global_ratelimit_ok", 2), 2);
    assert.equal(await counterAtLeast(s.proxy, STATS + "global_ratelimit_over_limit", 1), 1);
    assert.equal(await s.proxy.stat(STATS + "global_ratelimit_total"), 3, "echo calls were not checked");
    assert.equal(await counterAtLeast(s.proxy, STATS + "ratelimit_over_limit", 1), 1);
    assert.deepEqual(s.proxy.vmFailures(), []);
  });

  test("requests pipelined behind a held one keep their order and wait for the answer", async () => {
    const s = await sidecar({ match: { attributes: { method: { exact: "sayHello" } } }, descriptors: [{ property: "x-tenant", descriptorKey: "tenant" }] });
    const t = tenant(kind);
    const raw = await RawDubboConnection.connect(s.port);
    try {
      // 3 per tenant an hour: one of the sayHello requests 2, 4, 6, 8 is over (their checks run in
      // parallel, so which one is the service's choice); 1, 3, 5, 7, 9 are not checked.
      const frames = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => encodeRequest({
        id: BigInt(i), path: DEMO_SERVICE, method: i % 2 === 0 ? "sayHello" : "echo", args: [`${t}-${i}`], attachments: { "x-tenant": t },
      }));
      await rls.redis.command("CLIENT PAUSE 700"); // the service answers only after Redis resumes
      const t0 = Date.now();
      raw.write(Buffer.concat(frames));
      await sleep(300);
      assert.equal(callsTo(`${t}-1`).length, 0, "nothing goes on while a check is pending, not even the request in front");
      const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => raw.response(BigInt(i))));
      assert.ok(Date.now() - t0 >= 500, "answered after Redis resumed");
      const denied = answers.filter((a) => a.status === STATUS_THREADPOOL_EXHAUSTED).map((a) => Number(a.id));
      assert.equal(denied.length, 1, answers.map((a) => a.status).join(","));
      assert.ok([2, 4, 6, 8].includes(denied[0]), `denied ${denied[0]}`);
      assert.ok(answers.every((a) => a.status === STATUS_OK || Number(a.id) === denied[0]));
      const seen = provider.calls.filter((c) => String(c.args[0]).startsWith(`${t}-`)).map((c) => Number(String(c.args[0]).split("-").pop()));
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9].filter((i) => i !== denied[0]), "the provider saw the allowed requests in the order sent");
    } finally { await raw.close(); }
    assert.deepEqual(s.proxy.vmFailures(), []);
  });

  test("1000 pipelined requests, more than are held at once (256): all are checked and answered, in order", async () => {
    const s = await sidecar({ descriptors: [{ property: "x-bulk", descriptorKey: "bulk" }] });
    const b = tenant(kind);
    const raw = await RawDubboConnection.connect(s.port);
    try {
      // ~150 KB: Envoy reads it in pieces, so reading stops at 256 held checks and goes on later.
      const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
      raw.write(Buffer.concat(ids.map((i) => encodeRequest({ id: BigInt(i), path: DEMO_SERVICE, method: "echo", args: [`${b}-${i}`], attachments: { "x-bulk": b } }))));
      const answers = await Promise.all(ids.map((i) => raw.response(BigInt(i))));
      assert.ok(answers.every((a) => a.status === STATUS_OK), answers.map((a) => a.status).join(","));
      const seen = provider.calls.filter((c) => String(c.args[0]).startsWith(`${b}-`)).map((c) => Number(String(c.args[0]).split("-").pop()));
      assert.deepEqual(seen, ids);
    } finally { await raw.close(); }
    assert.equal(await counterAtLeast(s.proxy, STATS + "global_ratelimit_ok", 1000), 1000);
  });

  test("the connection's first request is checked before tcp_proxy connects (outbound, defaultCluster)", async () => {
    // With a cluster to bind, on_new_connection holds tcp_proxy back; the check's answer lets it connect.
    const cluster = "outbound|20880||provider.default.svc.cluster.local";
    const hold = await startHoldServer();
    try {
      const s = await startSidecar(kind, { protocol: "dubbo", upstream: { name: cluster, port: provider.port }, grpc: { rls: hold.port },
        pluginConfig: { statPrefix: "rl", services: [{ name: "dubbo-demo.default.svc.cluster.local", defaultCluster: cluster,
          globalRateLimit: { domain: "production", rateLimitService: "rls", requestTimeout: "1s", descriptors: [{ property: "method", descriptorKey: "method" }] } }] } });
      sidecars.push(s);
      const connections = provider.connections;
      const raw = await RawDubboConnection.connect(s.port);
      const heartbeat = raw.heartbeat(5n); // held before the first request, forwarded in front of it
      const answer = raw.request({ id: 6n, path: DEMO_SERVICE, method: "echo", args: ["first"] });
      const [call] = await hold.waitForCalls(1);
      await sleep(150);
      assert.equal(provider.connections, connections, "no upstream connection before the answer");
      call.reply(Buffer.from([0x08, 0x01]));
      assert.equal((await answer).status, STATUS_OK);
      assert.equal((await heartbeat).status, STATUS_OK);
      assert.equal(provider.connections, connections + 1);
      await raw.close();
    } finally { await hold.close(); }
  });

  test("requestTimeout: a late service is a failure; denyOnFail decides", async () => {
    for (const denyOnFail of [false, true]) {
      const s = await sidecar({ descriptors: [{ property: "x-tenant", descriptorKey: "tenant" }], requestTimeout: "150ms", denyOnFail });
      const raw = await RawDubboConnection.connect(s.port);
      try {
        await rls.redis.command("CLIENT PAUSE 1000");
        const t0 = Date.now();
        const r = await raw.request({ id: 7n, path: DEMO_SERVICE, method: "echo", args: [`late-${denyOnFail}`], attachments: { "x-tenant": tenant(kind) } });
        const ms = Date.now() - t0;
        assert.ok(ms >= 140 && ms < 900, `decided after ${ms} ms, by the timeout`);
        if (denyOnFail) {
          assert.equal(r.status, STATUS_THREADPOOL_EXHAUSTED);
          assert.match(String(r.error), /rate limit service unavailable .*denyOnFail/);
        } else assert.equal(r.status, STATUS_OK, "failure mode allows");
      } finally { await raw.close(); }
      assert.equal(await counterAtLeast(s.proxy, STATS + "global_ratelimit_error", 1), 1);
      assert.equal(await s.proxy.stat(STATS + "global_ratelimit_failure_mode_allowed"), denyOnFail ? 0 : 1);
      await sleep(1000); // Redis resumes
    }
  });

  test("an unreachable service fails every check at once, and an unknown cluster name too", async () => {
    const dead = await freePort();
    for (const [denyOnFail, rateLimitService, grpc] of [
      [true, "rls", { rls: dead }], [false, "rls", { rls: dead }], [true, "no-such-cluster", {}],
    ] as const) {
      const s = await sidecar({ descriptors: [{ property: "method", descriptorKey: "method" }], denyOnFail, rateLimitService }, grpc);
      const raw = await RawDubboConnection.connect(s.port);
      try {
        const r = await raw.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["x"] });
        assert.equal(r.status, denyOnFail ? STATUS_THREADPOOL_EXHAUSTED : STATUS_OK, `${rateLimitService} denyOnFail=${denyOnFail}`);
      } finally { await raw.close(); }
      assert.equal(await counterAtLeast(s.proxy, STATS + "global_ratelimit_error", 1), 1);
    }
  });

  test("a connection that closes while its check is pending cancels the call", async () => {
    // The real service cannot show a cancelled stream; the test's gRPC server can (RST_STREAM).
    const hold = await startHoldServer();
    try {
      const s = await sidecar({ descriptors: [{ property: "method", descriptorKey: "method" }] }, { rls: hold.port });
      const c = await client(s.port);
      c.send(encodeRequest({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["cancelled"] }));
      const [call] = await hold.waitForCalls(1);
      assert.equal(call.path, "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit");
      assert.equal(call.headers["grpc-timeout"], "1000m");
      const t0 = Date.now();
      c.socket.resetAndDestroy(); // a reset closes the connection (a FIN would only half-close it)
      await call.closed;
      assert.ok(Date.now() - t0 < 800, "reset by the cancel, not by the 1 s timeout");
      assert.equal(call.rstCode, 2, "the proxy reset the stream (proxy_grpc_cancel)");
      await sleep(200);
      assert.equal(callsTo("cancelled").length, 0);
      // The next connection's check works as before, and an OK answer lets its request through.
      const raw2 = await RawDubboConnection.connect(s.port);
      const answer = raw2.request({ id: 2n, path: DEMO_SERVICE, method: "echo", args: ["after"] });
      (await hold.waitForCalls(2))[1].reply(Buffer.from([0x08, 0x01])); // RateLimitResponse{overall_code: OK}
      assert.equal((await answer).status, STATUS_OK);
      await raw2.close();
      assert.deepEqual(s.proxy.vmFailures(), []);
    } finally { await hold.close(); }
  });

  test("a client that half-closes while its check is pending still gets its answer", async () => {
    const hold = await startHoldServer();
    try {
      const s = await sidecar({ descriptors: [{ property: "method", descriptorKey: "method" }] }, { rls: hold.port });
      const raw = await RawDubboConnection.connect(s.port);
      const answer = raw.request({ id: 3n, path: DEMO_SERVICE, method: "echo", args: ["half-closed"] });
      const [call] = await hold.waitForCalls(1);
      raw.end();
      await sleep(200);
      call.reply(Buffer.from([0x08, 0x01]));
      assert.equal((await answer).status, STATUS_OK);
      await raw.closed;
      assert.equal(callsTo("half-closed").length, 1);
    } finally { await hold.close(); }
  });

  test("frames arriving while paused are checked at once, each read its own call; a frame split across reads waits for its end", async () => {
    const hold = await startHoldServer();
    try {
      const s = await sidecar({ descriptors: [{ property: "method", descriptorKey: "method" }] }, { rls: hold.port });
      const raw = await RawDubboConnection.connect(s.port);
      const frame = (id: number) => encodeRequest({ id: BigInt(id), path: DEMO_SERVICE, method: "echo", args: [`split-${id}`] });
      const answers = [1, 2, 3].map((i) => raw.response(BigInt(i)));
      raw.write(frame(1));
      await hold.waitForCalls(1);
      raw.write(frame(2));
      await hold.waitForCalls(2); // issued while the first is still pending
      const third = frame(3);
      raw.write(third.subarray(0, 10));
      await sleep(150);
      assert.equal(hold.calls.length, 2, "an incomplete frame is not checked");
      raw.write(third.subarray(10));
      const calls = await hold.waitForCalls(3);
      calls[2].reply(Buffer.from([0x08, 0x01]));
      calls[1].reply(Buffer.from([0x08, 0x01]));
      await sleep(150);
      assert.equal(provider.calls.filter((c) => String(c.args[0]).startsWith("split-")).length, 0, "the first check is still pending");
      calls[0].reply(Buffer.from([0x08, 0x02])); // OVER_LIMIT
      const [a1, a2, a3] = await Promise.all(answers);
      assert.deepEqual([a1.status, a2.status, a3.status], [STATUS_THREADPOOL_EXHAUSTED, STATUS_OK, STATUS_OK]);
      assert.deepEqual(provider.calls.filter((c) => String(c.args[0]).startsWith("split-")).map((c) => c.args[0]), ["split-2", "split-3"]);
      await raw.close();
      assert.deepEqual(s.proxy.vmFailures(), []);
    } finally { await hold.close(); }
  });

  test("past 256 held checks the held bytes are not read; they are scanned when answers come, in order", async () => {
    const hold = await startHoldServer();
    try {
      const s = await sidecar({ descriptors: [{ property: "method", descriptorKey: "method" }] }, { rls: hold.port });
      const raw = await RawDubboConnection.connect(s.port);
      const frame = (id: number) => encodeRequest({ id: BigInt(id), path: DEMO_SERVICE, method: "echo", args: [`cap-${id}`] });
      const first = Array.from({ length: 300 }, (_, i) => i + 1), later = [301, 302, 303, 304, 305];
      const answers = [...first, ...later].map((i) => raw.response(BigInt(i)));
      raw.write(Buffer.concat(first.map(frame)));
      await hold.waitForCalls(1);
      await sleep(300);
      assert.ok(hold.calls.length <= 4, `${hold.calls.length} calls in flight: at most 4 per connection`);
      for (const c of hold.calls) assert.ok(descriptorsOf(c.body).length <= 64, "at most 64 requests per call");
      raw.write(Buffer.concat(later.map(frame)));
      await sleep(200);
      // Answer everything as it comes, OK for every descriptor.
      let answered = 0, asked = 0;
      while (asked < 305) {
        const calls = await hold.waitForCalls(answered + 1, 5000);
        for (; answered < calls.length; answered++) {
          const n = descriptorsOf(calls[answered].body).length;
          asked += n;
          calls[answered].reply(rlsResponse(Array(n).fill(1)));
        }
        await sleep(5);
      }
      assert.equal(asked, 305);
      assert.ok(answered < 305 / 4, `${answered} calls for 305 requests: their checks are batched`);
      assert.ok((await Promise.all(answers)).every((a) => a.status === STATUS_OK));
      const seen = provider.calls.filter((c) => String(c.args[0]).startsWith("cap-")).map((c) => Number(String(c.args[0]).slice(4)));
      assert.deepEqual(seen, [...first, ...later]);
      await raw.close();
      assert.deepEqual(s.proxy.vmFailures(), []);
    } finally { await hold.close(); }
  });

  test("requests of one read share a call; each gets its own verdict from the status of its descriptors", async () => {
    const hold = await startHoldServer();
    try {
      const s = await sidecar({ descriptors: [{ property: "method", descriptorKey: "method" }, { property: "x-tenant", descriptorKey: "tenant" }] }, { rls: hold.port });
      const raw = await RawDubboConnection.connect(s.port);
      const ids = [1, 2, 3, 4, 5];
      const answers = ids.map((i) => raw.response(BigInt(i)));
      // Request 3 has no x-tenant attachment: one descriptor instead of two.
      raw.write(Buffer.concat(ids.map((i) => encodeRequest({ id: BigInt(i), path: DEMO_SERVICE, method: "echo", args: [`b-${i}`], attachments: i === 3 ? {} : { "x-tenant": `t${i}` } }))));
      const [call] = await hold.waitForCalls(1);
      await sleep(100);
      assert.equal(hold.calls.length, 1, "one call for the five requests");
      assert.deepEqual(descriptorsOf(call.body), [
        "method=echo", "tenant=t1", "method=echo", "tenant=t2", "method=echo", "method=echo", "tenant=t4", "method=echo", "tenant=t5",
      ]);
      // Over the limit: request 2 (its tenant descriptor) and request 5 (its method descriptor).
      call.reply(rlsResponse([1, 1, 1, 2, 1, 1, 1, 2, 1], 2));
      assert.deepEqual((await Promise.all(answers)).map((a) => a.status), [STATUS_OK, STATUS_THREADPOOL_EXHAUSTED, STATUS_OK, STATUS_OK, STATUS_THREADPOOL_EXHAUSTED]);
      assert.deepEqual(provider.calls.filter((c) => String(c.args[0]).startsWith("b-")).map((c) => c.args[0]), ["b-1", "b-3", "b-4"]);
      await raw.close();
    } finally { await hold.close(); }
  });
});

/** RateLimitResponse{overall_code, statuses: [{code}...]} as the service encodes it. */
function rlsResponse(codes: number[], overall = 1): Buffer {
  return Buffer.from([0x08, overall, ...codes.flatMap((c) => [0x12, 0x02, 0x08, c])]);
}

/** "key=value" of each descriptor of a RateLimitRequest (protobuf read by hand: two levels). */
function descriptorsOf(body: Buffer): string[] {
  const fields = (b: Buffer): [number, Buffer][] => {
    const out: [number, Buffer][] = [];
    let p = 0;
    const varint = () => { let v = 0, s = 0; for (;;) { const x = b[p++]; v += (x & 0x7f) * 2 ** s; s += 7; if (!(x & 0x80)) return v; } };
    while (p < b.length) {
      const key = varint(), f = Math.floor(key / 8), w = key % 8;
      if (w === 0) { varint(); continue; }
      const n = varint();
      out.push([f, b.subarray(p, p + n)]);
      p += n;
    }
    return out;
  };
  return fields(body).filter(([f]) => f === 2).map(([, d]) => fields(d).filter(([f]) => f === 1)
    .map(([, e]) => { const kv = fields(e); return `${kv.find(([f]) => f === 1)![1]}=${kv.find(([f]) => f === 2)![1]}`; }).join(","));
}

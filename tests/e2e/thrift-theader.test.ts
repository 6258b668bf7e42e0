// THeader end to end: Apache Thrift's Node library (0.24) as client and servers, speaking
// THeader (TBufferedTransport + THeaderProtocol, inner binary or compact) through the local host
// running build/thrift.wasm (and real Envoy). First the stack alone (no mesh), so a failure below points at the
// module and not at the harness; then envoy.yaml's rules unchanged (method routing, no route);
// then a pluginConfig that routes by an info header and mutates request and response headers.
import { after, before, describe } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { connectGreeter, type GreeterConnection, type GreeterOptions, type Reply } from "../../envoy-dev/apps/thrift-client.ts";
import { startThriftServer } from "../../envoy-dev/apps/thrift-server.ts";
import { STATS, CLUSTERS, startThriftMesh, type ThriftMesh } from "../../envoy-dev/apps/thrift/mesh.ts";
import { THEADER_PROTOCOL_ID, isTHeaderFrame, type ProtocolName } from "../../envoy-dev/apps/thrift/stack.ts";

const CLIENT_TIMEOUT_MS = 20000;
/** A reply the module makes (error reply via a probe) must come well before any timeout. */
const PROMPT_MS = 2000;
/** Every call in this file is bounded by this; a hang fails with what the servers saw. */
const CALL_BOUND_MS = 5000;
const INNER: ProtocolName[] = ["binary", "compact"];
const GREETER_METHODS = { sayHello: 1, sayBye: 1, add: 1, ping: 1, unknownToRouter: 1 };

/** The THeader frame's payload (the Thrift message after the header): what a mutation must not touch. */
function payloadOf(frame: Buffer): Buffer {
  assert.ok(isTHeaderFrame(frame), `not a THeader frame: ${frame.subarray(0, 16).toString("hex")}`);
  return frame.subarray(14 + frame.readUInt16BE(12) * 4);
}
function keysOnce(pairs: [string, string][] | null, what: string): void {
  assert.ok(pairs, `${what}: no THeader info headers`);
  const keys = pairs.map(([k]) => k);
  assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], `${what}: a key appears more than once: ${JSON.stringify(pairs)}`);
}

function bounded<T>(p: Promise<T>, what: string, evidence: () => unknown): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${CALL_BOUND_MS} ms; ${JSON.stringify(evidence())}`)), CALL_BOUND_MS);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Opens clients on a mesh, bounds their calls, closes them at the end. */
function clients(getMesh: () => ThriftMesh) {
  const open: GreeterConnection[] = [];
  const evidence = () => {
    const mesh = getMesh();
    return {
      servers: Object.fromEntries(Object.entries(mesh.servers).map(([k, s]) => [k, s.requests.map((r) => `${r.method}#${r.seqid}`)])),
      clientErrors: open.flatMap((c) => c.errors.map(String)),
      hostLogTail: mesh.proxy.logs().slice(-5),
    };
  };
  return {
    async connect(protocol: ProtocolName, headers?: Record<string, string>) {
      const o: GreeterOptions = { host: "127.0.0.1", port: getMesh().port, transport: "header", protocol, timeoutMs: CLIENT_TIMEOUT_MS, headers };
      const c = await connectGreeter(o);
      open.push(c);
      return c;
    },
    call<T>(c: GreeterConnection, method: Parameters<GreeterConnection["exchange"]>[0], ...args: unknown[]): Promise<Reply<T>> {
      return bounded(c.exchange<T>(method, ...args), `${method}(${args.join(", ")})`, evidence);
    },
    async closeAll() { for (const c of open) await c.close(); },
  };
}

describe("THeader stack without the mesh (the harness itself)", () => {
  for (const protocol of INNER) {
    test(`client and server exchange info headers both ways (${protocol})`, async () => {
      const s = await startThriftServer({ version: "solo", transport: "header", protocol, responseHeaders: { "x-server-version": "solo", "x-a": "1" } });
      const c = await connectGreeter({ host: "127.0.0.1", port: s.port, transport: "header", protocol, headers: { "x-tenant": "acme" } });
      try {
        const r = await bounded(c.exchange<string>("sayHello", "ann"), "sayHello", () => s.requests);
        assert.equal(r.value, "Hello ann, from solo");
        assert.deepEqual(r.headers, { "x-server-version": "solo", "x-a": "1" });
        assert.deepEqual(r.infoPairs, [["x-server-version", "solo"], ["x-a", "1"]]);
        // What the client wrote is a THeader frame with the inner protocol's id and our header.
        assert.equal(c.sent.length, 1);
        assert.ok(isTHeaderFrame(c.sent[0]));
        assert.equal(c.sent[0][14], THEADER_PROTOCOL_ID[protocol]);
        assert.equal(c.sent[0].readUInt32BE(8), r.seqid, "THeader seqid = message seqid");
        assert.equal(s.requests.length, 1);
        assert.deepEqual(s.requests[0].headers, { "x-tenant": "acme" });
        assert.deepEqual(s.requests[0].infoPairs, [["x-tenant", "acme"]]);
        assert.deepEqual(s.requests[0].raw, c.sent[0]);
        // Headers are per call: a second call with other headers carries only those.
        c.setHeaders({ "x-tenant": "globex" });
        assert.equal((await bounded(c.exchange<number>("add", 2, 3), "add", () => s.requests)).value, 5);
        assert.deepEqual(s.requests[1].headers, { "x-tenant": "globex" });
      } finally {
        await c.close();
        await s.close();
      }
    });
  }
});

eachProxy("THeader through thrift.wasm with envoy.yaml's rules (no rule names a header)", (proxy) => {
  let mesh: ThriftMesh;
  const cs = clients(() => mesh);
  before(async () => { mesh = await startThriftMesh("header", "binary", { proxy }); });
  after(async () => { await cs.closeAll(); await mesh?.close(); });

  for (const protocol of INNER) {
    test(`routes by method across connections: sayHello to v2, sayBye/add/ping to v1 (${protocol})`, async () => {
      const v1Before = mesh.servers.v1.requests.length, v2Before = mesh.servers.v2.requests.length;
      const hello = await cs.connect(protocol);
      assert.equal((await cs.call(hello, "sayHello", "ann")).value, "Hello ann, from v2");
      // x-tenant rides along; no rule wants it, so it changes nothing and reaches the server as sent.
      const bye = await cs.connect(protocol, { "x-tenant": "acme" });
      const r = await cs.call<string>(bye, "sayBye", "bob");
      assert.equal(r.value, "Bye bob, from v1");
      assert.deepEqual(r.headers, { "x-server-version": "v1" }, "the server's reply headers come back unchanged");
      assert.equal((await cs.call(bye, "add", 20, 22)).value, 42);
      const ping = await cs.call(bye, "ping");
      assert.ok(!("error" in ping), `ping failed: ${ping.error}`);
      const v2 = mesh.servers.v2.requests.slice(v2Before), v1 = mesh.servers.v1.requests.slice(v1Before);
      assert.deepEqual(v2.map((q) => q.method), ["sayHello"]);
      assert.deepEqual(v1.map((q) => q.method), ["sayBye", "add", "ping"]);
      // Nothing to rewrite: every frame reaches its server byte for byte as the client wrote it.
      assert.deepEqual(v2.map((q) => q.raw.toString("hex")), hello.sent.map((b) => b.toString("hex")));
      assert.deepEqual(v1.map((q) => q.raw.toString("hex")), bye.sent.map((b) => b.toString("hex")));
      for (const q of v1) assert.deepEqual(q.headers, { "x-tenant": "acme" });
      assert.ok(v1.every((q) => q.raw[14] === THEADER_PROTOCOL_ID[protocol]));
      assert.deepEqual(hello.errors, []);
      assert.deepEqual(bye.errors, []);
    });

    test(`a call no route matches gets a THeader TApplicationException at once (${protocol})`, async () => {
      const base = await mesh.stat(STATS + "route_not_found");
      const defBefore = mesh.servers.default.requests.length;
      const c = await cs.connect(protocol, { "x-tenant": "acme" });
      const t0 = performance.now();
      const r = await cs.call(c, "unknownToRouter", "eve");
      const ms = performance.now() - t0;
      assert.ok("error" in r, `expected an error, got ${JSON.stringify(r.value)}`);
      assert.equal(r.error.name, "TApplicationException");
      assert.equal(r.error.type, 1); // UNKNOWN_METHOD
      assert.match(r.error.message, /no route/);
      assert.ok(ms < PROMPT_MS, `error after ${ms.toFixed(0)} ms`);
      assert.ok(r.raw && isTHeaderFrame(r.raw), "the error reply is a THeader frame the client parsed");
      assert.equal(r.raw[14], THEADER_PROTOCOL_ID[protocol], "the error reply keeps the request's inner protocol");
      assert.equal(r.raw.readUInt32BE(8), r.seqid, "the error reply keeps the THeader seqid");
      assert.equal(await mesh.waitForCounter(STATS + "route_not_found", base, 1), 1);
      for (const s of Object.values(mesh.servers)) assert.ok(!s.calls.includes("unknownToRouter"), `${s.version} was reached`);
      // The probe that made the reply went to the default cluster, as THeader.
      const probes = mesh.servers.default.requests.slice(defBefore);
      assert.equal(probes.length, 1, `default cluster saw ${JSON.stringify(probes.map((q) => q.method))}`);
      assert.notEqual(probes[0].method, "unknownToRouter");
      assert.ok(probes[0].infoPairs !== null, "the probe is a THeader frame");
      // The connection stays usable, bound to the default cluster.
      assert.equal((await cs.call(c, "sayBye", "eve")).value, "Bye eve, from default");
      assert.deepEqual(c.errors, []);
    });
  }
});

const SVC = "thrift-demo.default.svc.cluster.local";
const HEADER_RULES = JSON.stringify({
  statPrefix: "thrift_th",
  statsFlushIntervalMs: 100,
  services: [{
    name: SVC,
    defaultCluster: CLUSTERS.default,
    routes: [
      { name: "tenant-acme",
        match: { attributes: { "x-tenant": { exact: "acme" }, method: { regex: "sayHello|sayBye|add|ping" } } },
        route: [{ cluster: CLUSTERS.v2, weight: 100 }],
        requestMutation: [{ key: "x-canary", value: "true" }, { key: "x-mesh", value: "metaprotocol" }],
        responseMutation: [{ key: "x-route", value: "tenant-acme" }] },
      { name: "hello-v2", match: { attributes: { method: { exact: "sayHello" } } }, route: [{ cluster: CLUSTERS.v2, weight: 100 }] },
      { name: "known-v1", match: { attributes: { method: { regex: "sayBye|add|ping" } } }, route: [{ cluster: CLUSTERS.v1, weight: 100 }] },
    ],
  }],
});
const stat = (name: string) => `metaprotocol_thrift_th_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;

eachProxy("THeader through thrift.wasm: routing by an info header, header mutations, pipelining", (proxy) => {
  let mesh: ThriftMesh;
  const cs = clients(() => mesh);
  before(async () => {
    mesh = await startThriftMesh("header", "binary", {
      proxy, pluginConfig: HEADER_RULES, responseHeaders: { "x-route": "server", "x-app": "greeter" },
    });
  });
  after(async () => { await cs.closeAll(); await mesh?.close(); });

  test("an info header routes: x-tenant=acme sends sayBye to v2; another tenant or none goes by method", async () => {
    const acmeBase = await mesh.stat(stat("route.tenant-acme.request_total"));
    const v1Base = await mesh.stat(stat("route.known-v1.request_total"));
    const v1Before = mesh.servers.v1.requests.length;
    const acme = await cs.connect("binary", { "x-tenant": "acme" });
    assert.equal((await cs.call(acme, "sayBye", "a")).value, "Bye a, from v2");
    const globex = await cs.connect("compact", { "x-tenant": "globex" });
    assert.equal((await cs.call(globex, "sayBye", "g")).value, "Bye g, from v1");
    const none = await cs.connect("binary");
    assert.equal((await cs.call(none, "sayBye", "n")).value, "Bye n, from v1");
    assert.equal(await mesh.waitForCounter(stat("route.tenant-acme.request_total"), acmeBase, 1), 1);
    assert.equal(await mesh.waitForCounter(stat("route.known-v1.request_total"), v1Base, 2), 2);
    // Routes without mutations forward the THeader frames untouched.
    const v1 = mesh.servers.v1.requests.slice(v1Before);
    assert.deepEqual(v1.map((q) => q.raw.toString("hex")), [...globex.sent, ...none.sent].map((b) => b.toString("hex")));
  });

  for (const protocol of INNER) {
    test(`request and response mutations are THeader headers: replaced once, others kept (${protocol})`, async () => {
      const appliedBase = await mesh.stat(stat("mutation_applied"));
      const unsupportedBase = await mesh.stat(stat("mutation_unsupported"));
      const v2Before = mesh.servers.v2.requests.length;
      const c = await cs.connect(protocol, { "x-tenant": "acme", "x-canary": "false", "x-keep": "1" });
      const r = await cs.call<string>(c, "sayHello", "mut");
      assert.equal(r.value, "Hello mut, from v2");

      const [q] = mesh.servers.v2.requests.slice(v2Before);
      assert.ok(q, "v2 got no request");
      assert.deepEqual(q.headers, { "x-tenant": "acme", "x-canary": "true", "x-keep": "1", "x-mesh": "metaprotocol" });
      keysOnce(q.infoPairs, "request as the server read it");
      assert.deepEqual(q.infoPairs!.filter(([k]) => k === "x-canary"), [["x-canary", "true"]]);
      assert.equal(q.raw[14], THEADER_PROTOCOL_ID[protocol], "protocol id kept");
      assert.equal(q.raw.readUInt32BE(8), c.sent[0].readUInt32BE(8), "THeader seqid kept");
      assert.equal(q.raw.readUInt16BE(6), c.sent[0].readUInt16BE(6), "THeader flags kept");
      assert.equal(q.raw.readUInt32BE(0), q.raw.length - 4, "frame length matches the rewritten frame");
      assert.deepEqual(payloadOf(q.raw), payloadOf(c.sent[0]), "the Thrift message itself is untouched");

      // The server answered x-route=server and x-app=greeter; the route replaces x-route, keeps x-app.
      assert.deepEqual(r.headers, { "x-route": "tenant-acme", "x-app": "greeter" });
      keysOnce(r.infoPairs, "reply as the client read it");
      assert.deepEqual(r.infoPairs!.filter(([k]) => k === "x-route"), [["x-route", "tenant-acme"]]);
      assert.equal(r.raw!.readUInt32BE(0), r.raw!.length - 4);

      assert.equal(await mesh.waitForCounter(stat("mutation_applied"), appliedBase, 2), 2);
      assert.equal(await mesh.stat(stat("mutation_unsupported")), unsupportedBase);
      assert.deepEqual(c.errors, []);
    });
  }

  test("pipelined calls on one THeader connection: each answered with its own result and headers", async () => {
    const appliedBase = await mesh.stat(stat("mutation_applied"));
    const notFoundBase = await mesh.stat(stat("route_not_found"));
    const v2Before = mesh.servers.v2.requests.length;
    const c = await cs.connect("binary", { "x-tenant": "acme" });
    assert.equal((await cs.call(c, "sayHello", "first")).value, "Hello first, from v2"); // binds to v2
    const N = 40;
    const kind = (i: number) => (i % 10 === 7 ? "rejected" : ["add", "sayBye", "sayHello", "ping"][i % 4]);
    // Every call is written before any answer can arrive: the module sees them back to back.
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => {
      switch (kind(i)) {
        case "rejected": return cs.call(c, "unknownToRouter", `u${i}`); // x-tenant route excludes it: no route
        case "add": return cs.call(c, "add", i, 1000);
        case "sayBye": return cs.call(c, "sayBye", `p${i}`);
        case "sayHello": return cs.call(c, "sayHello", `p${i}`);
        default: return cs.call(c, "ping");
      }
    }));
    let rejected = 0;
    replies.forEach((r, i) => {
      const k = kind(i);
      if (k === "rejected") {
        rejected++;
        assert.ok("error" in r && r.error.type === 1, `call ${i}: ${JSON.stringify(r)}`);
        assert.deepEqual(r.headers, {}, `call ${i}: an error reply carries no headers`);
        return;
      }
      assert.ok(!("error" in r), `call ${i} (${k}) failed: ${r.error}`);
      const want = k === "add" ? 1000 + i : k === "sayBye" ? `Bye p${i}, from v2` : k === "sayHello" ? `Hello p${i}, from v2` : undefined;
      assert.equal(r.value, want, `call ${i} (${k})`);
      assert.deepEqual(r.headers, { "x-route": "tenant-acme", "x-app": "greeter" }, `call ${i} (${k}) headers`);
      keysOnce(r.infoPairs, `call ${i}`);
    });
    const seqids = replies.map((r) => r.seqid);
    assert.equal(new Set(seqids).size, N, "one reply per seqid");
    // A rejected call is answered through a probe to the bound cluster (v2), never as itself.
    const atV2 = mesh.servers.v2.requests.slice(v2Before);
    const served = atV2.filter((q) => q.method in GREETER_METHODS);
    const probes = atV2.filter((q) => !(q.method in GREETER_METHODS));
    assert.equal(served.length, 1 + N - rejected, `v2 saw ${JSON.stringify(atV2.map((q) => q.method))}`);
    assert.equal(probes.length, rejected, `v2 saw ${JSON.stringify(atV2.map((q) => q.method))}`);
    assert.ok(served.every((q) => q.headers["x-canary"] === "true" && q.headers["x-mesh"] === "metaprotocol" && q.headers["x-tenant"] === "acme"));
    for (const q of served) keysOnce(q.infoPairs, `${q.method}#${q.seqid} at v2`);
    assert.ok(!served.some((q) => q.method === "unknownToRouter"));
    assert.equal(await mesh.waitForCounter(stat("route_not_found"), notFoundBase, rejected), rejected);
    assert.equal(await mesh.waitForCounter(stat("mutation_applied"), appliedBase, 2 * (1 + N - rejected)), 2 * (1 + N - rejected));
    assert.deepEqual(c.errors, []);
  });
});

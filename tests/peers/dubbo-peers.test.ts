// The real Dubbo peers talking directly, no proxy: if these pass and an e2e test fails, the
// proxy (module or host) is at fault. Consumer: dubbo2.js; provider: hessian.js + our header code.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDubboProvider, type DubboProvider } from "../../envoy-dev/apps/dubbo-provider.ts";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { encodeRequest } from "../../envoy-dev/apps/dubbo/codec.ts";
import { Status } from "../../envoy-dev/apps/dubbo/protocol.ts";

describe("dubbo peers, direct", { timeout: 30_000 }, () => {
  let provider: DubboProvider;
  const toClose: Array<{ close(): Promise<void> }> = [];
  const consumer = () => {
    const c = new DubboConsumer({ address: `127.0.0.1:${provider.port}`, timeoutSeconds: 10 });
    toClose.push(c);
    return c;
  };
  const raw = async () => {
    const r = await RawDubboConnection.connect(provider.port);
    toClose.push(r);
    return r;
  };

  before(async () => { provider = await startDubboProvider({ version: "v1" }); });
  after(async () => {
    for (const c of toClose) await c.close();
    await provider.close();
  });

  test("dubbo2.js calls each method and the provider records the request", async () => {
    const c = consumer();
    const before = provider.calls.length;
    assert.deepEqual(await c.call("sayHello", "alice").then((r) => [r.err, r.res]), [null, "Hello alice, from v1"]);
    assert.deepEqual(await c.call("sayBye", "bob").then((r) => [r.err, r.res]), [null, "Bye bob, from v1"]);
    assert.deepEqual(await c.call("echo", "x").then((r) => [r.err, r.res]), [null, "x (echo from v1)"]);
    const calls = provider.calls.slice(before);
    assert.deepEqual(calls.map((k) => [k.interface, k.method, k.args]), [
      [DEMO_SERVICE, "sayHello", ["alice"]], [DEMO_SERVICE, "sayBye", ["bob"]], [DEMO_SERVICE, "echo", ["x"]]]);
    assert.equal(calls[0].dubboVersion, "2.0.2");
    assert.equal(calls[0].attachments.interface, DEMO_SERVICE);
    assert.equal(calls[0].attachments.path, DEMO_SERVICE);
    assert.equal(new Set(calls.map((k) => k.connection)).size, 1, "one consumer = one connection");
    assert.equal(new Set(calls.map((k) => k.id)).size, 3, "distinct request ids");
  });

  test("dubbo2.js pipelines concurrent calls on one socket; each answer matches its argument", async () => {
    const c = consumer();
    await c.connected;
    const conns = provider.connections;
    const names = Array.from({ length: 64 }, (_, i) => `n${i}`);
    const pending = names.map((n) => c.call("echo", n));
    // All 64 requests were written before any response could be read: they are in flight together.
    assert.equal(c.decoded.length, 0);
    const results = await Promise.all(pending);
    assert.deepEqual(results.map((r) => r.res), names.map((n) => `${n} (echo from v1)`));
    assert.equal(provider.connections, conns, "no extra connection was opened");
  });

  test("response attachments: flag 4 for dubbo 2.0.2 (dubbo2.js decodes them), flag 1 for 2.0.0", async () => {
    const c = consumer();
    const { res, err } = await c.call("sayHello", "att");
    assert.equal(err, null);
    assert.equal(c.decodedFor(res)?.attachments["x-provider-version"], "v1");
    const r = await raw();
    const four = await r.request({ id: 7n, path: DEMO_SERVICE, method: "echo", args: ["a"] });
    assert.deepEqual([four.status, four.flag, four.value, four.attachments?.["x-provider-version"]], [20, 4, "a (echo from v1)", "v1"]);
    const one = await r.request({ id: 8n, dubboVersion: "2.0.0", path: DEMO_SERVICE, method: "echo", args: ["b"] });
    assert.deepEqual([one.status, one.flag, one.value, one.attachments], [20, 1, "b (echo from v1)", undefined]);
  });

  test("heartbeat: answered with the event flag, status 20, same id, null body; not a call", async () => {
    const r = await raw();
    const calls = provider.calls.length;
    const beats = provider.heartbeats;
    const hb = await r.heartbeat(0x1234_5678_9abcn);
    assert.deepEqual(hb, { id: 0x1234_5678_9abcn, status: Status.OK, event: true, value: null });
    assert.equal(provider.heartbeats, beats + 1);
    assert.equal(provider.calls.length, calls);
  });

  test("unknown interface: status 60 with a Dubbo-style message; dubbo2.js reports it as an error", async () => {
    const c = new DubboConsumer({ address: `127.0.0.1:${provider.port}`, interface: "org.apache.dubbo.samples.OtherService" });
    toClose.push(c);
    const { res, err } = await c.call("sayHello", "z");
    assert.equal(res, null);
    assert.match(String(err?.message), /Not found exported service: org\.apache\.dubbo\.samples\.OtherService/);
    const r = await raw();
    const sixty = await r.request({ id: 9n, path: "org.apache.dubbo.samples.OtherService", method: "sayHello", args: ["z"] });
    assert.equal(sixty.status, Status.SERVICE_NOT_FOUND);
  });

  test("unknown method: status 70", async () => {
    const r = await raw();
    const resp = await r.request({ id: 10n, path: DEMO_SERVICE, method: "nope", args: ["z"] });
    assert.equal(resp.status, Status.SERVICE_ERROR);
    assert.match(String(resp.error), /Not found method "nope/);
  });

  test("oneway: recorded, never answered", async () => {
    const r = await raw();
    const calls = provider.calls.length;
    r.write(encodeRequest({ id: 11n, path: DEMO_SERVICE, method: "echo", args: ["fire"], twoWay: false }));
    const after = await r.request({ id: 12n, path: DEMO_SERVICE, method: "echo", args: ["after"] });
    assert.equal(after.value, "after (echo from v1)");
    // Same connection, in order: the oneway was handled before the answered call.
    assert.deepEqual(provider.calls.slice(calls).map((k) => [k.id, k.oneway]), [[11n, true], [12n, false]]);
    assert.deepEqual(r.responses.map((x) => x.id), [12n]);
  });

  test("broken Hessian inside a valid header: status 40, the connection stays usable", async () => {
    const r = await raw();
    const body = Buffer.from([0x05, 0x32, 0x2e]); // a 5-char string cut after 2 chars
    const header = Buffer.from("dabbc2000000000000000015" + "00000003", "hex");
    r.write(Buffer.concat([header, body]));
    const bad = await r.response(0x15n);
    assert.equal(bad.status, Status.BAD_REQUEST);
    const ok = await r.request({ id: 0x16n, path: DEMO_SERVICE, method: "echo", args: ["still"] });
    assert.equal(ok.value, "still (echo from v1)");
  });

  test("wrong magic: the provider closes that connection", async () => {
    const r = await raw();
    r.write(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
    await r.closed;
    assert.equal(r.responses.length, 0);
  });

  test("dubbo2.js fails pending calls at once when the connection closes", async () => {
    const p = await startDubboProvider({ version: "gone" });
    const c = new DubboConsumer({ address: `127.0.0.1:${p.port}`, timeoutSeconds: 30 });
    toClose.push(c);
    await c.connected;
    await p.close(); // destroys the accepted socket
    const { err, ms } = await c.call("echo", "late");
    assert.ok(err, "expected an error");
    assert.doesNotMatch(err.message, /timeout/);
    assert.ok(ms < 30_000);
  });
});

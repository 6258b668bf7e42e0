// A mutation on a transport with no place for headers: framed (and unframed) Thrift frames carry
// no key/value headers, so a route's requestMutation/responseMutation cannot be applied. The
// call must still succeed, byte for byte unchanged; each refused frame is counted in
// mutation_unsupported; the proxy log gets one warning per connection naming the route, not
// one per frame. Apache Thrift's Node library on both ends, through build/thrift.wasm.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { connectGreeter, type GreeterConnection, type Reply } from "../../envoy-dev/apps/thrift-client.ts";
import { CLUSTERS, startThriftMesh, type ThriftMesh } from "../../envoy-dev/apps/thrift/mesh.ts";
import type { ProtocolName, TransportName } from "../../envoy-dev/apps/thrift/stack.ts";

const CALL_BOUND_MS = 5000;
const SVC = "thrift-demo.default.svc.cluster.local";
const RULES = JSON.stringify({
  statPrefix: "thrift_refused",
  statsFlushIntervalMs: 100,
  services: [{
    name: SVC,
    defaultCluster: CLUSTERS.default,
    routes: [
      { name: "hello-v2", match: { attributes: { method: { exact: "sayHello" } } },
        route: [{ cluster: CLUSTERS.v2, weight: 100 }],
        requestMutation: [{ key: "x-canary", value: "true" }] },
      { name: "bye-v1", match: { attributes: { method: { regex: "sayBye|add|ping" } } },
        route: [{ cluster: CLUSTERS.v1, weight: 100 }],
        responseMutation: [{ key: "x-served-by", value: "bye-v1" }] },
    ],
  }],
});
const stat = (name: string) => `metaprotocol_thrift_refused_${name}`;
const STACKS: [TransportName, ProtocolName][] = [["framed", "binary"], ["buffered", "compact"]];

for (const [transport, protocol] of STACKS) {
  eachProxy(`refused mutations on ${transport}+${protocol}: calls unchanged, counted, logged once per connection`, (proxy) => {
    let mesh: ThriftMesh;
    const open: GreeterConnection[] = [];
    before(async () => { mesh = await startThriftMesh(transport, protocol, { proxy, pluginConfig: RULES }); });
    after(async () => {
      for (const c of open) await c.close();
      await mesh?.close();
    });
    const connect = async () => {
      const c = await connectGreeter({ host: "127.0.0.1", port: mesh.port, transport, protocol, timeoutMs: 20000 });
      open.push(c);
      return c;
    };
    const call = <T>(c: GreeterConnection, method: "sayHello" | "sayBye" | "add", ...args: unknown[]): Promise<Reply<T>> => {
      let timer: NodeJS.Timeout;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${method}: no answer within ${CALL_BOUND_MS} ms; ` + JSON.stringify({
          v1: mesh.servers.v1.calls, v2: mesh.servers.v2.calls, clientErrors: c.errors.map(String), logTail: mesh.proxy.logs().slice(-5),
        }))), CALL_BOUND_MS);
      });
      return Promise.race([c.exchange<T>(method, ...args), limit]).finally(() => clearTimeout(timer));
    };
    /** The bytes the server must have read for what the client sent: framed servers see the frame without its length. */
    const asServerSees = (sent: Buffer) => (transport === "framed" ? sent.subarray(4) : sent).toString("hex");
    const refusedLines = (from: number) => mesh.proxy.logs().slice(from).filter((l) => l.includes("mutation_unsupported"));

    test("requestMutation: every call succeeds unchanged, each counted, one warning per connection", async () => {
      const base = await mesh.stat(stat("mutation_unsupported"));
      const appliedBase = await mesh.stat(stat("mutation_applied"));
      const logFrom = mesh.proxy.logs().length;
      const v2Before = mesh.servers.v2.requests.length;
      const conns = [await connect(), await connect()];
      const perConn = [3, 2];
      const sent: Buffer[] = [];
      for (const [ci, c] of conns.entries()) {
        for (let i = 0; i < perConn[ci]; i++) {
          const r = await call<string>(c, "sayHello", `c${ci}-${i}`);
          assert.equal(r.value, `Hello c${ci}-${i}, from v2`, JSON.stringify(r.error ?? null));
        }
        sent.push(...c.sent);
        assert.deepEqual(c.errors, []);
      }
      const total = perConn[0] + perConn[1];
      const seen = mesh.servers.v2.requests.slice(v2Before);
      assert.equal(seen.length, total);
      // The server read exactly what the client wrote: no header, no byte changed.
      assert.deepEqual(seen.map((q) => q.raw.toString("hex")), sent.map(asServerSees));
      for (const q of seen) {
        assert.deepEqual(q.headers, {});
        assert.equal(q.infoPairs, null);
      }
      assert.equal(await mesh.waitForCounter(stat("mutation_unsupported"), base, total), total);
      assert.equal(await mesh.stat(stat("mutation_applied")), appliedBase);

      const lines = refusedLines(logFrom);
      assert.equal(lines.length, conns.length, `one warning per connection, got:\n${lines.join("\n")}`);
      for (const l of lines) {
        assert.match(l, /route 'hello-v2'/);
        assert.match(l, /request mutation/);
        assert.match(l, /mutation_unsupported/);
      }
      const ids = lines.map((l) => /connection (\d+)/.exec(l)?.[1]);
      assert.ok(ids.every((id) => id !== undefined), `no connection id in:\n${lines.join("\n")}`);
      assert.equal(new Set(ids).size, conns.length, `the warnings name distinct connections:\n${lines.join("\n")}`);
    });

    test("responseMutation: replies reach the client unchanged, each counted, one warning for the connection", async () => {
      const base = await mesh.stat(stat("mutation_unsupported"));
      const logFrom = mesh.proxy.logs().length;
      const c = await connect();
      const replies = await Promise.all([call<string>(c, "sayBye", "a"), call<number>(c, "add", 1, 2), call<string>(c, "sayBye", "b")]);
      assert.deepEqual(replies.map((r) => r.value), ["Bye a, from v1", 3, "Bye b, from v1"]);
      for (const r of replies) {
        assert.deepEqual(r.headers, {});
        assert.equal(r.infoPairs, null);
      }
      assert.equal(await mesh.waitForCounter(stat("mutation_unsupported"), base, 3), 3);
      const lines = refusedLines(logFrom);
      assert.equal(lines.length, 1, `one warning for the connection, got:\n${lines.join("\n")}`);
      assert.match(lines[0], /route 'bye-v1'/);
      assert.match(lines[0], /response mutation/);
      assert.deepEqual(c.errors, []);
    });
  });
}

// Apache Thrift's Node library as client and servers, through the local host and real Envoy running
// build/thrift.wasm with envoy.yaml's thrift rules (sayHello -> v2; sayBye|add|ping -> v1;
// anything else: no route). Routing binds per connection on its first request, so each
// routing scenario uses its own client connection.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { connectGreeter, type GreeterConnection } from "../../envoy-dev/apps/thrift-client.ts";
import { STATS, startThriftMesh, type ThriftMesh } from "../../envoy-dev/apps/thrift/mesh.ts";
import type { ProtocolName, TransportName } from "../../envoy-dev/apps/thrift/stack.ts";

const CLIENT_TIMEOUT_MS = 20000;
const STACKS: [TransportName, ProtocolName][] = [["framed", "binary"], ["buffered", "binary"], ["framed", "compact"]];

for (const [transport, protocol] of STACKS) {
  eachProxy(`thrift e2e: ${transport}+${protocol}`, (proxy) => {
    let mesh: ThriftMesh;
    const open: GreeterConnection[] = [];
    const connect = async () => {
      const c = await connectGreeter({ host: "127.0.0.1", port: mesh.port, transport, protocol, timeoutMs: CLIENT_TIMEOUT_MS });
      open.push(c);
      return c;
    };
    before(async () => { mesh = await startThriftMesh(transport, protocol, { proxy }); });
    after(async () => {
      for (const c of open) await c.close();
      await mesh?.close();
    });

    test("routes by method across connections: sayHello to v2, sayBye and add to v1", async () => {
      const hello = await connect();
      assert.equal(await hello.sayHello("ann"), "Hello ann, from v2");
      const bye = await connect();
      assert.equal(await bye.sayBye("bob"), "Bye bob, from v1");
      assert.equal(await bye.add(20, 22), 42);
      await bye.ping();
      assert.deepEqual(mesh.servers.v2.calls, ["sayHello"]);
      assert.deepEqual(mesh.servers.v1.calls, ["sayBye", "add", "ping"]);
      assert.deepEqual(mesh.servers.default.calls, []);
    });

    test("a call no route matches gets a TApplicationException at once, not a hang", async () => {
      const base = await mesh.stat(STATS + "route_not_found");
      const c = await connect();
      const t0 = performance.now();
      const err: any = await c.unknownToRouter("eve").then(() => null, (e) => e);
      const ms = performance.now() - t0;
      assert.ok(err, "expected an error");
      assert.equal(err.name, "TApplicationException");
      assert.equal(err.type, 1); // UNKNOWN_METHOD
      assert.match(err.message, /no route/);
      assert.ok(ms < CLIENT_TIMEOUT_MS / 10, `error after ${ms.toFixed(0)} ms`);
      assert.equal(await mesh.waitForCounter(STATS + "route_not_found", base, 1), 1);
      for (const s of Object.values(mesh.servers)) assert.ok(!s.calls.includes("unknownToRouter"), `${s.version} was reached`);
      // The connection stays usable: it was bound to the default cluster by that first request.
      assert.equal(await c.sayBye("eve"), "Bye eve, from default");
      assert.deepEqual(c.errors, []);
    });

    test("pipelined calls on one connection all get their own answers, a rejected one included", async () => {
      const c = await connect();
      assert.equal(await c.sayBye("first"), "Bye first, from v1"); // binds to v1
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 30; i++) {
        calls.push(i % 10 === 7 ? c.unknownToRouter(`u${i}`).then(() => "reached", (e) => `rejected:${e.type}`)
          : i % 2 === 0 ? c.add(i, 1000) : c.sayBye(`p${i}`));
      }
      const got = await Promise.all(calls);
      got.forEach((g, i) => {
        const want = i % 10 === 7 ? "rejected:1" : i % 2 === 0 ? 1000 + i : `Bye p${i}, from v1`;
        assert.equal(g, want, `call ${i}`);
      });
      assert.deepEqual(c.errors, []);
    });
  });
}

// Many calls in flight on one connection through build/dubbo.wasm: dubbo2.js writes each call
// as soon as it is made, and a raw socket sends 100 frames in a single write (so the module
// cuts many frames out of one callback) and again dribbled in 7-byte pieces (frames split
// across callbacks). Every answer must come back matched to its own argument.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { encodeRequest } from "../../envoy-dev/apps/dubbo/codec.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { STATS, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

eachProxy("dubbo e2e: pipelining on one connection", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy }); });
  after(async () => { await mesh?.close(); });

  test("dubbo2.js: 200 concurrent echo calls on one connection, each answered with its own argument", async () => {
    const requests = await mesh.counter(STATS + "request_total");
    const c = new DubboConsumer({ address: mesh.address, timeoutSeconds: 20 });
    try {
      await c.connected;
      const args = Array.from({ length: 200 }, (_, i) => `p${i}-${"x".repeat(i % 37)}`);
      const results = await Promise.all(args.map((a) => c.call("echo", a)));
      assert.deepEqual(results.map((r) => r.err), args.map(() => null));
      assert.deepEqual(results.map((r) => r.res), args.map((a) => `${a} (echo from v1)`));
    } finally {
      await c.close();
    }
    assert.equal(mesh.providers.v1.connections, 1, "one downstream connection, one upstream connection");
    assert.equal(await requests.waitFor(200), 200);
  });

  test("raw: 100 frames in one write and 100 frames in 7-byte pieces, all answered by id", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const batch = (base: number) => Array.from({ length: 100 }, (_, i) => ({ id: BigInt(base + i), arg: `r${base + i}` }));
      const burst = batch(1000);
      const answers = burst.map((b) => raw.response(b.id));
      raw.write(Buffer.concat(burst.map((b) => encodeRequest({ id: b.id, path: DEMO_SERVICE, method: "echo", args: [b.arg] }))));
      assert.deepEqual((await Promise.all(answers)).map((r) => [r.id, r.value]), burst.map((b) => [b.id, `${b.arg} (echo from v1)`]));

      const dribble = batch(5000);
      const answers2 = dribble.map((b) => raw.response(b.id));
      const bytes = Buffer.concat(dribble.map((b) => encodeRequest({ id: b.id, path: DEMO_SERVICE, method: "echo", args: [b.arg] })));
      for (let off = 0; off < bytes.length; off += 7) {
        raw.write(bytes.subarray(off, off + 7));
        if (off % 700 === 0) await sleep(0); // let some pieces reach the proxy on their own
      }
      assert.deepEqual((await Promise.all(answers2)).map((r) => [r.id, r.value]), dribble.map((b) => [b.id, `${b.arg} (echo from v1)`]));
    } finally {
      await raw.close();
    }
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

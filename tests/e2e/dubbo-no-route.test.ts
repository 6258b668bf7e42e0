// A request no demo route matches (another interface, a method no rule names) must get a Dubbo
// error reply at once: Envoy gives a network filter no way to write to the client out of turn
// (README "Limits"), so a reply that waited for unrelated traffic would hang the consumer.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { STATS, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

const OTHER = "org.apache.dubbo.samples.OtherService";
const CLIENT_TIMEOUT_S = 30;

eachProxy("dubbo e2e: no route", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy }); });
  after(async () => { await mesh?.close(); });

  test("dubbo2.js: OtherService.echo gets an error reply mentioning the route, long before its timeout", async () => {
    const notFound = await mesh.counter(STATS + "route_not_found");
    const c = new DubboConsumer({ address: mesh.address, interface: OTHER, timeoutSeconds: CLIENT_TIMEOUT_S });
    try {
      const { res, err, ms } = await c.call("echo", "lost");
      assert.equal(res, null);
      assert.ok(err, "expected an error reply");
      assert.match(err.message, /route/i);
      assert.doesNotMatch(err.message, /remote invoke timeout|closed/);
      // "Promptly": a tenth of the client's timeout is generous on a loaded machine, and a
      // reply that waits for anything (a timer, other traffic) would not come at all here.
      assert.ok(ms < (CLIENT_TIMEOUT_S * 1000) / 10, `error reply after ${ms.toFixed(0)} ms`);
    } finally {
      await c.close();
    }
    assert.equal(await notFound.waitFor(1), 1);
    const reached = Object.values(mesh.providers).flatMap((p) => p.calls).filter((k) => k.interface === OTHER);
    assert.deepEqual(reached, [], "the rejected call reached no provider");
  });

  test("raw socket: the error reply has the request's id and status 60 (service not found)", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const id = 0x7fff_0000_0000_0042n;
      const r = await raw.request({ id, path: OTHER, method: "echo", args: ["lost"] });
      assert.equal(r.id, id);
      assert.equal(r.event, false);
      assert.equal(r.status, 60);
      assert.match(String(r.error), /route/i);
    } finally {
      await raw.close();
    }
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

// Dubbo heartbeats through build/dubbo.wasm: answered (event flag, status 20, same id, null
// body), counted as heartbeats, never as requests, never seen by a provider as a call.
// dubbo2.js sends its heartbeat only every 180 s, so heartbeats here are raw frames.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/local-mesh.ts";
import { within } from "../../envoy-dev/apps/dubbo/deadline.ts";

const allCalls = (mesh: DubboMesh) => Object.values(mesh.providers).flatMap((p) => p.calls);

describe("dubbo e2e: heartbeats", { timeout: 60_000 }, () => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh(); });
  after(async () => { await mesh?.close(); });

  test("heartbeats around a request are answered and counted apart from requests", async () => {
    const beats = mesh.counter("metaprotocol.dubbo_demo.heartbeat");
    const requests = mesh.counter("metaprotocol.dubbo_demo.request_total");
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const call = await raw.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["between"] });
      assert.equal(call.value, "between (echo from v1)");
      for (const id of [2n, 0x7fff_ffff_ffff_fff0n, 3n]) {
        assert.deepEqual(await raw.heartbeat(id), { id, status: 20, event: true, value: null });
      }
      const again = await raw.request({ id: 4n, path: DEMO_SERVICE, method: "echo", args: ["after"] });
      assert.equal(again.value, "after (echo from v1)");
    } finally {
      await raw.close();
    }
    assert.equal(await beats.waitFor(3), 3);
    assert.equal(await requests.waitFor(2), 2);
    assert.deepEqual(allCalls(mesh).map((k) => k.args[0]), ["between", "after"]);
    assert.deepEqual(mesh.vmFailures(), []);
  });

  // A Java consumer connects at start-up and, when idle, sends its first heartbeat after 60 s:
  // a connection whose first frame is a heartbeat is ordinary, and three unanswered ones make
  // the consumer drop the connection.
  test("a heartbeat as the very first frame of a connection is answered too", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      const hb = await within(raw.heartbeat(99n), 5000, "answer to a heartbeat sent as the first frame");
      assert.deepEqual(hb, { id: 99n, status: 20, event: true, value: null });
      // The connection is still usable for calls afterwards.
      const r = await raw.request({ id: 100n, path: DEMO_SERVICE, method: "echo", args: ["first-after-hb"] });
      assert.equal(r.status, 20);
      assert.match(String(r.value), /^first-after-hb \(echo from /);
    } finally {
      await raw.close();
    }
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

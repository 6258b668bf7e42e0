// Dubbo heartbeats through build/dubbo.wasm: answered (event flag, status 20, same id, null
// body), counted as heartbeats, never as requests, never seen by a provider as a call.
// dubbo2.js sends its heartbeat only every 180 s, so heartbeats here are raw frames.
import { after, before } from "node:test";
import { eachProxy, test } from "../support/proxies.ts";
import assert from "node:assert/strict";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { encodeHeartbeatRequest } from "../../envoy-dev/apps/dubbo/codec.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { STATS, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";
import { within } from "../../envoy-dev/apps/dubbo/deadline.ts";

const allCalls = (mesh: DubboMesh) => Object.values(mesh.providers).flatMap((p) => p.calls);

eachProxy("dubbo e2e: heartbeats", (proxy) => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy }); });
  after(async () => { await mesh?.close(); });

  test("heartbeats around a request are answered and counted apart from requests", async () => {
    const beats = await mesh.counter(STATS + "heartbeat");
    const requests = await mesh.counter(STATS + "request_total");
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

  // A heartbeat before any request cannot be answered at once: no upstream exists yet, Envoy
  // allows no writes out of turn, and binding the connection to the default cluster just to
  // answer it would misroute every later call on this long-lived connection. So the module
  // holds it and forwards it in front of the first request (README, Limits). An idle consumer
  // whose heartbeats go unanswered reconnects after its heartbeat timeout; routing stays exact.
  test("a heartbeat as the very first frame is held, opens no upstream, and is answered once a request binds the connection", async () => {
    const upstreams = async () => [...(await mesh.proxy.stats()).entries()]
      .filter(([k]) => k.startsWith("envoy_cluster_upstream_cx_total{"))
      .reduce((a, [, v]) => a + v, 0);
    const before = await upstreams();
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      let answered = false;
      const hb = raw.heartbeat(99n).then((r) => { answered = true; return r; });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(answered, false, "a heartbeat before any request must wait for the binding request");
      assert.equal(await upstreams(), before, "no upstream connection may open for a heartbeat alone");
      const call = await within(raw.request({ id: 100n, path: DEMO_SERVICE, method: "sayHello", args: ["held"] }), 5000, "first request after a held heartbeat");
      assert.equal(call.status, 20);
      assert.match(String(call.value), /from v2/); // the request, not the heartbeat, chose the route
      assert.deepEqual(await within(hb, 5000, "the held heartbeat's answer"), { id: 99n, status: 20, event: true, value: null });
    } finally {
      await raw.close();
    }
    assert.deepEqual(mesh.vmFailures(), []);
  });

  // Held heartbeats were once unbounded: ~513 MiB of them on one connection made the allocator
  // trap, which under FAIL_CLOSED closes every connection of the VM. A connection may now hold
  // 64 KiB of them (README, Limits); the one that sends more is closed and counted.
  test("a flood of heartbeats before any request closes that connection at 64 KiB (heartbeat_overflow); others go on", async () => {
    const overflow = await mesh.counter(STATS + "heartbeat_overflow");
    const bystander = await RawDubboConnection.connect(mesh.port);
    const flood = await RawDubboConnection.connect(mesh.port);
    try {
      assert.equal((await bystander.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["before"] })).value, "before (echo from v1)");
      const beats = Buffer.concat(Array.from({ length: 256 }, (_, i) => encodeHeartbeatRequest(BigInt(1000 + i))));
      // 17 bytes each: 64 KiB is about 3855 heartbeats; 20 batches of 256 are 87 KiB.
      for (let i = 0; i < 20 && flood.isOpen; i++) flood.write(beats);
      await within(flood.closed, 5000, "the proxy closing the flooding connection");
      assert.equal(flood.responses.length, 0, "held heartbeats are never answered out of turn");
      assert.equal(await overflow.waitFor(1), 1);
      assert.equal((await bystander.request({ id: 2n, path: DEMO_SERVICE, method: "echo", args: ["after"] })).value, "after (echo from v1)");
    } finally {
      await flood.close();
      await bystander.close();
    }
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

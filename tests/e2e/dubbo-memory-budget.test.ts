// The VM's budget for bytes held between callbacks (maxHeldBytes), through real sockets. With
// the smallest budget (1 MiB), connections that each hold a large partial frame fill it; the
// one that asks for more is closed and counted (held_bytes_overflow), the VM never traps, and a
// real consumer on another connection keeps working: the last eighth of the budget is kept for
// small holdings such as its requests in flight. Before the budget, partial frames were held
// without limit (438 connections with 7 MiB each trapped the VM).
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { DubboConsumer } from "../../envoy-dev/apps/dubbo/consumer-client.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { writeHeader, FLAG_REQUEST, FLAG_TWO_WAY, HESSIAN2 } from "../../envoy-dev/apps/dubbo/protocol.ts";
import { STATS, demoPluginConfig, startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";
import { within } from "../../envoy-dev/apps/dubbo/deadline.ts";

const BUDGET = 1 << 20;
const FRAME_CAP = 512 << 10;
const PARTIAL = 300 << 10; // each attacker holds this much of a frame that never completes

eachProxy("dubbo e2e: held-bytes budget", (proxy) => {
  let mesh: DubboMesh;
  let consumer: DubboConsumer;
  before(async () => {
    const cfg = { ...demoPluginConfig(), maxHeldBytes: BUDGET, maxFrameBytes: FRAME_CAP, statsFlushIntervalMs: 50 };
    mesh = await startDubboMesh({ proxy, pluginConfig: JSON.stringify(cfg), concurrency: 1 });
    consumer = new DubboConsumer({ address: mesh.address, timeoutSeconds: 10 });
  });
  after(async () => {
    await consumer?.close();
    await mesh?.close();
  });

  test("partial frames fill the budget: the connection asking for more is closed and counted; a consumer keeps working", async () => {
    const overflow = await mesh.counter(STATS + "held_bytes_overflow");
    assert.equal((await consumer.call("echo", "first")).res, "first (echo from v1)");
    const attackers: RawDubboConnection[] = [];
    try {
      // One worker (concurrency 1): every attacker lands in the same VM, so the budget is shared.
      for (let i = 0; i < 6; i++) {
        const a = await RawDubboConnection.connect(mesh.port);
        attackers.push(a);
        a.write(writeHeader({ flag: FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2, status: 0, id: BigInt(i + 1), bodyLength: FRAME_CAP - 16 }));
        a.write(Buffer.alloc(PARTIAL, 0x41));
        const r = await consumer.call("echo", `during-${i}`);
        assert.equal(r.res, `during-${i} (echo from v1)`, `the consumer's call failed with ${i + 1} attackers: ${r.err?.message}`);
      }
      // 1 MiB holds at most 7/8 in large partial frames: some attackers fit, the rest were closed.
      await within(Promise.race(attackers.map((a) => a.closed)), 5000, "an attacker being closed");
      // Each close is counted; a close may still be on its way to the client when the counter
      // flushes (or the reverse), so compare once both agree (or 5 s passed).
      let closed = 0, counted = -1;
      for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
        closed = attackers.filter((a) => !a.isOpen).length;
        counted = await overflow.delta();
        if (counted === closed) break;
      }
      assert.ok(closed >= 1 && closed <= 5, `${closed} of 6 attackers closed: the budget must hold some and refuse some`);
      assert.equal(counted, closed, "every closed attacker counted in held_bytes_overflow, no other");
      assert.ok(await mesh.stat(STATS + "held_bytes") <= BUDGET, "held_bytes stays within maxHeldBytes");
    } finally {
      for (const a of attackers) await a.close();
    }
    // Closing gives the memory back: held_bytes returns to what the consumer alone holds.
    await mesh.proxy.waitForStat(STATS + "held_bytes", (v) => v < 64 << 10, 5000);
    assert.equal((await consumer.call("echo", "after")).res, "after (echo from v1)");
    assert.deepEqual(mesh.vmFailures(), []);
  });
});

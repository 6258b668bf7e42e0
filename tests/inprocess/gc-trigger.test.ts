// The modules collect garbage between callbacks once the heap has grown by half of what the last
// collection left live (assembly/abi/gc.ts); nothing else collects under the minimal runtime.
// On the data path, garbage comes from connections (each leaves ~2 KB when it closes), not from
// frames (mutated calls allocate nothing per frame). Frames captured from Apache Dubbo Java peers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InProcessProxy } from "../../envoy-dev/inprocess/driver.ts";
import { CLUSTER, loadBatches } from "../../envoy-dev/bench/inprocess/scenarios.ts";

test("20,000 connections of 16 mutated Dubbo calls each through one VM: memory stays under 4 MiB", (t) => {
  const batch = loadBatches().find((b) => b.name === "dubbo hessian2 echoOrder")!;
  const config = JSON.stringify({
    statPrefix: "gc",
    services: [{
      name: "bench.default.svc.cluster.local",
      routes: [{
        name: "t", match: { attributes: { "x-tenant": { exact: "acme" } } }, route: [{ cluster: CLUSTER, weight: 1 }],
        requestMutation: [{ key: "x-canary", value: "true" }], responseMutation: [{ key: "x-route", value: "t" }],
      }],
    }],
  });
  const p = InProcessProxy.start({ wasm: "build/dubbo.wasm", config });
  try {
    const connections = 20_000;
    let memoryAfterFirst = 0;
    for (let i = 0; i < connections; i++) {
      const c = p.connect();
      c.downstream(batch.down);
      const up = c.takeUpstream();
      c.upstream(batch.up);
      const down = c.takeClient();
      c.close();
      if (i === 0) {
        assert.ok(up.includes("x-canary") && down.includes("x-route"), "the mutations are applied");
        memoryAfterFirst = p.memoryBytes();
      }
    }
    p.tick(); // counters are flushed on the tick
    assert.equal(p.stat("metaprotocol.gc.route.t.request_total"), connections * batch.requests.length);
    assert.equal(p.open.size, 0);
    t.diagnostic(`VM memory: ${memoryAfterFirst >> 10} KiB after the first connection, ${p.memoryBytes() >> 10} KiB after ${connections} (~${(connections * 2) >> 10} MiB of garbage)`);
    assert.ok(p.memoryBytes() < 4 << 20, `${p.memoryBytes()} bytes`);
  } finally { p.dispose(); }
});

// Config updates must not leave memory behind. Envoy makes a new root context for every plugin
// config update (ECDS) and deletes the old one once its connections are gone; the VM lives on.
// Under a collection trigger that counted callbacks, 24,000 updates of a one-route config grew
// the VM to 512 MiB (each update's garbage outran the collections), on the way to the 1 GiB cap
// and a trap; assembly/abi/gc.ts now collects on the heap's growth. Both the exact live heap and
// the built module's memory are checked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InProcessProxy } from "../../envoy-dev/inprocess/driver.ts";
import { liveHeapBytes, measureBuild } from "../../envoy-dev/inprocess/heap.ts";

const CLUSTER = "outbound|20880|v1|dubbo-demo.default.svc.cluster.local";
const CONFIG = JSON.stringify({
  statPrefix: "updates",
  services: [{ name: "s", routes: [0, 1, 2].map((i) => ({ name: `r${i}`, match: { attributes: { method: { exact: `m${i}` } } }, route: [{ cluster: CLUSTER, weight: 1 }] })) }],
});

function update(p: InProcessProxy, n: number): void {
  for (let i = 0; i < n; i++) {
    const why = p.reconfigure(CONFIG);
    assert.equal(why, null);
  }
  p.tick();
}

test("1,000 config updates leave at most 200 bytes each in the live heap (exact count)", (t) => {
  const p = InProcessProxy.start({ wasm: measureBuild("dubbo"), config: CONFIG });
  try {
    update(p, 100);
    const before = liveHeapBytes(p);
    update(p, 1000);
    const per = (liveHeapBytes(p) - before) / 1000;
    t.diagnostic(`live heap per update: ${per.toFixed(1)} bytes`);
    assert.ok(per <= 200, `${per.toFixed(0)} bytes per update stay live`);
  } finally { p.dispose(); }
});

test("8,000 config updates of the built module: the VM's memory stays under 4 MiB", (t) => {
  const p = InProcessProxy.start({ wasm: "build/dubbo.wasm", config: CONFIG });
  try {
    update(p, 8000);
    t.diagnostic(`VM memory after 8,000 updates: ${(p.memoryBytes() / 1024).toFixed(0)} KiB`);
    assert.ok(p.memoryBytes() < 4 << 20, `${p.memoryBytes()} bytes`);
  } finally { p.dispose(); }
});

// The data path's cost contract, counted by the host rather than timed: per data callback the
// module makes one host call (get_buffer_bytes) and rewrites the buffer only when a frame
// changed; counters are flushed on the tick, never per request.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { startDubboMesh, type DubboMesh } from "../../envoy-dev/apps/dubbo/mesh.ts";

const DATA_CALLBACKS = ["proxy_on_downstream_data", "proxy_on_upstream_data"];
const PER_REQUEST_SUSPECTS = ["proxy_increment_metric", "proxy_record_metric", "proxy_get_current_time_nanoseconds", "proxy_log"];

function diff(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of b) if (v - (a.get(k) ?? 0) > 0) d.set(k, v - (a.get(k) ?? 0));
  return d;
}

// Only the local host counts ABI calls; Envoy keeps no such count.
describe("dubbo e2e: host calls per data callback (local host)", { timeout: 60_000 }, () => {
  let mesh: DubboMesh;
  before(async () => { mesh = await startDubboMesh({ proxy: "local" }); });
  after(async () => { await mesh?.close(); });

  test("unchanged frames: one get_buffer_bytes per callback, no rewrite, nothing per request", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      // Bind the connection first (that request sets filter state once), then measure.
      await raw.request({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["bind"] });
      const before = mesh.proxy.local!.abiCalls();
      for (let i = 0; i < 200; i++) {
        const r = await raw.request({ id: BigInt(2 + i), path: DEMO_SERVICE, method: "echo", args: [`e${i}`] });
        assert.equal(r.status, 20);
      }
      const d = diff(before, mesh.proxy.local!.abiCalls());
      const callbacks = DATA_CALLBACKS.reduce((n, k) => n + (d.get(k) ?? 0), 0);
      assert.ok(callbacks >= 400, `expected a callback per request and per response, got ${callbacks}`);
      assert.equal(d.get("proxy_get_buffer_bytes"), callbacks, "one buffer read per data callback");
      assert.equal(d.get("proxy_set_buffer_bytes") ?? 0, 0, "no rewrite when nothing changed");
      assert.equal(d.get("proxy_call_foreign_function") ?? 0, 0, "the cluster is set once per connection");
      // Each tick flushes the counters and gauges that moved (a handful); per request would be 200+.
      const ticks = d.get("proxy_on_tick") ?? 0;
      for (const k of PER_REQUEST_SUSPECTS) {
        assert.ok((d.get(k) ?? 0) < 20 + 8 * ticks, `${k} called ${d.get(k)} times for 200 requests in ${ticks} ticks: must not be per request`);
      }
    } finally {
      await raw.close();
    }
  });

  test("a mutated frame costs exactly one extra call: the rewrite", async () => {
    const raw = await RawDubboConnection.connect(mesh.port);
    try {
      await raw.request({ id: 1n, path: DEMO_SERVICE, method: "sayHello", args: ["bind"] });
      const before = mesh.proxy.local!.abiCalls();
      for (let i = 0; i < 50; i++) await raw.request({ id: BigInt(2 + i), path: DEMO_SERVICE, method: "sayHello", args: [`h${i}`] });
      const d = diff(before, mesh.proxy.local!.abiCalls());
      const callbacks = DATA_CALLBACKS.reduce((n, k) => n + (d.get(k) ?? 0), 0);
      // sayHello has a request and a response mutation: every callback rewrites once.
      assert.equal(d.get("proxy_get_buffer_bytes"), callbacks);
      assert.equal(d.get("proxy_set_buffer_bytes"), callbacks);
    } finally {
      await raw.close();
    }
  });
});

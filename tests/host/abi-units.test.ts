// The small pieces with exact Envoy rules, checked directly: proxy_set_buffer_bytes,
// SetEnvoyFilterStateArguments parsing, shared data CAS, Prometheus names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteQueue, mutableBuffer } from "../../envoy-dev/host/byte-queue.ts";
import { parseFilterStateArgs } from "../../envoy-dev/host/filter-state.ts";
import { SharedData } from "../../envoy-dev/host/shared-data.ts";
import { StatsStore } from "../../envoy-dev/host/stats.ts";
import { durationMs } from "../../envoy-dev/host/config.ts";

const b = (s: string) => new TextEncoder().encode(s);

test("set_buffer_bytes: start 0 drains then prepends, start >= size appends, middle is BAD_ARGUMENT", () => {
  const q = new ByteQueue();
  q.append(b("hello world"));
  const buf = mutableBuffer(q);
  assert.equal(buf.set(0, 6, b("")), 0);
  assert.equal(q.bytes().toString(), "world");
  assert.equal(buf.set(0, 0, b(">")), 0);
  assert.equal(buf.set(6, 0, b("<")), 0);
  assert.equal(buf.set(99, 5, b("!")), 0);
  assert.equal(q.bytes().toString(), ">world<!");
  assert.equal(buf.set(3, 0, b("x")), 2);
  assert.equal(buf.set(0, 8, b("new")), 0);
  assert.equal(q.bytes().toString(), "new");
});

test("SetEnvoyFilterStateArguments wire bytes", () => {
  const path = "envoy.tcp_proxy.cluster", value = "outbound|20880|v2|x.svc";
  const wire = Buffer.concat([Buffer.of(0x0a, path.length), Buffer.from(path), Buffer.of(0x12, value.length), Buffer.from(value), Buffer.of(0x18, 2)]);
  assert.deepEqual(parseFilterStateArgs(wire), { path, value, span: 2 });
  assert.equal(parseFilterStateArgs(Buffer.of(0x0a, 50, 0x41)), null); // length past the end
  assert.equal(parseFilterStateArgs(Buffer.of(0x0f)), null);           // wire type 7
});

test("shared data: cas 0 is unconditional, a stale cas is CAS_MISMATCH, per vm_id", () => {
  const sd = new SharedData();
  assert.equal(sd.get("vm", "k"), null);
  assert.equal(sd.set("vm", "k", b("1"), 0), 0);
  const first = sd.get("vm", "k")!;
  assert.equal(sd.set("vm", "k", b("2"), first.cas), 0);
  assert.equal(sd.set("vm", "k", b("3"), first.cas), 8);
  assert.equal(Buffer.from(sd.get("vm", "k")!.value).toString(), "2");
  assert.equal(sd.get("other", "k"), null);
  assert.equal(sd.set("vm", "k", b("4"), 0), 0);
});

test("Prometheus rendering: custom stats without envoy_; a cluster tag is the name up to its first dot, as in Envoy 1.40", () => {
  const s = new StatsStore();
  s.inc("cluster.outbound|9090||a.b.svc.cluster.local.upstream_cx_total", 2);
  s.gaugeSet("wasmcustom.metaprotocol.dubbo_demo.active_requests", 3);
  s.inc("wasm.envoy.wasm.runtime.v8.created");
  const p = s.prometheus();
  assert.match(p, /^# TYPE envoy_cluster_b_svc_cluster_local_upstream_cx_total counter\nenvoy_cluster_b_svc_cluster_local_upstream_cx_total\{envoy_cluster_name="outbound\|9090\|\|a"\} 2$/m);
  assert.match(p, /^# TYPE metaprotocol_dubbo_demo_active_requests gauge\nmetaprotocol_dubbo_demo_active_requests\{\} 3$/m);
  assert.match(p, /^envoy_wasm_envoy_wasm_runtime_v8_created\{\} 1$/m);
  assert.equal(s.snapshot().get("metaprotocol.dubbo_demo.active_requests"), 3);
});

test("durations in protobuf JSON form", () => {
  assert.equal(durationMs("1s", "x"), 1000);
  assert.equal(durationMs("0.25s", "x"), 250);
  assert.equal(durationMs({ seconds: 2, nanos: 5e8 }, "x"), 2500);
  assert.throws(() => durationMs("1 second", "c.connect_timeout"), /c\.connect_timeout: bad duration/);
});

// Memory of idle connections, in-process (envoy-dev/inprocess): what one costs for every codec
// variant (published in the README), and that closing many at once gives memory back instead of
// growing it. A Wasm VM's memory never shrinks: growth caused by garbage stays for its life.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { InProcessProxy } from "../../envoy-dev/inprocess/driver.ts";
import { VARIANTS, bytesPerIdleConnection } from "../../envoy-dev/inprocess/idle-memory.ts";
import { encodeRequest, encodeValueResponse } from "../../envoy-dev/apps/dubbo/codec.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { pluginConfigOf } from "../../envoy-dev/apps/mesh-config.ts";

// Unframed Thrift once kept two struct-walk stacks per connection (6.5 KB in all); every codec
// now keeps its scan state only while a message is incomplete.
const MAX_IDLE_BYTES = 2500;

test(`an idle connection costs at most ${MAX_IDLE_BYTES} bytes of VM memory, for every codec variant`, (t) => {
  const figures: string[] = [];
  for (const v of VARIANTS) {
    const bytes = bytesPerIdleConnection(v, 400);
    figures.push(`${v.name} ${bytes}`);
    assert.ok(bytes <= MAX_IDLE_BYTES, `${v.name}: ${bytes} bytes per idle connection`);
  }
  t.diagnostic(figures.join(", "));
});

// 60,000 idle connections closing at once once doubled the memory (128 -> 256 MiB): each close
// built a debug log line (and read a property for it) even with debug logging off, and the
// garbage outran the incremental collector, so the allocator grew the memory. Closing now
// allocates nothing unless debug logging is on.
test("closing 60,000 idle connections at once does not grow the VM's memory", (t) => {
  const p = InProcessProxy.start({ wasm: join(import.meta.dirname, "../../build/dubbo.wasm"), config: JSON.stringify(pluginConfigOf("dubbo_outbound")) });
  try {
    const req = encodeRequest({ id: 1n, path: DEMO_SERVICE, method: "echo", args: ["x"] });
    const rsp = encodeValueResponse(1n, "x");
    const conns = [];
    for (let i = 0; i < 60_000; i++) {
      const c = p.connect();
      c.downstream(req);
      c.upstream(rsp);
      c.takeUpstream(); c.takeClient();
      conns.push(c);
    }
    const open = p.memoryBytes();
    for (const c of conns) c.close();
    const closed = p.memoryBytes();
    t.diagnostic(`memory with 60,000 idle connections: ${open >> 20} MiB; after closing them all: ${closed >> 20} MiB`);
    assert.equal(p.failed, false, p.failReason);
    assert.equal(closed, open);
  } finally {
    p.dispose();
  }
});

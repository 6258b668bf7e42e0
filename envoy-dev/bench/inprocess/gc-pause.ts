// A full collection's pause against what the VM holds: idle Dubbo connections (each has carried
// one call) are opened in steps and the collector run by hand, 7 times per step (median). The
// modules collect only between callbacks (assembly/abi/gc.ts), so this pause lands on the
// callback that ends when a collection is due. Run: `npm run bench:gc` (builds first).
// GC_PAUSE_STEPS: connection counts, comma-separated (default 1000,10000,60000).
import { InProcessProxy } from "../../inprocess/driver.ts";
import { measureBuild } from "../../inprocess/heap.ts";
import { VARIANTS, exchangeOf } from "../../inprocess/idle-memory.ts";
import { envCounts } from "../env.ts";

const steps = envCounts("GC_PAUSE_STEPS", [1000, 10000, 60000]);
const v = VARIANTS.find((x) => x.name === "dubbo")!;
const p = InProcessProxy.start({ wasm: measureBuild(v.module), config: v.config() });
const ex = p.vm.exports as Record<string, any>;
const { down, up } = exchangeOf(v.capture);
console.log(`## Collection pause (in-process)\n`);
console.log(`Node ${process.version} (V8 ${process.versions.v8}, --no-liftoff); dubbo.wasm with the demo rules; full collections, median of 7.\n`);
console.log("| idle connections | live heap MiB | VM memory MiB | pause ms (median) | min |");
console.log("|---|---|---|---|---|");
try {
  for (const n of steps) {
    while (p.open.size < n) { const c = p.connect(); c.downstream(down); c.upstream(up); }
    const ts: number[] = [];
    for (let i = 0; i < 7; i++) { const t0 = performance.now(); ex.__collect(); ts.push(performance.now() - t0); }
    ts.sort((a, b) => a - b);
    console.log(`| ${n} | ${(ex.heapInUse() / 1048576).toFixed(1)} | ${(p.memoryBytes() / 1048576).toFixed(0)} | ${ts[3].toFixed(1)} | ${ts[0].toFixed(1)} |`);
  }
} finally { p.dispose(); }

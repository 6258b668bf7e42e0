// What a plugin config may cost: configure work grows linearly with the routes (it was
// quadratic: a slot lookup per route scanned every earlier name, so 10k routes took seconds and
// 30k took tens of seconds), and configs beyond the bounds are refused by field before they
// cost memory (a 13 MB config with a million services was accepted and took 2.6 GB).
// build/dubbo.wasm in-process (envoy-dev/inprocess/driver.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { InProcessProxy } from "../../envoy-dev/inprocess/driver.ts";

const WASM = join(import.meta.dirname, "../../build/dubbo.wasm");

function config(services: number, routesEach: number): string {
  return JSON.stringify({ services: Array.from({ length: services }, (_, s) => ({
    name: `svc${s}.default.svc.cluster.local`,
    routes: Array.from({ length: routesEach }, (_, r) => ({
      name: `r${s}_${r}`,
      match: { attributes: { method: { exact: `m${r}` } } },
      route: [{ cluster: `outbound|20880|v${r}|svc${s}.default.svc.cluster.local`, weight: 1 }],
    })),
  })) });
}

/** CPU milliseconds of one configure (VM start included), the least of `runs`. */
function configureCpuMs(json: string, runs = 3): { ms: number; memory: number } {
  let best = Infinity, memory = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.cpuUsage();
    const p = InProcessProxy.start({ wasm: WASM, config: json });
    const d = process.cpuUsage(t0);
    best = Math.min(best, (d.user + d.system) / 1000);
    memory = p.memoryBytes();
    p.dispose();
  }
  return { ms: best, memory };
}

function refusal(json: string): string {
  try { InProcessProxy.start({ wasm: WASM, config: json }).dispose(); } catch (e) { return (e as Error).message; }
  return "accepted";
}

// A complexity check, not a speed test: 8x the routes must cost about 8x, far from 64x.
test("configure work is linear in the routes: 8192 routes cost well under 24x what 1024 cost", (t) => {
  const small = configureCpuMs(config(1, 1024));
  const large = configureCpuMs(config(8, 1024));
  const ratio = large.ms / small.ms;
  t.diagnostic(`1024 routes: ${small.ms.toFixed(0)} ms, 8192 routes: ${large.ms.toFixed(0)} ms (x${ratio.toFixed(1)}), ${large.memory >> 20} MiB`);
  assert.ok(ratio < 24, `1024 routes: ${small.ms.toFixed(0)} ms, 8192 routes: ${large.ms.toFixed(0)} ms (x${ratio.toFixed(1)})`);
  // The largest accepted route count stays far from the VM's 1 GiB.
  assert.ok(large.memory <= 128 << 20, `VM memory after 8192 routes: ${large.memory >> 20} MiB`);
});

test("a config over the bounds is refused before it costs memory, naming the field", () => {
  // The case: a million tiny services in 13 MB.
  const million = JSON.stringify({ services: Array.from({ length: 1_000_000 }, (_, i) => ({ name: `s${i}` })) });
  assert.match(refusal(million), /plugin config refused: \(root\): the configuration is \d+ bytes, more than 2097152/);
  assert.match(refusal(config(4097, 0)), /plugin config refused: services: at most 4096 entries, got 4097/);
  assert.match(refusal(config(1, 1025)), /plugin config refused: services\[0\]\.routes: at most 1024 entries, got 1025/);
  assert.match(refusal(config(9, 1000)), /plugin config refused: services\[8\]\.routes: the config's services together have more than 8192 routes/);
});

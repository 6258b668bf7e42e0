// `npm run bench`: the in-process part first (the modules without sockets, on frames captured
// from real peers: envoy-dev/bench/inprocess), then real Envoy (envoy-bench.ts).
//   npm run bench -- --inprocess     only the in-process part
//   npm run bench -- --envoy         only real Envoy
// In-process knobs: BENCH_INPROCESS_ROUNDS (9), BENCH_INPROCESS_MS (40 per case per round),
// BENCH_INPROCESS_ONLY (substring of "<frames> / <rules>"), BENCH_CALLGRIND=0 to skip the
// instruction counts, BENCH_ALLOCATIONS=0 to skip the allocation counts, BENCH_MODULES=<dir> to
// measure the dubbo.wasm/thrift.wasm in that directory instead of build/'s. Real Envoy: see
// envoy-bench.ts (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNS, BENCH_WINDOW, BENCH_ONLY,
// BENCH_COMPARE_MODULES).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runEnvoyBench } from "./envoy-bench.ts";

const args = process.argv.slice(2);
const inprocess = !args.includes("--envoy") || args.includes("--inprocess");
const envoy = !args.includes("--inprocess") || args.includes("--envoy");

async function main(): Promise<void> {
  if (inprocess) {
    const main = fileURLToPath(new URL("./inprocess/main.ts", import.meta.url));
    const r = spawnSync(process.execPath, ["--no-liftoff", "--import", "tsx", main], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`in-process benchmark failed (${r.status})`);
  }
  if (envoy) {
    console.log("\n## Real Envoy\n");
    await runEnvoyBench();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });

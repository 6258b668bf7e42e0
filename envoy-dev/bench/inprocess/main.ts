// The in-process benchmark as a process of its own: Node runs it with --no-liftoff so that
// V8 compiles the modules with its optimizing compiler up front, as Envoy's V8 does
// (proxy-wasm-cpp-host turns Liftoff off), instead of timing the baseline tier.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { moduleSizes, report, runInProcess } from "./bench.ts";
import { REPO } from "./builds.ts";
import { callgrindCounts, valgrindAvailable } from "./callgrind.ts";
import { envCount } from "../env.ts";

const only = process.env.BENCH_INPROCESS_ONLY || undefined;
const rows = await runInProcess({
  rounds: envCount("BENCH_INPROCESS_ROUNDS", 9), ms: envCount("BENCH_INPROCESS_MS", 40),
  only, allocations: process.env.BENCH_ALLOCATIONS !== "0" && !process.env.BENCH_MODULES, // tracing builds are of the sources
});
let instr = "callgrind: skipped (BENCH_CALLGRIND=0)";
if (process.env.BENCH_CALLGRIND !== "0") {
  if (valgrindAvailable()) {
    console.error("in-process: instruction counts under callgrind (a few minutes)");
    callgrindCounts(rows, only);
    instr = "instructions from callgrind (whole process per callback, medians of 9)";
  } else instr = "callgrind: valgrind not installed";
}
writeFileSync(join(REPO, "build", "bench", "inprocess.json"), JSON.stringify({ rows, sizes: moduleSizes() }, null, 1));
const sizes = moduleSizes();
console.log("## In-process (no sockets)\n");
console.log(`Node ${process.version} (V8 ${process.versions.v8}, --no-liftoff), ${instr}. Module sizes: ${Object.entries(sizes).map(([k, v]) => `${k}.wasm ${v} bytes`).join(", ")}.\n`);
console.log(report(rows));

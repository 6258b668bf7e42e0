// npm run fuzz -- --minutes N [--seed S] [--target NAME]
// Fuzzes every target (each codec variant and the plugin config) in turn, a fresh seed per
// round, until N minutes have passed; prints cases, traps and the worst callback per target,
// runs the exact leak check once per target, and writes every failing input to
// tests/fuzz/regressions/ (commit them: the test suite replays them). Exit 1 on any failure.
import { parseArgs } from "node:util";
import { fuzzTarget, leakCheck, saveRegression, type TargetStats } from "./run.ts";
import { targets } from "./targets.ts";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "1" }, seed: { type: "string" }, target: { type: "string" } } });
const deadline = Date.now() + Number(values.minutes) * 60_000;
let seed = values.seed !== undefined ? Number(values.seed) : (Date.now() & 0x7fffffff);
const chosen = targets().filter((t) => !values.target || t.name === values.target);
if (!chosen.length) { console.error(`fuzz: no target ${values.target} (${targets().map((t) => t.name).join(", ")})`); process.exit(2); }

const totals = new Map<string, TargetStats>();
const ROUND_CASES = 5000;
console.log(`fuzz: ${chosen.length} targets for ${values.minutes} min, first seed ${seed}`);
while (Date.now() < deadline) {
  for (const t of chosen) {
    if (Date.now() >= deadline) break;
    const s = fuzzTarget(t, seed++, ROUND_CASES, deadline);
    const acc = totals.get(t.name) ?? { ...s, cases: 0, failures: [], traps: 0, slowestMs: 0, memoryEnd: 0 };
    acc.cases += s.cases; acc.traps += s.traps; acc.failures.push(...s.failures);
    acc.slowestMs = Math.max(acc.slowestMs, s.slowestMs); acc.memoryEnd = Math.max(acc.memoryEnd, s.memoryEnd);
    totals.set(t.name, acc);
    for (const f of s.failures) {
      // Failures of a whole run (memory, held bytes) have no input to keep.
      const kept = f.order !== undefined || (f.target === "config" && f.config !== "") ? ` -> ${saveRegression(f)}` : "";
      console.log(`fuzz: ${t.name}: ${f.reason}${kept}`);
    }
  }
}
let failed = 0;
console.log("| target | cases | traps | failures | worst callback (ms) | VM memory at end (KiB) | live heap growth (bytes) |\n|---|---|---|---|---|---|---|");
for (const t of chosen) {
  const s = totals.get(t.name);
  if (!s) continue;
  const leak = leakCheck(t, seed, 500, 2000);
  if (leak.failure) { failed++; console.log(`fuzz: ${t.name}: ${leak.failure}`); }
  failed += s.failures.length;
  console.log(`| ${t.name} | ${s.cases} | ${s.traps} | ${s.failures.length} | ${s.slowestMs.toFixed(1)} | ${s.memoryEnd >> 10} | ${leak.grewBytes} |`);
}
process.exit(failed ? 1 : 0);

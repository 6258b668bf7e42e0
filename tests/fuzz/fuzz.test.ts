// The fuzzer in the test suite (envoy-dev/fuzz): a seeded, bounded run per target (every codec
// variant, from real peers' captures, and the plugin config), the exact leak check, and every
// kept regression vector replayed. The built modules run in-process (no sockets). A failing
// input is written to tests/fuzz/regressions/<target>/: commit it with the fix.
// FUZZ_CASES overrides the cases per target (default 20000); `npm run fuzz -- --minutes N`
// is the long run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzTarget, leakCheck, regressions, replay, saveRegression } from "../../envoy-dev/fuzz/run.ts";
import { corpusOf, targets } from "../../envoy-dev/fuzz/targets.ts";

const CASES = Number(process.env.FUZZ_CASES ?? 20_000);
const SEED = 20261130;

test("every regression vector replays without a trap or a slow callback", () => {
  const vectors = regressions();
  assert.ok(vectors.length > 0, "tests/fuzz/regressions holds the inputs that once failed");
  const byName = new Map(targets().map((t) => [t.name, t]));
  for (const v of vectors) {
    const t = byName.get(v.target);
    assert.ok(t, `vector for unknown target ${v.target}`);
    assert.equal(replay(t!, v).reason, null, `${v.target}: once "${v.reason}"`);
  }
});

for (const t of targets()) {
  test(`fuzz ${t.name}: ${CASES} seeded cases, no trap, no callback over 100 ms, memory bounded, no leak`, (ctx) => {
    if (t.kind === "stream") assert.ok(corpusOf(t.variant).down.length > 0, `no corpus for ${t.variant} (npm run fuzz:corpus)`);
    const s = fuzzTarget(t, SEED, CASES);
    const leak = leakCheck(t, SEED + 1, 300, 1200);
    ctx.diagnostic(`${t.name}: ${s.cases} cases, ${s.traps} traps, worst callback ${s.slowestMs.toFixed(1)} ms, VM memory ${s.memoryEnd >> 10} KiB, live heap growth ${leak.grewBytes} bytes`);
    const kept = s.failures.filter((f) => f.order !== undefined || (f.target === "config" && f.config !== "")).map(saveRegression);
    assert.deepEqual(s.failures.map((f) => f.reason), [], kept.length ? `inputs kept in ${kept.join(", ")}` : "");
    assert.equal(s.cases, CASES);
    assert.equal(leak.failure, null);
  });
}

// Instruction counts, which a busy machine does not change: the same cases run once more under
// valgrind's callgrind, in one Node process. Between timed steps the worker calls os.loadavg(),
// whose C function (uv_loadavg) nothing else calls; callgrind is told to dump its counters
// before every call of it, so each dump holds exactly one step: one request callback (16
// frames), one response callback, or one reference library decoding 16 frames. Counts are of
// the whole process in that step: the module, the host's import functions and V8's glue (as in
// Envoy, where the host side of each call is C++). Medians of the steps are reported.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Row } from "./bench.ts";
import { BenchVm } from "./host.ts";
import { REPO, floorWasm, moduleWasm } from "./builds.ts";
import { cases, loadBatches } from "./scenarios.ts";

const STEPS = 9;
const WARMUP = 100; // the modules are compiled up front (--no-liftoff); this warms the host's JavaScript
const SELF = fileURLToPath(import.meta.url);

export function valgrindAvailable(): boolean {
  return spawnSync("valgrind", ["--version"], { stdio: "ignore" }).status === 0;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

/** Fills instrPerReq / instrPerRsp of the rows (modules, floor, references). */
export function callgrindCounts(rows: Row[], only?: string): void {
  const dir = mkdtempSync(join(os.tmpdir(), "mpw-callgrind-"));
  try {
    const r = spawnSync("nice", ["valgrind", "--tool=callgrind", `--callgrind-out-file=${join(dir, "cg.out")}`, "--dump-before=uv_loadavg",
      "--dump-instr=no", "--dump-line=no", "--compress-pos=yes",
      process.execPath, "--single-threaded", "--no-liftoff", "--import", "tsx", SELF, "--worker"],
      { cwd: REPO, encoding: "utf8", env: { ...process.env, BENCH_INPROCESS_ONLY: only ?? "" }, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`callgrind run failed (${r.status}):\n${r.stderr.slice(-3000)}`);
    const labels: string[] = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const totals = new Map<number, number>();
    for (const f of readdirSync(dir)) {
      const m = /^cg\.out\.(\d+)$/.exec(f);
      if (!m) continue;
      const t = /^(?:summary|totals):\s*(\d+)/m.exec(readFileSync(join(dir, f), "utf8"));
      if (t) totals.set(Number(m[1]), Number(t[1]));
    }
    // Dump k (1-based) holds what ran between marker k-1 and marker k: labels[k-1].
    const byLabel = new Map<string, number[]>();
    labels.forEach((label, i) => {
      const v = totals.get(i + 1);
      if (v === undefined || !label) return;
      byLabel.set(label, [...(byLabel.get(label) ?? []), v]);
    });
    for (const row of rows) {
      const key = `${row.batch} / ${row.rules}`;
      const frames = 16;
      const d = byLabel.get(`${key}#down`), u = byLabel.get(`${key}#up`), ref = byLabel.get(`${key}#ref`);
      if (d) row.instrPerReq = median(d) / frames;
      if (u) row.instrPerRsp = median(u) / frames;
      if (ref) { if (Number.isNaN(row.reqNs)) row.instrPerRsp = median(ref) / frames; else row.instrPerReq = median(ref) / frames; }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs under valgrind: every case and reference, marking each step with os.loadavg(). */
function worker(): void {
  const only = process.env.BENCH_INPROCESS_ONLY || undefined;
  const labels: string[] = [];
  const mark = (label: string) => { labels.push(label); os.loadavg(); };
  const floor = floorWasm();
  const modules: Record<string, string> = { dubbo: moduleWasm("dubbo"), thrift: moduleWasm("thrift") };
  for (const c of cases(loadBatches())) {
    const b = c.batch;
    const chosen = c.rules.filter((r) => !only || `${b.name} / ${r.name}`.includes(only) || !r.config);
    if (chosen.length <= 1) continue;
    for (const rules of chosen) {
      const key = `${b.name} / ${rules.name}`;
      const vm = new BenchVm({ wasm: rules.config ? modules[b.protocol] : floor, config: rules.config ? JSON.stringify(rules.config) : "" });
      vm.start();
      for (let i = 0; i < WARMUP; i++) { vm.downstream(b.down); vm.upstream(b.up); }
      mark("");
      for (let i = 0; i < STEPS; i++) {
        vm.downstream(b.down); mark(`${key}#down`);
        vm.upstream(b.up); mark(`${key}#up`);
      }
    }
    for (const ref of c.references) {
      const key = `${b.name} / ${ref.name}`;
      const frames = ref.side === "request" ? b.requests : b.responses;
      let sink: unknown;
      for (let i = 0; i < WARMUP; i++) for (const f of frames) sink = ref.decode(f);
      mark("");
      for (let i = 0; i < STEPS; i++) { for (const f of frames) sink = ref.decode(f); mark(`${key}#ref`); }
      (globalThis as any).benchSink = sink;
    }
  }
  mark("");
  console.log(JSON.stringify(labels));
}

if (process.argv[1] === SELF && process.argv.includes("--worker")) worker();

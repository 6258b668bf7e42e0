// The in-process part of `npm run bench`: the built modules driven without sockets by a lean
// host (host.ts), on frames captured from real peers (scenarios.ts), against a floor module that
// only reads the bytes, memory.copy of the same bytes, and the JavaScript libraries a Node proxy
// would use (refs.ts). Cases run interleaved, round after round, so a busy machine slows them
// alike; each figure is the median of the rounds, with the spread of the rounds beside it.
// Allocation and collector work come from tracing builds (builds.ts); instruction counts from
// callgrind (callgrind.ts) where valgrind is installed.
import { statSync } from "node:fs";
import { join } from "node:path";
import { BenchVm } from "./host.ts";
import { REPO, floorWasm, moduleWasm, rtraceWasm } from "./builds.ts";
import { CLUSTER, FLOOR, cases, loadBatches, type Batch, type Case, type Reference, type Rules } from "./scenarios.ts";

export interface InProcessOptions {
  rounds: number;
  /** Target milliseconds per case per round. */
  ms: number;
  /** Substring of "<frames> / <rules>" narrowing the cases. */
  only?: string;
  /** Count allocations with the tracing builds. */
  allocations: boolean;
}

export interface Row {
  batch: string; rules: string; frameBytes: number; responseBytes: number;
  /** Median ns per request / response frame, and the rounds' spread (max deviation from the median, as a fraction). */
  reqNs: number; reqSpread: number; rspNs: number; rspSpread: number;
  allocsPerFrame?: number; gcPerFrame?: number;
  instrPerReq?: number; instrPerRsp?: number;
  kind: "module" | "floor" | "reference" | "copy";
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const spread = (xs: number[]) => { const m = median(xs); return m > 0 ? Math.max(...xs.map((x) => Math.abs(x - m))) / m : 0; };

/** One case ready to time: a configured VM with one connection. */
class Runner {
  readonly vm: BenchVm;
  iterations = 0;
  readonly down: number[] = [];
  readonly up: number[] = [];
  sent = 0;

  constructor(readonly batch: Batch, readonly rules: Rules, wasm: string) {
    this.vm = new BenchVm({ wasm, config: rules.config ? JSON.stringify(rules.config) : "" });
    this.vm.start();
  }

  get label(): string { return `${this.batch.name} / ${this.rules.name}`; }

  /** One round trip: the 16 requests in one callback, then their 16 responses in one. */
  step(): void {
    const vm = this.vm;
    if (vm.downstream(this.batch.down) !== 0) throw new Error(`${this.label}: request batch paused`);
    vm.upstream(this.batch.up);
    this.sent++;
  }

  /** What one round trip did is what the rules promise (checked before timing and after it). */
  verify(): void {
    const vm = this.vm, b = this.batch, r = this.rules;
    if (vm.closed) throw new Error(`${this.label}: connection closed: ${vm.logs.join("\n")}`);
    vm.downstream(b.down);
    const d = vm.rewritten[0];
    vm.upstream(b.up);
    const u = vm.rewritten[1];
    this.sent++;
    if (r.unchanged && (d !== null || u !== null)) throw new Error(`${this.label}: the module rewrote an unchanged batch`);
    if (r.expectUp && (!d || !Buffer.from(d).toString("latin1").includes(r.expectUp) || d.length <= b.down.length)) throw new Error(`${this.label}: requests not mutated`);
    if (r.expectDown && (!u || !Buffer.from(u).toString("latin1").includes(r.expectDown))) throw new Error(`${this.label}: responses not mutated`);
    if (!r.config) return;
    if ((r.config as any).services && vm.cluster !== CLUSTER) throw new Error(`${this.label}: cluster ${vm.cluster}, expected ${CLUSTER}`);
    vm.tick();
    const frames = this.sent * b.requests.length;
    const want: Record<string, number> = { ".request_total": frames, ".response_total": frames, ".request_decoding_error": 0, ".response_decoding_error": 0, ".response_unmatched": 0, ".route_not_found": 0 };
    if (r.route) want[`.${r.route}`] = frames;
    if (!r.unchanged) want[".mutation_applied"] = 2 * frames;
    for (const [k, v] of Object.entries(want)) {
      const got = vm.counter(k);
      if (got !== v) throw new Error(`${this.label}: counter ${k} = ${got}, expected ${v}\n${vm.logs.join("\n")}`);
    }
  }

  /** Times `n` round trips; returns [request ms, response ms]. */
  time(n: number, overheadMs: number): [number, number] {
    const vm = this.vm, down = this.batch.down, up = this.batch.up;
    let d = 0, u = 0;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) {
      vm.downstream(down);
      const t1 = performance.now();
      vm.upstream(up);
      const t2 = performance.now();
      d += t1 - t0; u += t2 - t1;
      t0 = t2;
    }
    this.sent += n;
    return [d - n * overheadMs, u - n * overheadMs];
  }
}

/** A JavaScript library decoding the same frames one by one. */
class RefRunner {
  readonly ns: number[] = [];
  sink: unknown;
  constructor(readonly batch: Batch, readonly ref: Reference) {}
  frames(): Buffer[] { return this.ref.side === "request" ? this.batch.requests : this.batch.responses; }
  time(n: number): number {
    const fs = this.frames(), dec = this.ref.decode;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) for (let j = 0; j < fs.length; j++) this.sink = dec(fs[j]);
    return performance.now() - t0;
  }
}

/** performance.now() itself, per call (subtracted from each timed callback). */
function timerOverheadMs(): number {
  const n = 200000;
  let x = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) x += performance.now();
  const t = (performance.now() - t0) / n;
  return x > 0 ? t : t;
}

/** Allocations and collector work per frame, from the tracing build of the same module. */
function traceCounts(batch: Batch, rules: Rules, iterations: number): { allocs: number; gc: number } {
  const counts = { alloc: 0, move: 0, collect: 0, visit: 0, interrupt: 0 };
  const wasm = rtraceWasm(batch.protocol);
  const vm = new BenchVm({
    wasm, config: JSON.stringify(rules.config), rtrace: {
      onalloc: () => { counts.alloc++; }, onmove: () => { counts.move++; }, oncollect: () => { counts.collect++; },
      onvisit: () => { counts.visit++; return 1; }, oninterrupt: () => { counts.interrupt++; },
    },
  });
  vm.start();
  for (let i = 0; i < 20; i++) { vm.downstream(batch.down); vm.upstream(batch.up); }
  counts.alloc = counts.move = counts.collect = counts.visit = counts.interrupt = 0;
  const hostBefore = vm.hostMallocs;
  for (let i = 0; i < iterations; i++) { vm.downstream(batch.down); vm.upstream(batch.up); }
  const frames = iterations * (batch.requests.length + batch.responses.length);
  const moduleAllocs = counts.alloc - (vm.hostMallocs - hostBefore) + counts.move;
  return { allocs: moduleAllocs / frames, gc: (counts.collect + counts.interrupt) / frames };
}

export async function runInProcess(o: InProcessOptions): Promise<Row[]> {
  const floor = floorWasm();
  const modules: Record<string, string> = { dubbo: moduleWasm("dubbo"), thrift: moduleWasm("thrift") };
  const all = cases(loadBatches());
  const runners: Runner[] = [];
  const refs: RefRunner[] = [];
  const byCase = new Map<Case, Runner[]>();
  for (const c of all) {
    const rs: Runner[] = [];
    for (const rules of c.rules) {
      const label = `${c.batch.name} / ${rules.name}`;
      if (o.only && !label.includes(o.only) && rules !== FLOOR) continue;
      const r = new Runner(c.batch, rules, rules.config ? modules[c.batch.protocol] : floor);
      r.verify();
      rs.push(r);
    }
    if (rs.length <= 1) continue;
    byCase.set(c, rs);
    runners.push(...rs);
    for (const ref of c.references) refs.push(new RefRunner(c.batch, ref));
  }
  const overhead = timerOverheadMs();
  // Warm-up, then pick each case's iteration count for about o.ms per round.
  for (const r of runners) { const t0 = performance.now(); let n = 0; while (performance.now() - t0 < 150) { r.step(); n++; } r.iterations = Math.max(5, Math.round(n * o.ms / 150)); }
  const refIters = refs.map((r) => { const t0 = performance.now(); let n = 0; while (performance.now() - t0 < 150) { r.time(1); n++; } return Math.max(5, Math.round(n * o.ms / 150)); });
  const copyNs: Map<Batch, number[]> = new Map();
  const copyVm = new BenchVm({ wasm: floor });
  for (let round = 0; round < o.rounds; round++) {
    for (const r of runners) {
      const [d, u] = r.time(r.iterations, overhead);
      r.down.push(d * 1e6 / (r.iterations * r.batch.requests.length));
      r.up.push(u * 1e6 / (r.iterations * r.batch.responses.length));
    }
    refs.forEach((r, i) => { const ms = r.time(refIters[i]); r.ns.push(ms * 1e6 / (refIters[i] * r.frames().length)); });
    for (const c of byCase.keys()) {
      const reps = 20000;
      const t0 = performance.now();
      copyVm.exports.bench_copy(c.batch.down.length, reps);
      const ns = (performance.now() - t0) * 1e6 / (reps * c.batch.requests.length);
      copyNs.set(c.batch, [...(copyNs.get(c.batch) ?? []), ns]);
    }
    console.error(`in-process: round ${round + 1}/${o.rounds} done`);
  }
  for (const r of runners) r.verify(); // still routing as promised after every timed round trip

  const rows: Row[] = [];
  for (const [c, rs] of byCase) {
    const b = c.batch;
    const frameBytes = Math.round(b.down.length / b.requests.length), responseBytes = Math.round(b.up.length / b.responses.length);
    const cp = copyNs.get(b)!;
    rows.push({ batch: b.name, rules: "memory.copy of the requests in the module", frameBytes, responseBytes, reqNs: median(cp), reqSpread: spread(cp), rspNs: NaN, rspSpread: 0, kind: "copy" });
    for (const r of rs) {
      const row: Row = { batch: b.name, rules: r.rules.name, frameBytes, responseBytes, reqNs: median(r.down), reqSpread: spread(r.down), rspNs: median(r.up), rspSpread: spread(r.up), kind: r.rules.config ? "module" : "floor" };
      if (o.allocations && r.rules.config) { const t = traceCounts(b, r.rules, 50); row.allocsPerFrame = t.allocs; row.gcPerFrame = t.gc; }
      rows.push(row);
    }
    for (const r of refs.filter((x) => x.batch === b)) {
      const req = r.ref.side === "request";
      rows.push({ batch: b.name, rules: r.ref.name, frameBytes, responseBytes, reqNs: req ? median(r.ns) : NaN, reqSpread: req ? spread(r.ns) : 0, rspNs: req ? NaN : median(r.ns), rspSpread: req ? 0 : spread(r.ns), kind: "reference" });
    }
  }
  return rows;
}

export function moduleSizes(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of ["dubbo", "thrift", "awesomerpc"]) { try { out[n] = statSync(moduleWasm(n)).size; } catch { /* not built */ } }
  return out;
}

const fmt = (ns: number, s: number) => Number.isNaN(ns) ? "-" : `${ns < 100 ? ns.toFixed(1) : ns.toFixed(0)} ±${Math.round(s * 100)}%`;

/**
 * Markdown: one table per frame set, ratios to that set's floor. Instruction counts do not move
 * with the machine's load, so their ratios are given too (times on a busy machine spread widely).
 */
export function report(rows: Row[]): string {
  const out: string[] = [];
  const batches = [...new Set(rows.map((r) => r.batch))];
  const x = (v: number | undefined, f: number | undefined) => v === undefined || f === undefined || Number.isNaN(v) ? "-" : `${(v / f).toFixed(1)}x`;
  for (const b of batches) {
    const rs = rows.filter((r) => r.batch === b);
    const floor = rs.find((r) => r.kind === "floor")!;
    out.push(`**${b}** (request ${rs[0].frameBytes} B, response ${rs[0].responseBytes} B; 16 per callback)`, "");
    out.push("| case | request ns/frame | ns/byte | x floor | response ns/frame | x floor | allocs/frame | GC/frame | instr/request | x floor | instr/response | x floor |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rs) {
      const perByte = Number.isNaN(r.reqNs) ? "-" : (r.reqNs / r.frameBytes).toFixed(2);
      out.push(`| ${r.rules} | ${fmt(r.reqNs, r.reqSpread)} | ${perByte} | ${x(r.reqNs, floor.reqNs)} | ${fmt(r.rspNs, r.rspSpread)} | ${x(r.rspNs, floor.rspNs)} | ` +
        `${r.allocsPerFrame?.toFixed(2) ?? "-"} | ${r.gcPerFrame?.toFixed(3) ?? "-"} | ${r.instrPerReq?.toFixed(0) ?? "-"} | ${x(r.instrPerReq, floor.instrPerReq)} | ` +
        `${r.instrPerRsp?.toFixed(0) ?? "-"} | ${x(r.instrPerRsp, floor.instrPerRsp)} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

// The fuzzing engine: runs cases against the built modules in-process (envoy-dev/inprocess, no
// sockets). A stream case opens a connection and feeds it a (mutated) real exchange in random
// chunks, requests and responses interleaved, sometimes with the client's end of stream and
// the root's tick in between, then closes it. A config case configures a new root with a
// (mutated) plugin configuration and, when accepted, runs a real exchange through it.
// A case fails when the VM traps, when one callback takes over 100 ms (confirmed on a fresh VM,
// so a pause of the test process is not blamed on the module), or, at the end of a run, when
// memory grew after warm-up or held bytes were not all given back. A failing input is written
// to tests/fuzz/regressions/<target>/ and replayed by the test suite from then on.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InProcessProxy } from "../inprocess/driver.ts";
import { liveHeapBytes, measureBuild } from "../inprocess/heap.ts";
import { Rng, chunks, mutateBytes, mutateConfig } from "./mutate.ts";
import { REGRESSIONS_DIR, corpusOf, type FuzzTarget } from "./targets.ts";

const BUILD = fileURLToPath(new URL("../../build", import.meta.url));
export const CALLBACK_LIMIT_MS = 100;
/** A run's VMs must stay below this (a gross bound; leakCheck is the exact one). */
export const MEMORY_LIMIT_BYTES = 64 << 20;
/** Live heap may grow this much between warm-up and the end of a leak check (bounded caches fill). */
export const LEAK_SLACK_BYTES = 1 << 20;

/** A reproducible case: what a regression vector file holds. */
export interface CaseInput {
  target: string;
  /** Stream cases: the plugin configuration; config cases: the document under test. */
  config: string;
  /** Stream cases: chunks (base64) and the order they arrive in: d = client, u = server, t = tick, e = client end. */
  down?: string[];
  up?: string[];
  order?: string;
  reason?: string;
}

export interface TargetStats {
  target: string;
  cases: number;
  failures: CaseInput[];
  traps: number;
  slowestMs: number;
  memoryEnd: number;
}

function wasmOf(t: FuzzTarget): string { return join(BUILD, `${t.module}.wasm`); }

function startProxy(t: FuzzTarget, config: string, wasm = wasmOf(t)): InProcessProxy {
  return InProcessProxy.start({ wasm, config, logLevel: 4 });
}

/** Runs one stream case on `p`. Returns the failure reason, or null. */
function executeStream(p: InProcessProxy, input: CaseInput): string | null {
  const down = (input.down ?? []).map((s) => Buffer.from(s, "base64"));
  const up = (input.up ?? []).map((s) => Buffer.from(s, "base64"));
  p.slowest = { name: "", ms: 0 };
  const c = p.connect();
  let d = 0, u = 0;
  for (const op of input.order ?? "") {
    if (c.closed) break;
    if (op === "d" && d < down.length) c.downstream(down[d++]);
    else if (op === "u" && u < up.length) c.upstream(up[u++]);
    else if (op === "e") c.downstream(Buffer.alloc(0), true);
    else if (op === "t") p.tick();
  }
  c.close();
  if (p.failed) return `trap: ${p.failReason}`;
  if (p.slowest.ms > CALLBACK_LIMIT_MS) return `slow: ${p.slowest.name} took ${p.slowest.ms.toFixed(0)} ms`;
  return null;
}

/** Runs one config case on `p`. */
function executeConfig(p: InProcessProxy, input: CaseInput, exchange: { down: Buffer; up: Buffer } | null): string | null {
  const t0 = performance.now();
  const refused = p.reconfigure(input.config);
  const ms = performance.now() - t0;
  if (p.failed) return `trap: ${p.failReason}`;
  if (ms > CALLBACK_LIMIT_MS) return `slow: proxy_on_configure took ${ms.toFixed(0)} ms`;
  p.slowest = { name: "proxy_on_configure", ms };
  if (refused === null && exchange) {
    const c = p.connect();
    c.downstream(exchange.down);
    c.upstream(exchange.up);
    c.close();
    p.tick();
    if (p.failed) return `trap after an accepted config: ${p.failReason}`;
    if (p.slowest.ms > CALLBACK_LIMIT_MS) return `slow: ${p.slowest.name} took ${p.slowest.ms.toFixed(0)} ms`;
  }
  return null;
}

/**
 * Replays an input on fresh VMs: the failure reason or null, and the slowest callback. A slow
 * result must repeat to count (the first calls into a fresh VM are compiled, not slow).
 */
export function replay(t: FuzzTarget, input: CaseInput): { reason: string | null; ms: number } {
  let reason: string | null = null;
  let ms = Infinity;
  for (let attempt = 0; attempt < 3; attempt++) {
    const p = startProxy(t, t.kind === "stream" ? input.config : t.base);
    try {
      executeWarmUp(t, p);
      reason = t.kind === "stream" ? executeStream(p, input) : executeConfig(p, input, dubboExchange());
      ms = Math.min(ms, p.slowest.ms);
    } finally { p.dispose(); }
    if (reason === null || !reason.startsWith("slow:")) return { reason, ms };
  }
  return { reason, ms };
}

/** A real exchange through a fresh VM, so its code is compiled before anything is timed. */
function executeWarmUp(t: FuzzTarget, p: InProcessProxy): void {
  const c = corpusOf(t.kind === "stream" ? t.variant : "dubbo");
  if (!c.down.length) return;
  const conn = p.connect();
  conn.downstream(c.down[0]);
  if (c.up.length) conn.upstream(c.up[0]);
  conn.close();
}

let dubboCorpus: { down: Buffer; up: Buffer } | null = null;
function dubboExchange(): { down: Buffer; up: Buffer } | null {
  if (!dubboCorpus) {
    const c = corpusOf("dubbo");
    if (c.down.length && c.up.length) dubboCorpus = { down: c.down[0], up: c.up[0] };
  }
  return dubboCorpus;
}

function streamCase(t: FuzzTarget, rng: Rng, corpus: { down: Buffer[]; up: Buffer[] }, configIndex: number): CaseInput {
  const pickStream = (xs: Buffer[]) => {
    let b = xs.length ? rng.pick(xs) : Buffer.alloc(0);
    if (xs.length && rng.chance(0.15)) b = Buffer.concat([b, rng.pick(xs)]); // pipelined exchanges
    return b;
  };
  let down = pickStream(corpus.down), up = pickStream(corpus.up);
  if (rng.chance(0.9)) down = mutateBytes(rng, down, [...corpus.down, ...corpus.up]);
  if (rng.chance(0.4)) up = mutateBytes(rng, up, [...corpus.up, ...corpus.down]);
  const dc = chunks(rng, down), uc = chunks(rng, up);
  let order = "";
  let d = 0, u = 0;
  while (d < dc.length || u < uc.length) {
    if (rng.chance(0.02)) order += "t";
    if (d < dc.length && (u >= uc.length || rng.chance(0.6))) { order += "d"; d++; } else { order += "u"; u++; }
  }
  if (rng.chance(0.3)) order += "e";
  return { target: t.name, config: t.configs[configIndex], down: dc.map((b) => b.toString("base64")), up: uc.map((b) => b.toString("base64")), order };
}

/** The i-th case of a run from `rng` (the same seed gives the same cases). */
function nextCase(t: FuzzTarget, rng: Rng, corpus: { down: Buffer[]; up: Buffer[] }, i: number, configs: number): CaseInput {
  return t.kind === "stream"
    ? streamCase(t, rng, corpus, i % configs)
    : { target: t.name, config: mutateConfig(rng, rng.pick(t.configs), t.configs) };
}

/** Runs `cases` cases (or until `deadline`, ms since epoch) of one target from `seed`. */
export function fuzzTarget(t: FuzzTarget, seed: number, cases: number, deadline = Infinity): TargetStats {
  const rng = new Rng(seed);
  const stats: TargetStats = { target: t.name, cases: 0, failures: [], traps: 0, slowestMs: 0, memoryEnd: 0 };
  const bases = t.kind === "stream" ? t.configs : [t.base];
  const proxies = bases.map((c) => startProxy(t, c));
  for (const p of proxies) { executeWarmUp(t, p); p.slowest = { name: "", ms: 0 }; }
  const corpus = t.kind === "stream" ? corpusOf(t.variant) : { down: [], up: [] };
  // The slowest cases are timed again on fresh VMs at the end: on a shared machine one slow
  // measurement says little, the least of three says what the module costs.
  const slowest: { ms: number; input: CaseInput }[] = [];
  try {
    for (let i = 0; i < cases && Date.now() < deadline; i++) {
      const k = i % proxies.length;
      let p = proxies[k];
      const input = nextCase(t, rng, corpus, i, proxies.length);
      let reason = t.kind === "stream" ? executeStream(p, input) : executeConfig(p, input, dubboExchange());
      let ms = p.slowest.ms;
      if (reason?.startsWith("slow:")) ({ reason, ms } = replay(t, input)); // confirm on a fresh VM
      stats.cases++;
      if (slowest.length < 5 || ms > slowest[slowest.length - 1].ms) {
        slowest.push({ ms, input });
        slowest.sort((a, b) => b.ms - a.ms);
        if (slowest.length > 5) slowest.pop();
      }
      if (reason) {
        if (reason.startsWith("trap")) stats.traps++;
        stats.failures.push({ ...input, reason });
        if (p.failed) { p.dispose(); p = proxies[k] = startProxy(t, bases[k]); }
      }
    }
    for (const p of proxies) p.tick();
    stats.memoryEnd = Math.max(...proxies.map((x) => x.memoryBytes()));
    for (const s of slowest) stats.slowestMs = Math.max(stats.slowestMs, replay(t, s.input).ms);
    if (stats.memoryEnd > MEMORY_LIMIT_BYTES) {
      stats.failures.push({ target: t.name, config: "", reason: `a VM's memory reached ${stats.memoryEnd >> 20} MiB (limit ${MEMORY_LIMIT_BYTES >> 20} MiB)` });
    }
    for (const p of proxies) {
      if (p.failed) continue;
      const held = [...p.env.stats.gauges].filter(([k]) => k.endsWith(".held_bytes")).reduce((a, [, v]) => a + v, 0);
      if (held !== 0) stats.failures.push({ target: t.name, config: "", reason: `${held} held bytes not given back after every connection closed` });
    }
  } finally {
    for (const p of proxies) p.dispose();
  }
  return stats;
}

/**
 * Exact leak check on the runtime-exporting build (envoy-dev/inprocess/heap.ts): the live heap
 * after `warm` cases and after `warm + more` cases of the same seed, each on a fresh VM with
 * every connection closed and garbage collected. Null when it grew by at most LEAK_SLACK_BYTES.
 */
export function leakCheck(t: FuzzTarget, seed: number, warm: number, more: number): { grewBytes: number; failure: string | null } {
  const live = (n: number): number => {
    const rng = new Rng(seed);
    const bases = t.kind === "stream" ? t.configs : [t.base];
    const wasm = measureBuild(t.module);
    const proxies = bases.map((c) => startProxy(t, c, wasm));
    const corpus = t.kind === "stream" ? corpusOf(t.variant) : { down: [], up: [] };
    try {
      for (let i = 0; i < n; i++) {
        const k = i % proxies.length;
        const input = nextCase(t, rng, corpus, i, proxies.length);
        if (t.kind === "stream") executeStream(proxies[k], input); else executeConfig(proxies[k], input, dubboExchange());
        if (proxies[k].failed) proxies[k] = startProxy(t, bases[k], wasm); // counted by the main run
      }
      // A config target keeps its last accepted config (with its regex caches, up to 8 MiB):
      // end both runs on the same config, so only what leaked differs.
      if (t.kind !== "stream") for (const p of proxies) p.reconfigure(t.base);
      for (const p of proxies) p.tick();
      return proxies.reduce((a, p) => a + liveHeapBytes(p), 0);
    } finally { for (const p of proxies) p.dispose(); }
  };
  const grew = live(warm + more) - live(warm);
  return { grewBytes: grew, failure: grew > LEAK_SLACK_BYTES ? `live heap grew by ${grew} bytes over ${more} cases after ${warm} (seed ${seed}, slack ${LEAK_SLACK_BYTES})` : null };
}

/** Keeps a failing input as a regression vector; returns its path. */
export function saveRegression(input: CaseInput): string {
  const dir = join(REGRESSIONS_DIR, input.target);
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(input, null, 1) + "\n";
  const file = join(dir, createHash("sha256").update(text).digest("hex").slice(0, 16) + ".json");
  writeFileSync(file, text);
  return file;
}

/** Every kept regression vector, by target name. */
export function regressions(): CaseInput[] {
  if (!existsSync(REGRESSIONS_DIR)) return [];
  const out: CaseInput[] = [];
  for (const t of readdirSync(REGRESSIONS_DIR).sort()) {
    for (const f of readdirSync(join(REGRESSIONS_DIR, t)).sort()) {
      if (f.endsWith(".json")) out.push(JSON.parse(readFileSync(join(REGRESSIONS_DIR, t, f), "utf8")));
    }
  }
  return out;
}

// Soak in real Envoy: npm run soak -- --minutes N [--connections C] [--rate R] [--proxy envoy|local]
// C Dubbo connections (default 5000) through build/dubbo.wasm with the demo rules, each
// pipelining bursts of calls in one write (two-way by method, weighted split, interface and
// attachments, calls no route accepts; oneway calls; heartbeats), R two-way calls a second in
// all (default 2000), reconnecting when closed; every 10 s the rules change (sayHello moves
// between v2 and v1, by ECDS) or a provider restarts. Every call is accounted for: answered by
// the right provider with its own id and token, or an error reply from the module; a call whose
// connection closed before an answer must never have reached a provider (then it is sent again
// on a new connection, as a Dubbo consumer's failover does). Lost (no answer on an open
// connection within 10 s, or it reached a provider and its answer never came), misdelivered and
// unaccounted must be 0. Envoy's memory (/proc RSS, admin /memory) and the module's
// (wasm_memory_bytes) are sampled every 5 s and must be flat after warm-up. Prints a report
// (JSON and a table); exit 1 on any violation. Open files: 2 per connection here and in Envoy;
// run as root it raises its own limit (prlimit) when the hard limit is too low.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { parseArgs } from "node:util";
import { startProxy, type Proxy, type ProxyKind } from "../proxy/index.ts";
import { ENVOY_YAML, allListenersEphemeral } from "../apps/mesh-config.ts";
import { startDubboProvider, type DubboProvider } from "../apps/dubbo-provider.ts";
import { RawDubboConnection } from "../apps/dubbo/raw-connection.ts";
import { encodeHeartbeatRequest, encodeRequest } from "../apps/dubbo/codec.ts";
import { DEMO_SERVICE, versionOfAnswer } from "../apps/dubbo/demo-service.ts";
import { CLUSTERS, LISTENER, STATS, demoPluginConfig, type Subset } from "../apps/dubbo/mesh.ts";

export interface SoakOptions {
  minutes: number;
  connections: number;
  /** Two-way calls a second, all clients together (each pauses between bursts accordingly). */
  rate: number;
  proxy: ProxyKind;
  /** Rule changes and provider restarts, one every this many seconds (alternating). */
  eventEverySeconds: number;
  log?: (line: string) => void;
}

/**
 * What a client calls, one kind per client: sayHello (moved between v2 and v1 by the rule
 * updates), sayBye (a weighted split), echo and echo with attachments (routed by interface to
 * v1), and an unknown service (no route: the module answers with an error reply).
 */
type Kind = "hello" | "bye" | "echo" | "group" | "noroute";
const KINDS: Kind[] = ["hello", "hello", "bye", "echo", "group", "noroute"];
const methodOf = (k: Kind) => (k === "hello" ? "sayHello" : k === "bye" ? "sayBye" : "echo");
/** An answer that takes longer on an open connection is counted lost. */
const CALL_TIMEOUT_MS = 10_000;
const TIMEOUT = new Error("timeout");
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => { t = setTimeout(() => rej(TIMEOUT), ms); })]).finally(() => clearTimeout(t));
}
// Cluster stats: the default tag extractor cuts the cluster name at its first dot (prometheus.ts).
const ENVOY_STATS = /^envoy_(cluster_default_svc_cluster_local_upstream_cx_(total|connect_fail|connect_timeout|overflow|destroy_remote_with_active_rq|none_healthy)|cluster_default_svc_cluster_local_upstream_rq_pending_overflow|listener_downstream_cx_overflow|tcp_.*(upstream_flush_total|max_downstream_connection_duration|idle_timeout))\b/;
/**
 * envoy.yaml with the circuit breakers Istio gives every cluster (all thresholds at 2^32-1):
 * plain Envoy's defaults (1024 connections per cluster) would refuse this run's connections
 * upstream_cx_overflow once a rule update sends more than 1024 of them to one subset.
 */
function withIstioCircuitBreakers(path: string): string {
  const boot = parse(readFileSync(path, "utf8"));
  const max = 4294967295;
  for (const c of boot.static_resources?.clusters ?? []) {
    c.circuit_breakers = { thresholds: [{ max_connections: max, max_pending_requests: max, max_requests: max, max_retries: max }] };
  }
  const out = join(mkdtempSync(join(tmpdir(), "metaprotocol-soak-")), "envoy.yaml");
  writeFileSync(out, stringify(boot));
  return out;
}

/** A drained connection answers with error replies at most this long after an update. */
const DRAIN_WINDOW_MS = 2000;

export interface SoakReport {
  proxy: string;
  seconds: number;
  connectionsTarget: number;
  connectionsOpened: number;
  ruleUpdates: number;
  providerRestarts: number;
  /** Client connections open at once, at most. */
  peakClientConnections: number;
  /** Two-way calls made, and attempts sent again after their connection closed before an answer. */
  calls: number;
  resent: number;
  /** Answered by the right provider with its own id and token (for calls no route accepts: the module's error reply). */
  answered: number;
  /** Error replies made by the module: "the rules changed ... reconnect" (drain window over), "the upstream closed ...". */
  moduleErrorReplies: number;
  /** Every answer with a status other than OK, by status and text. */
  errorReplies: Record<string, number>;
  /** Attempts whose connection closed before an answer and that no provider received (sent again, or the run ended). */
  closedUnread: number;
  unsentAtStop: number;
  lost: number;
  misdelivered: number;
  unexpectedErrors: number;
  /** calls + resent - every outcome above: must be 0. */
  unaccounted: number;
  staleAfterWindow: number;
  oneway: { sent: number; received: number };
  heartbeats: { sent: number; answered: number; metClose: number; lost: number; wrong: number };
  memory: { samples: MemorySample[]; flat: boolean; why: string };
  /** The module's counters at the end (metaprotocol_dubbo_demo_*). */
  moduleStats: Record<string, number>;
  /** Envoy's own counters that explain closes: upstream connect failures, overflows, by cluster. */
  envoyStats: Record<string, number>;
  violations: string[];
}

interface MemorySample { atS: number; envoyRssKiB: number; envoyAllocatedKiB: number; wasmBytes: number; heldBytes: number; connections: number }

function helloConfig(subset: "v1" | "v2"): string {
  const cfg = demoPluginConfig();
  cfg.statsFlushIntervalMs = 200;
  cfg.drainWindow = `${DRAIN_WINDOW_MS}ms`;
  cfg.services[0].routes[0].route = [{ cluster: CLUSTERS[subset], weight: 100 }];
  return JSON.stringify(cfg);
}

/** Which subsets the rules allow for a connection of this kind, with sayHello at `hello`. */
function allowed(kind: Kind, hello: "v1" | "v2"): Set<string> {
  if (kind === "hello") return new Set([hello]);
  if (kind === "bye") return new Set(["v1", "v2"]);
  return new Set(["v1"]);
}

export async function soak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => {});
  const providers = {} as Record<Subset, DubboProvider>;
  const ports = {} as Record<Subset, number>;
  for (const s of Object.keys(CLUSTERS) as Subset[]) { providers[s] = await startDubboProvider({ version: s, backlog: 4096 }); ports[s] = providers[s].port; }
  const proxy: Proxy = await startProxy(o.proxy, {
    // The local host has no circuit breakers (it refuses the field): it gets envoy.yaml as is.
    configPath: o.proxy === "envoy" ? withIstioCircuitBreakers(ENVOY_YAML) : ENVOY_YAML, listenerPorts: allListenersEphemeral(),
    endpoints: Object.fromEntries((Object.keys(CLUSTERS) as Subset[]).map((s) => [CLUSTERS[s], [{ host: "127.0.0.1", port: ports[s] }]])),
    pluginConfig: { [LISTENER]: helloConfig("v2") }, reconfigurable: [LISTENER], concurrency: 2,
  });
  const port = proxy.listeners[LISTENER].port;
  const t0 = Date.now();
  const deadline = t0 + o.minutes * 60_000;
  const r: SoakReport = {
    proxy: proxy.name, seconds: 0, connectionsTarget: o.connections, connectionsOpened: 0, ruleUpdates: 0, providerRestarts: 0,
    peakClientConnections: 0, calls: 0, resent: 0, answered: 0, moduleErrorReplies: 0, errorReplies: {}, closedUnread: 0, unsentAtStop: 0,
    lost: 0, misdelivered: 0, unexpectedErrors: 0, unaccounted: 0, staleAfterWindow: 0,
    oneway: { sent: 0, received: 0 }, heartbeats: { sent: 0, answered: 0, metClose: 0, lost: 0, wrong: 0 }, memory: { samples: [], flat: false, why: "" }, moduleStats: {}, envoyStats: {}, violations: [],
  };
  const violation = (what: string) => { if (r.violations.length < 50) r.violations.push(what); log(`VIOLATION ${what}`); };

  // Rules over time: sayHello's subset, and when each version began (ms since t0).
  const helloHistory: { at: number; subset: "v1" | "v2" }[] = [{ at: 0, subset: "v2" }];
  const subsetsBetween = (from: number, to: number): Set<"v1" | "v2"> => {
    const out = new Set<"v1" | "v2">();
    for (let i = 0; i < helloHistory.length; i++) {
      const start = helloHistory[i].at, end = i + 1 < helloHistory.length ? helloHistory[i + 1].at : Infinity;
      // Workers take an update a little after Envoy reports it taken: half a second of slack.
      if (start <= to + 500 && end + 500 >= from) out.add(helloHistory[i].subset);
    }
    return out;
  };

  // Calls that met a closed connection: resolved at the end against what providers received.
  const reachedProvider = new Set<string>();
  const watched = new Set<string>();
  const onewayTokens = new Set<string>();
  const drainProviderCalls = () => {
    for (const p of Object.values(providers)) {
      for (const c of p.calls.splice(0)) {
        const token = String(c.args[0]);
        if (c.oneway) { if (onewayTokens.delete(token)) r.oneway.received++; continue; }
        if (watched.has(token)) reachedProvider.add(token);
      }
    }
  };
  const closedBeforeAnswer: string[] = [];

  let stop = false;
  const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
  let connSeq = 0;
  let openNow = 0;
  // Each connection pauses between bursts so that all of them together send about o.rate calls a second.
  const meanPauseMs = Math.max(50, (o.connections * 2.5 * 1000) / o.rate);

  async function client(slot: number): Promise<void> {
    // One kind per client, as an application calls one service; it keeps it across reconnects.
    const kind = KINDS[slot % KINDS.length];
    // Calls whose connection closed before an answer: sent again on the next connection, as a
    // Dubbo consumer's failover does; each attempt has its own token (what providers log).
    let resend: string[] = [];
    let first = true;
    while (!stop) {
      const id = ++connSeq;
      let c: RawDubboConnection;
      // Reconnects after a pause, as consumers do (Dubbo's reconnect timer): a storm of
      // immediate reconnects would measure this process, not the proxy.
      if (!first) await sleep(100 + Math.random() * 900);
      first = false;
      if (stop) break;
      try { c = await RawDubboConnection.connect(port); } catch { await sleep(100); continue; }
      r.connectionsOpened++;
      openNow++;
      r.peakClientConnections = Math.max(r.peakClientConnections, openNow);
      const openedAt = Date.now() - t0;
      let boundTo: string | null = null;
      let firstAnswerAt = 0;
      let callId = 0n;
      try {
        while (!stop && c.isOpen) {
          const waits: Promise<void>[] = [];
          const frames: Buffer[] = [];
          const again = resend;
          resend = [];
          const burst = again.length + 1 + Math.floor(Math.random() * 4);
          for (let b = 0; b < burst; b++) {
            const n = ++callId;
            const retry = b < again.length ? again[b] : null;
            const token = retry !== null ? `${retry.replace(/\.\d+$/, "")}.${Number(/\.(\d+)$/.exec(retry)![1]) + 1}` : `s${id}-${n}.0`;
            // A heartbeat, once a request has bound the connection: before that the module holds
            // heartbeats until one does (the cluster that answers them is not known yet).
            if (retry === null && boundTo !== null && Math.random() < 0.05) {
              r.heartbeats.sent++;
              waits.push(withTimeout(c.response(n), CALL_TIMEOUT_MS).then((a) => {
                if (a.id === n && a.event) r.heartbeats.answered++;
                else { r.heartbeats.wrong++; violation(`heartbeat ${n} answered as ${a.id}`); }
              }, (e: Error) => {
                if (e === TIMEOUT) { r.heartbeats.lost++; violation(`heartbeat ${n} got no answer in ${CALL_TIMEOUT_MS} ms on an open connection`); }
                else r.heartbeats.metClose++;
              }));
              frames.push(encodeHeartbeatRequest(n));
              continue;
            }
            if (retry === null && Math.random() < 0.05 && kind !== "noroute") { // a oneway call: no answer to account for
              r.oneway.sent++;
              onewayTokens.add(token);
              // The connection's own method: a first request binds the connection, oneway too.
              frames.push(encodeRequest({ id: n, path: DEMO_SERVICE, method: methodOf(kind), args: [token], twoWay: false }));
              continue;
            }
            if (retry === null) r.calls++; else r.resent++;
            watched.add(token);
            const spec = kind === "noroute"
              ? { id: n, path: "org.example.Nope", method: "nope", args: [token] }
              : { id: n, path: DEMO_SERVICE, method: methodOf(kind), args: [token],
                  attachments: kind === "group" ? { group: "g1" } : undefined };
            frames.push(encodeRequest(spec));
            waits.push(withTimeout(c.response(n), CALL_TIMEOUT_MS).then((a) => {
              watched.delete(token);
              if (a.id !== n) { r.misdelivered++; violation(`call ${token} answered with id ${a.id}`); return; }
              if (a.status !== 20) {
                const why = String(a.error ?? "");
                const key = `${a.status} ${why.replace(/^metaprotocol: /, "").replace(/:\d+/g, ":N").slice(0, 60)}`;
                r.errorReplies[key] = (r.errorReplies[key] ?? 0) + 1;
                if (kind === "noroute") {
                  // No route matches: the module itself answers, the error naming the service.
                  if (/no route matches this request/.test(why)) { r.answered++; return; }
                  if (/rules changed|upstream closed/.test(why)) { r.moduleErrorReplies++; return; }
                  r.misdelivered++; violation(`call ${token} (no route) answered: ${why.slice(0, 120)}`);
                  return;
                }
                if (/rules changed|upstream closed/.test(why)) r.moduleErrorReplies++;
                else { r.unexpectedErrors++; violation(`call ${token} got an unexpected error: ${key}`); }
                return;
              }
              const v = String(a.value);
              if (!v.includes(token)) { r.misdelivered++; violation(`call ${token} answered with ${v}`); return; }
              if (kind === "noroute") { r.misdelivered++; violation(`call ${token} (no route) answered with ${v}`); return; }
              const sub = versionOfAnswer(v)!;
              const now = Date.now() - t0;
              if (boundTo === null) {
                boundTo = sub; firstAnswerAt = now;
                const ok = kind === "hello" ? subsetsBetween(openedAt, now).has(sub as "v1" | "v2") : allowed(kind, "v2").has(sub);
                if (!ok) { r.misdelivered++; violation(`${kind} connection ${id} bound to ${sub}, rules said ${kind === "hello" ? [...subsetsBetween(openedAt, now)] : [...allowed(kind, "v2")]}`); return; }
              } else if (sub !== boundTo) {
                r.misdelivered++; violation(`connection ${id} (bound to ${boundTo}) answered by ${sub}`); return;
              } else if (kind === "hello") {
                // After an update, a connection bound by the old rules must be gone once the drain window is over.
                const last = helloHistory[helloHistory.length - 1];
                if (last.subset !== sub && last.at > firstAnswerAt && now > last.at + DRAIN_WINDOW_MS + 3000) r.staleAfterWindow++;
              }
              r.answered++;
            }, (e: Error) => {
              if (e === TIMEOUT) { r.lost++; violation(`${kind} call ${token} got no answer in ${CALL_TIMEOUT_MS} ms on an open connection (opened at ${openedAt} ms, bound to ${boundTo})`); return; }
              // The connection closed before an answer: lost if a provider saw it (judged at the
              // end), else it never reached one and is sent again.
              closedBeforeAnswer.push(token);
              resend.push(token);
            }));
          }
          // The burst is pipelined: one write, several frames.
          if (c.isOpen) c.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
          await Promise.all(waits);
          c.responses.splice(0); // answered: kept by the connection only for late lookups
          if (resend.length) break; // reconnect and send them again
          await sleep(Math.random() * 2 * meanPauseMs);
        }
      } finally {
        await c.close();
        openNow--;
      }
    }
    r.unsentAtStop += resend.length;
  }

  // Memory samples every 5 s.
  const sampleMemory = async () => {
    const stats = await proxy.stats();
    let rss = 0, allocated = 0;
    if (proxy.envoy) {
      const status = readFileSync(`/proc/${proxy.envoy.pid}/status`, "utf8");
      rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      allocated = Math.round(Number(JSON.parse(await proxy.envoy.admin("/memory")).allocated ?? 0) / 1024);
    } else {
      rss = Math.round(process.memoryUsage().rss / 1024);
    }
    r.memory.samples.push({
      atS: Math.round((Date.now() - t0) / 1000), envoyRssKiB: rss, envoyAllocatedKiB: allocated,
      wasmBytes: stats.get(STATS + "wasm_memory_bytes") ?? 0, heldBytes: stats.get(STATS + "held_bytes") ?? 0,
      connections: stats.get(STATS + "downstream_cx_active") ?? 0,
    });
  };

  // Connections open over the first 5 s (about 400 a second for 2000).
  const clients = Array.from({ length: o.connections }, (_, i) => sleep(Math.random() * 5000).then(() => client(i)));
  const poller = setInterval(drainProviderCalls, 200);
  let sampler: NodeJS.Timeout | null = null;
  const sampling = new Promise<void>((res) => {
    sampler = setInterval(() => { void sampleMemory().catch(() => {}); if (stop) res(); }, 5000);
  });
  try {
    let n = 0;
    while (Date.now() + o.eventEverySeconds * 1000 < deadline) {
      await sleep(o.eventEverySeconds * 1000);
      if (n++ % 2 === 0) {
        const next = helloHistory[helloHistory.length - 1].subset === "v2" ? "v1" : "v2";
        if (await proxy.reconfigure(LISTENER, helloConfig(next))) {
          helloHistory.push({ at: Date.now() - t0, subset: next });
          r.ruleUpdates++;
          log(`rules: sayHello -> ${next}`);
        } else violation(`the rule update to ${next} was refused`);
      } else {
        const s: Subset = Math.floor(n / 2) % 2 === 0 ? "v1" : "v2";
        await providers[s].close();
        await sleep(200);
        providers[s] = await startDubboProvider({ version: s, port: ports[s], backlog: 4096 });
        r.providerRestarts++;
        log(`provider ${s} restarted`);
      }
    }
    await sleep(Math.max(0, deadline - Date.now()));
  } finally {
    stop = true;
    await Promise.all(clients);
    await sleep(300);
    drainProviderCalls();
    clearInterval(poller);
    clearInterval(sampler!);
    await sampling.catch(() => {});
    await sampleMemory().catch(() => {});
    for (const [k, v] of await proxy.stats().catch(() => new Map<string, number>())) {
      if (!v) continue;
      if (k.startsWith(STATS)) r.moduleStats[k.slice(STATS.length)] = v;
      else if (ENVOY_STATS.test(k)) r.envoyStats[k.replace(/^envoy_cluster_default_svc_cluster_local_/, "cluster_").replace(/\{envoy_cluster_name="outbound\|20880\|(\w*)\|[^"]*"\}/, "{$1}")] = v;
    }
    const failures = proxy.vmFailures();
    if (failures.length) violation(`the VM failed: ${failures.slice(0, 3).join(" | ")}`);
    await proxy.close();
    for (const p of Object.values(providers)) await p.close();
  }
  for (const token of closedBeforeAnswer) {
    if (reachedProvider.has(token)) { r.lost++; violation(`call ${token} reached a provider and its answer never came`); } else r.closedUnread++;
  }
  r.unaccounted = r.calls + r.resent - (r.answered + r.moduleErrorReplies + r.closedUnread + r.lost + r.misdelivered + r.unexpectedErrors);
  if (r.unaccounted !== 0) violation(`${r.unaccounted} calls unaccounted for`);
  r.seconds = Math.round((Date.now() - t0) / 1000);
  judgeMemory(r);
  if (r.misdelivered) violation(`${r.misdelivered} misdelivered`);
  if (r.staleAfterWindow) violation(`${r.staleAfterWindow} calls went by old rules after the drain window`);
  return r;
}

/**
 * Flat, after warm-up (the first fifth of the run, at least 30 s: each worker's VM grows its
 * memory to what thousands of connections, new roots and the collector's lag need): the Wasm
 * memory reaches no new high in the second half of what follows, past WASM_SLACK (a leak keeps
 * making new highs; Wasm memory never shrinks), and Envoy's (allocated by tcmalloc; RSS where that is unknown)
 * stays within 15% + 16 MiB of where warm-up ended.
 */
/** Four Wasm pages: one VM's allocator may still take a page or two late in a short run (seen at 35 s of 73). */
const WASM_SLACK = 4 * 65536;

function judgeMemory(r: SoakReport): void {
  const s = r.memory.samples.filter((x) => x.envoyRssKiB > 0);
  const warmS = Math.max(30, r.seconds / 5);
  const after = s.filter((x) => x.atS >= warmS);
  if (after.length < 4) { r.memory.why = `too few samples after ${warmS} s of warm-up`; r.violations.push(`memory: ${r.memory.why}`); return; }
  const half = Math.floor(after.length / 2);
  const first = after.slice(0, half), second = after.slice(half);
  const warm = after[0], end = after[after.length - 1];
  const envoyOf = (x: MemorySample) => x.envoyAllocatedKiB || x.envoyRssKiB;
  const peak = (xs: MemorySample[], f: (x: MemorySample) => number) => Math.max(...xs.map(f));
  const wasmGrew = peak(second, (x) => x.wasmBytes) > peak(first, (x) => x.wasmBytes) + WASM_SLACK;
  const envoyGrew = peak(after, envoyOf) > envoyOf(warm) * 1.15 + 16384;
  r.memory.flat = !wasmGrew && !envoyGrew;
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  r.memory.why = `${warm.atS} s -> ${second[0].atS} s -> ${end.atS} s: Wasm ${mib(warm.wasmBytes / 1024)} -> ${mib(peak(first, (x) => x.wasmBytes) / 1024)} -> ${mib(peak(second, (x) => x.wasmBytes) / 1024)} MiB (peaks), ` +
    (warm.envoyAllocatedKiB > 0
      ? `Envoy allocated ${mib(warm.envoyAllocatedKiB)} MiB, at most ${mib(peak(after, (x) => x.envoyAllocatedKiB))}; RSS `
      : "RSS of this process (the local host, clients and providers) ") +
    `${mib(warm.envoyRssKiB)} MiB, at most ${mib(peak(after, (x) => x.envoyRssKiB))}`;
  if (!r.memory.flat) r.violations.push(`memory not flat: ${r.memory.why}`);
}

export function table(r: SoakReport): string {
  const errs = Object.entries(r.errorReplies).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} x ${k}`).join("; ") || "none";
  const peakProxy = Math.max(0, ...r.memory.samples.map((x) => x.connections));
  return [
    `| ${r.proxy}, ${r.seconds} s, ${r.connectionsTarget} clients | |`, "|---|---|",
    `| connections opened; open at once (clients / proxy gauge), at most | ${r.connectionsOpened}; ${r.peakClientConnections} / ${peakProxy} |`,
    `| rule updates (ECDS), provider restarts | ${r.ruleUpdates}, ${r.providerRestarts} |`,
    `| two-way calls, attempts sent again after a close | ${r.calls}, ${r.resent} |`,
    `| answered by the right provider with their own id | ${r.answered} |`,
    `| error replies by the module (drain window over, upstream closed) | ${r.moduleErrorReplies} |`,
    `| closed before an answer, never reached a provider (sent again; at the end: ${r.unsentAtStop}) | ${r.closedUnread} |`,
    `| lost / misdelivered / unexpected errors / unaccounted | ${r.lost} / ${r.misdelivered} / ${r.unexpectedErrors} / ${r.unaccounted} |`,
    `| calls by old rules after the drain window | ${r.staleAfterWindow} |`,
    `| answers with an error status | ${errs} |`,
    `| oneway sent / received by a provider | ${r.oneway.sent} / ${r.oneway.received} |`,
    `| heartbeats sent / answered / met a close / lost | ${r.heartbeats.sent} / ${r.heartbeats.answered} / ${r.heartbeats.metClose} / ${r.heartbeats.lost} |`,
    `| memory after warm-up | ${r.memory.why} |`,
  ].join("\n");
}

/** Open files this run needs: per connection a client and a provider socket here, two sockets in Envoy. */
function filesNeeded(connections: number): number { return 2 * connections + 1024; }

function openFilesLimit(): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync("/proc/self/limits", "utf8"));
  const n = (x: string | undefined) => (x === undefined || x === "unlimited" ? Infinity : Number(x));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const { values } = parseArgs({ options: {
    minutes: { type: "string", default: "10" }, connections: { type: "string", default: "5000" },
    rate: { type: "string", default: "2000" },
    proxy: { type: "string", default: "envoy" }, "event-every": { type: "string", default: "10" },
  } });
  const connections = Number(values.connections);
  // Node raises its soft limit to the hard one at start-up, and Envoy inherits it. A root user
  // may raise the hard limit too: this process runs itself again under a higher one.
  const need = filesNeeded(connections);
  const lim = openFilesLimit();
  if (lim.hard < need) {
    if (process.getuid?.() === 0 && !process.env.SOAK_RAISED_NOFILE) {
      console.log(`soak: open files limit ${lim.hard} < ${need} needed for ${connections} connections: running again under prlimit --nofile=${need}`);
      const again = spawnSync("prlimit", [`--nofile=${need}`, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
        { stdio: "inherit", env: { ...process.env, SOAK_RAISED_NOFILE: "1" } });
      process.exit(again.status ?? 1);
    }
    console.error(`soak: ${connections} connections need ${need} open files; the limit is ${lim.hard} (raise it: ulimit -n ${need}, as root)`);
    process.exit(2);
  }
  const report = await soak({
    minutes: Number(values.minutes), connections, rate: Number(values.rate), proxy: values.proxy as ProxyKind,
    eventEverySeconds: Number(values["event-every"]), log: (l) => console.log(`soak: ${l}`),
  });
  console.log(JSON.stringify(report));
  console.log(table(report));
  const bad = report.violations.length > 0 || report.lost > 0 || report.misdelivered > 0 || report.unaccounted !== 0;
  console.log(bad ? `soak: FAILED (${report.violations.length} violations)` : "soak: passed");
  process.exit(bad ? 1 : 0);
}

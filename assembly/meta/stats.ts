// Counters are summed in module memory and flushed to Envoy on the root's tick: one host call
// per counter that moved, per flush, instead of one per request. Names follow Envoy's style:
// metaprotocol.<statPrefix>.<name> and metaprotocol.<statPrefix>.route.<route>.<name>.
import { defineMetric, incrementMetric, MetricType } from "../abi/host";
import { MethodNames } from "./method-names";

export const enum Stat {
  CxTotal, RequestTotal, Oneway, ResponseTotal, ResponseError, Heartbeat,
  RequestDecodingError, ResponseDecodingError, FrameTooLarge,
  RouteNotFound, RouteMismatch, LocalReply, OverLimit,
  MutationApplied, MutationUnsupported, UnmatchedResponse, RequestTruncated, Passthrough, RegexInputTooLong, RegexBudgetExceeded,
  HeldBytesOverflow, HeartbeatOverflow, DrainClose, DrainRejected, UpstreamClosedReply, UpstreamConnectTimeout, Count,
}

const NAMES: string[] = [
  "downstream_cx_total", "request_total", "request_oneway", "response_total", "response_error", "heartbeat",
  "request_decoding_error", "response_decoding_error", "frame_too_large",
  "route_not_found", "route_mismatch", "local_reply", "ratelimit_over_limit",
  "mutation_applied", "mutation_unsupported", "response_unmatched", "request_truncated", "downstream_cx_passthrough",
  "regex_input_too_long", "regex_budget_exceeded",
  "held_bytes_overflow", "heartbeat_overflow", "downstream_cx_drain_close", "drain_rejected",
  "upstream_closed_reply", "upstream_connect_timeout",
];

/** Memory this VM reported under a gauge name, and how many roots use that name (module-wide: one VM, one memory). */
class MemoryReport { bytes: i64 = 0; roots: i32 = 0; }
const reportedMemory = new Map<string, MemoryReport>();

/** Distinct method names with their own counters, for the whole proxy (all worker VMs). */
export const MAX_METHODS = 256;

export class Stats {
  private ids: StaticArray<u32> = new StaticArray<u32>(<i32>Stat.Count);
  private deltas: StaticArray<i64> = new StaticArray<i64>(<i32>Stat.Count);
  private routeIds: u32[] = [];
  private routeDeltas: StaticArray<i64> = new StaticArray<i64>(0);
  private activeId: u32 = 0xffffffff;
  /**
   * Change of downstream_cx_active since the last flush. Flushed as a signed increment, never
   * recorded: every worker's VM (and a draining root beside a new one) shares the gauge by
   * name, and proxy_record_metric from each would overwrite the others' count.
   */
  activeDelta: i64 = 0;
  /** Change of held_bytes (what this root's connections keep between callbacks) since the last flush. */
  heldDelta: i64 = 0;
  private heldId: u32 = 0xffffffff;
  private memoryName: string = "";
  private memoryId: u32 = 0xffffffff;

  /** Define every metric (allowed in on_configure, not at start-up). */
  define(prefix: string, routeNames: string[]): void {
    const base = "metaprotocol." + prefix + ".";
    this.base = base;
    this.methodNames = new MethodNames(base, MAX_METHODS);
    for (let i = 0; i < <i32>Stat.Count; i++) {
      unchecked(this.ids[i] = defineMetric(MetricType.Counter, base + NAMES[i]));
    }
    this.activeId = defineMetric(MetricType.Gauge, base + "downstream_cx_active");
    this.heldId = defineMetric(MetricType.Gauge, base + "held_bytes");
    this.releaseMemoryName();
    this.memoryName = base + "wasm_memory_bytes";
    this.memoryId = defineMetric(MetricType.Gauge, this.memoryName);
    let r: MemoryReport;
    if (reportedMemory.has(this.memoryName)) r = reportedMemory.get(this.memoryName);
    else { r = new MemoryReport(); reportedMemory.set(this.memoryName, r); }
    r.roots++;
    this.routeIds = new Array<u32>(routeNames.length);
    this.routeDeltas = new StaticArray<i64>(routeNames.length);
    for (let i = 0; i < routeNames.length; i++) {
      this.routeIds[i] = defineMetric(MetricType.Counter, base + "route." + routeNames[i] + ".request_total");
      this.routeDeltas[i] = 0;
    }
  }

  // Per-method counters (config methodStats): defined when a method is first seen. Method
  // names come from clients, so at most MAX_METHODS get their own counters in the whole proxy
  // (claimed in shared data, see method-names.ts); the rest share "other", keeping Envoy's stat
  // count bounded whatever the number of workers.
  private base: string = "";
  private methodNames: MethodNames | null = null;
  private methodSlots: Map<string, i32> = new Map<string, i32>();
  private methodIds: u32[] = [];
  /** The name each method slot's counters carry ("other" for the overflow slot). */
  private methodLabels: string[] = [];
  private methodDeltas: i64[] = [];
  private otherSlot: i32 = -1;

  /** The slot of a method's two counters (request_total, response_error), defining them once. */
  methodSlot(method: string): i32 {
    if (this.methodSlots.has(method)) return this.methodSlots.get(method);
    if (this.methodSlots.size >= MAX_METHODS || !this.methodNames!.claim(method)) {
      if (this.otherSlot < 0) this.otherSlot = this.defineMethod("other");
      return this.otherSlot;
    }
    const slot = this.defineMethod(method.replaceAll(".", "_"));
    this.methodSlots.set(method, slot);
    return slot;
  }

  private defineMethod(name: string): i32 {
    const slot = this.methodIds.length;
    this.methodLabels.push(name);
    this.methodLabels.push(name);
    this.methodIds.push(defineMetric(MetricType.Counter, this.base + "method." + name + ".request_total"));
    this.methodIds.push(defineMetric(MetricType.Counter, this.base + "method." + name + ".response_error"));
    this.methodDeltas.push(0);
    this.methodDeltas.push(0);
    return slot;
  }

  methodLabel(slot: i32): string { return slot >= 0 && slot < this.methodLabels.length ? unchecked(this.methodLabels[slot]) : "other"; }

  incMethodRequest(slot: i32): void { if (slot >= 0) unchecked(this.methodDeltas[slot] += 1); }
  incMethodError(slot: i32): void { if (slot >= 0) unchecked(this.methodDeltas[slot + 1] += 1); }

  @inline inc(s: Stat): void { unchecked(this.deltas[<i32>s] += 1); }
  add(s: Stat, n: i64): void { unchecked(this.deltas[<i32>s] += n); }
  incRoute(slot: i32): void { if (slot >= 0 && slot < this.routeDeltas.length) unchecked(this.routeDeltas[slot] += 1); }

  flush(): void {
    for (let i = 0; i < <i32>Stat.Count; i++) {
      const d = unchecked(this.deltas[i]);
      if (d != 0) { incrementMetric(unchecked(this.ids[i]), d); unchecked(this.deltas[i] = 0); }
    }
    for (let i = 0; i < this.routeDeltas.length; i++) {
      const d = unchecked(this.routeDeltas[i]);
      if (d != 0) { incrementMetric(unchecked(this.routeIds[i]), d); unchecked(this.routeDeltas[i] = 0); }
    }
    for (let i = 0; i < this.methodDeltas.length; i++) {
      const d = unchecked(this.methodDeltas[i]);
      if (d != 0) { incrementMetric(unchecked(this.methodIds[i]), d); unchecked(this.methodDeltas[i] = 0); }
    }
    if (this.activeDelta != 0) { incrementMetric(this.activeId, this.activeDelta); this.activeDelta = 0; }
    if (this.heldDelta != 0) { incrementMetric(this.heldId, this.heldDelta); this.heldDelta = 0; }
    this.flushMemory();
  }

  /**
   * wasm_memory_bytes: the linear memory of every VM running this plugin (all workers add
   * theirs). A VM's memory is reported once per gauge name however many roots it has (a config
   * update adds a root to the same VM), by increments, as downstream_cx_active is.
   */
  private flushMemory(): void {
    if (this.memoryName.length == 0) return;
    const r = reportedMemory.get(this.memoryName);
    const now = <i64>memory.size() << 16;
    if (now != r.bytes) { incrementMetric(this.memoryId, now - r.bytes); r.bytes = now; }
  }

  /**
   * The root is going away (or renamed its stats): when no other root of this VM reports under
   * the name, this VM's memory leaves that gauge and the name is forgotten.
   */
  releaseMemoryName(): void {
    if (this.memoryName.length == 0) return;
    const r = reportedMemory.get(this.memoryName);
    if (--r.roots == 0) {
      if (r.bytes != 0) incrementMetric(this.memoryId, -r.bytes);
      reportedMemory.delete(this.memoryName);
    }
    this.memoryName = "";
  }
}

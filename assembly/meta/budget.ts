// What connections keep in module memory between callbacks (partial frames, heartbeats waiting
// for the first request, requests in flight) is charged to one budget per VM, so that no client,
// and no crowd of clients, can make the allocator trap: under FAIL_CLOSED one trap would close
// every connection of the VM. Envoy caps a VM's memory at 1 GiB, and AssemblyScript's allocator
// traps when it cannot grow (or is asked for a block over 1 GiB), so sizes are checked here,
// before anything is allocated, and a connection that would go over is closed instead.
import { Stats } from "./stats";

/** Default `maxHeldBytes`: 256 MiB per VM (Envoy runs one VM per worker thread). */
export const DEFAULT_MAX_HELD_BYTES: i64 = 256 << 20;
export const MIN_MAX_HELD_BYTES: i64 = 1 << 20;
/**
 * What the budget and the per-callback buffers may use together: a VM's memory is capped at
 * 1 GiB, and the rest (connection objects, config, garbage awaiting collection) needs room.
 * A callback may need up to two frames beside the held bytes (its output and a rewritten frame),
 * so a config must satisfy maxHeldBytes + 2 x maxFrameBytes <= this.
 */
export const MEMORY_PLAN_BYTES: i64 = 768 << 20;
/** A connection may hold this many bytes of heartbeats sent before its first request. */
export const MAX_HELD_HEARTBEAT_BYTES: i32 = 64 << 10;
/** Charged per request in flight (its entry in the correlation table). */
export const PENDING_ENTRY_BYTES: i64 = 32;

/**
 * A charge of at least this much (a partial frame growing past 64 KiB) may not use the last
 * eighth of the budget: that part stays for small holdings (requests in flight, small partial
 * frames, heartbeats), so a few connections sending huge frames cannot starve everyone else.
 */
export const LARGE_CHARGE: i64 = 64 << 10;

/** The VM's budget: one instance, shared by every root and connection of this module instance. */
export class HeldBudget {
  limit: i64 = DEFAULT_MAX_HELD_BYTES;
  used: i64 = 0;

  @inline fits(n: i64): bool {
    const room = n >= LARGE_CHARGE ? this.limit - (this.limit >> 3) : this.limit;
    return this.used + n <= room;
  }
}

export const heldBudget = new HeldBudget();

/**
 * One connection's share: every byte it holds is charged here and to the VM's budget, and given
 * back when released or when the connection ends. Its root's held_bytes gauge follows.
 */
export class HeldAccount {
  held: i64 = 0;
  constructor(private stats: Stats) {}

  /** Charges n more bytes; false (nothing charged) when the VM's budget cannot take them. */
  take(n: i64): bool {
    if (n <= 0) { this.give(-n); return true; }
    if (!heldBudget.fits(n)) return false;
    heldBudget.used += n;
    this.held += n;
    this.stats.heldDelta += n;
    return true;
  }

  give(n: i64): void {
    if (n <= 0) return;
    if (n > this.held) n = this.held;
    heldBudget.used -= n;
    this.held -= n;
    this.stats.heldDelta -= n;
  }

  releaseAll(): void { this.give(this.held); }
}

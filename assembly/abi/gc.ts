// When to collect garbage. The modules use AssemblyScript's "minimal" runtime: no shadow stack
// and no write barrier in every function (2-3x faster frames than the incremental collector),
// but nothing is collected unless the module calls __collect, and only where no managed
// reference lives on the Wasm stack: between callbacks (exports.ts).
//
// The trigger is the heap itself, not a count of callbacks: asconfig.json routes the allocator's
// entry points through the three functions below (`--use __alloc=...`), which keep the bytes in
// use exact (garbage included). A collection runs when that has grown by half of what the last
// collection left live (at least COLLECT_MIN_BYTES, less near the VM's cap), so its cost, which
// grows with the live heap, is paid once per as many freshly allocated bytes: constant work per
// byte allocated, and memory bounded by ~1.5x the live heap plus one callback's allocations,
// whatever the callbacks allocate. A trigger counting callbacks cannot bound memory: config
// updates allocate far more per callback than frames do, and the VM grew to its cap between
// collections.
import { __alloc as tlsfAlloc, __realloc as tlsfRealloc, __free as tlsfFree } from "rt/tlsf";

const BLOCK_OVERHEAD: usize = sizeof<usize>();
const COLLECT_MIN_BYTES: usize = 1 << 20;
// Past this, garbage is not left to pile up by half the live heap: Envoy's V8 caps a VM at
// 1 GiB, and a callback that cannot grow memory traps (nothing can be collected inside one).
const GARBAGE_ROOM_END: usize = 768 << 20;

let inUse: usize = 0;
let collectAt: usize = COLLECT_MIN_BYTES;

// The allocator's block size: its header word before the payload, two tag bits masked off.
@inline function blockBytes(ptr: usize): usize { return (load<usize>(ptr - BLOCK_OVERHEAD) & ~3) + BLOCK_OVERHEAD; }

export function countedAlloc(size: usize): usize {
  const ptr = tlsfAlloc(size);
  inUse += blockBytes(ptr);
  return ptr;
}

export function countedRealloc(ptr: usize, size: usize): usize {
  const before = ptr >= __heap_base ? blockBytes(ptr) : 0;
  const out = tlsfRealloc(ptr, size);
  inUse += blockBytes(out) - before;
  return out;
}

export function countedFree(ptr: usize): void {
  if (ptr >= __heap_base) inUse -= blockBytes(ptr);
  tlsfFree(ptr);
}

/** Heap bytes in use now, live and garbage (exact; measurement builds export it). */
export function heapInUse(): usize { return inUse; }

/** True when the heap has grown enough since the last collection to pay for the next. */
@inline export function collectDue(): bool { return inUse >= collectAt; }

/** A full collection; call only with no managed reference on the stack. */
export function collectNow(): void {
  __collect();
  const room = inUse < GARBAGE_ROOM_END ? GARBAGE_ROOM_END - inUse : 0;
  collectAt = inUse + max(min(inUse >> 1, room), COLLECT_MIN_BYTES);
}

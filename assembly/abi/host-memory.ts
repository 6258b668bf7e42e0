// Memory the host asks for. Envoy copies every read into memory it gets from our malloc, and
// the callback frees it before returning: one landing buffer, reused, takes those copies, so
// the allocator is not asked twice per data callback. Anything else (a second copy while the
// landing is taken, or one larger than it) comes from the heap as before.
const LANDING_BYTES: usize = 32 << 10;

let landing: usize = 0;
let landingTaken = false;

export function hostAlloc(size: usize): usize {
  if (!landingTaken && size <= LANDING_BYTES) {
    if (landing == 0) landing = heap.alloc(LANDING_BYTES);
    landingTaken = true;
    return landing;
  }
  return heap.alloc(size > 0 ? size : 1);
}

/** Frees what hostAlloc gave (host-allocated bytes are freed only through here). */
export function hostFree(ptr: usize): void {
  if (ptr == 0) return;
  if (ptr == landing) { landingTaken = false; return; }
  heap.free(ptr);
}

/**
 * After the outermost callback: the landing should be free again. If not, whoever holds it
 * keeps it as an ordinary heap block (hostFree then frees it to the heap) and a new landing is
 * made on the next request; a host that allocated and then failed to hand the copy over loses
 * one block, not the fast path.
 */
export function releaseLanding(): void {
  if (!landingTaken) return;
  landing = 0;
  landingTaken = false;
}

/** True while a copy sits in the landing buffer (tests: nothing keeps it past a callback). */
export function landingInUse(): bool { return landingTaken; }

// Requests in flight on one connection: request id -> a packed i32 (see connection.ts). An
// open-addressing table (linear probing, deletion by backward shift, so no tombstones): setting
// and deleting an id allocate nothing once the table has room for the connection's window,
// where a Map churns its entry array (a rehash every few dozen requests). Empty and large, it
// gives its memory back, so one burst does not pin it for the connection's life.
const MIN_CAPACITY: i32 = 16;
const KEEP_WHEN_EMPTY: i32 = 64;

export class InFlight {
  private keysArr: StaticArray<u64> = new StaticArray<u64>(0);
  private vals: StaticArray<i32> = new StaticArray<i32>(0);
  private used: StaticArray<u8> = new StaticArray<u8>(0);
  private mask: i32 = -1;
  private count: i32 = 0;

  get size(): i32 { return this.count; }

  @inline private home(k: u64): i32 { return <i32>((k * 0x9e3779b97f4a7c15) >>> 40) & this.mask; }

  /** The slot holding `k`, or -1 (for valueAt/deleteAt: one search where has/get/delete make three). */
  find(k: u64): i32 {
    if (this.count == 0) return -1;
    const mask = this.mask;
    let i = this.home(k);
    while (unchecked(this.used[i]) != 0) {
      if (unchecked(this.keysArr[i]) == k) return i;
      i = (i + 1) & mask;
    }
    return -1;
  }

  has(k: u64): bool { return this.find(k) >= 0; }

  /** The value of `k` (0 when absent: check has() first). */
  get(k: u64): i32 { const i = this.find(k); return i >= 0 ? unchecked(this.vals[i]) : 0; }

  /** The value in slot `i` (from find). */
  @inline valueAt(i: i32): i32 { return unchecked(this.vals[i]); }

  set(k: u64, v: i32): void {
    const i = this.find(k);
    if (i >= 0) { unchecked(this.vals[i] = v); return; }
    this.add(k, v);
  }

  /** Adds `k`, which the caller knows is absent (saves set's search). */
  add(k: u64, v: i32): void {
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.resize(max(MIN_CAPACITY, (this.mask + 1) * 2));
    this.insert(k, v);
    this.count++;
  }

  private insert(k: u64, v: i32): void {
    const mask = this.mask;
    let i = this.home(k);
    while (unchecked(this.used[i]) != 0) i = (i + 1) & mask;
    unchecked(this.keysArr[i] = k);
    unchecked(this.vals[i] = v);
    unchecked(this.used[i] = 1);
  }

  delete(k: u64): bool {
    const i = this.find(k);
    if (i < 0) return false;
    this.deleteAt(i);
    return true;
  }

  /** Removes the entry in slot `i` (from find). */
  deleteAt(i: i32): void {
    const mask = this.mask;
    // Backward shift: pull later entries of the probe run into the hole when their home allows.
    let j = i;
    while (true) {
      j = (j + 1) & mask;
      if (unchecked(this.used[j]) == 0) break;
      const h = this.home(unchecked(this.keysArr[j]));
      // The entry at j may move to i unless its home lies cyclically in (i, j].
      const stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
      if (stays) continue;
      unchecked(this.keysArr[i] = this.keysArr[j]);
      unchecked(this.vals[i] = this.vals[j]);
      i = j;
    }
    unchecked(this.used[i] = 0);
    this.count--;
    if (this.count == 0 && this.mask + 1 > KEEP_WHEN_EMPTY) this.clear();
  }

  clear(): void {
    this.count = 0;
    if (this.mask + 1 > KEEP_WHEN_EMPTY) { this.keysArr = new StaticArray<u64>(0); this.vals = new StaticArray<i32>(0); this.used = new StaticArray<u8>(0); this.mask = -1; return; }
    for (let i = 0; i <= this.mask; i++) unchecked(this.used[i] = 0);
  }

  /** The ids in flight (allocates: for the rare paths that answer them all). */
  keys(): u64[] {
    const out = new Array<u64>(0);
    for (let i = 0; i <= this.mask; i++) if (unchecked(this.used[i]) != 0) out.push(unchecked(this.keysArr[i]));
    return out;
  }

  private resize(cap: i32): void {
    const ok = this.keysArr, ov = this.vals, ou = this.used, n = this.mask + 1;
    this.keysArr = new StaticArray<u64>(cap);
    this.vals = new StaticArray<i32>(cap);
    this.used = new StaticArray<u8>(cap);
    this.mask = cap - 1;
    for (let i = 0; i < n; i++) if (unchecked(ou[i]) != 0) this.insert(unchecked(ok[i]), unchecked(ov[i]));
  }
}

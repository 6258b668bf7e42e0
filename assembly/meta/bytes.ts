// Raw byte helpers shared by the framework and every codec.
// Codecs see frames as (ptr, len) in module memory: no copies, no per-frame objects.

@inline export function u8At(p: usize): u32 { return <u32>load<u8>(p); }
@inline export function u16be(p: usize): u32 { return <u32>bswap<u16>(load<u16>(p)); }
@inline export function u32be(p: usize): u32 { return bswap<u32>(load<u32>(p)); }
@inline export function u64be(p: usize): u64 { return bswap<u64>(load<u64>(p)); }
@inline export function i16be(p: usize): i32 { return <i32>bswap<i16>(load<i16>(p)); }

/** Decode `len` bytes of UTF-8 at p into a string (allocates: use only for values rules need). */
export function utf8String(p: usize, len: i32): string {
  if (len <= 0) return "";
  return String.UTF8.decodeUnsafe(p, <usize>len, false);
}

/**
 * True when the UTF-8 bytes [p, p+len) spell exactly `s`, without decoding them (no allocation).
 * ASCII is compared byte by byte; other characters are encoded on the fly.
 */
export function utf8Equals(p: usize, len: i32, s: string): bool {
  const n = s.length;
  let i = 0, j = 0;
  while (i < n) {
    let c = <u32>s.charCodeAt(i++);
    if (c < 0x80) {
      if (j >= len || <u32>load<u8>(p + <usize>j) != c) return false;
      j++;
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i < n) { // surrogate pair -> one 4-byte sequence
      const lo = <u32>s.charCodeAt(i);
      if (lo >= 0xdc00 && lo < 0xe000) { i++; c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00); }
    }
    let w = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (j + w > len) return false;
    let lead: u32 = w == 2 ? 0xc0 | (c >> 6) : w == 3 ? 0xe0 | (c >> 12) : 0xf0 | (c >> 18);
    if (<u32>load<u8>(p + <usize>j) != lead) return false;
    for (let k = w - 2; k >= 0; k--) {
      if (<u32>load<u8>(p + <usize>(j + w - 1 - k)) != (0x80 | ((c >> (6 * <u32>k)) & 0x3f))) return false;
    }
    j += w;
  }
  return j == len;
}

/**
 * No buffer ever asks the allocator for more than this: AssemblyScript's allocator traps on a
 * block over 1 GiB, and Envoy caps a VM's memory at 1 GiB. Config bounds keep every buffer far
 * below it (see budget.ts); reaching it is a bug, reported by name instead of a bare trap.
 */
export const MAX_BUFFER_BYTES: i64 = 512 << 20;

/**
 * A growable byte buffer in unmanaged module memory. One instance is kept per connection and
 * direction and reused for every callback, so the hot path does not allocate per frame.
 */
export class ByteBuf {
  ptr: usize = 0;
  len: i32 = 0;
  cap: i32 = 0;

  clear(): void { this.len = 0; }

  ensure(extra: i32): void {
    const need = <i64>this.len + <i64>extra;
    if (need <= <i64>this.cap) return;
    this.resize(<i32>ByteBuf.grownCapacity(this.cap, need, MAX_BUFFER_BYTES));
  }

  /**
   * The capacity to grow to for `need` bytes: doubling (from 256) for amortized appends, but
   * never past `soft` unless `need` itself is larger. Checked against MAX_BUFFER_BYTES first.
   */
  static grownCapacity(cap: i32, need: i64, soft: i64): i64 {
    if (need > MAX_BUFFER_BYTES || need < 0) {
      throw new Error("buffer of " + need.toString() + " bytes requested (limit " + MAX_BUFFER_BYTES.toString() + ")");
    }
    let c: i64 = cap < 256 ? 256 : <i64>cap;
    while (c < need) c <<= 1;
    if (c > soft) c = need > soft ? need : soft;
    return c;
  }

  /** Sets the capacity to exactly `cap` bytes (never below len); 0 frees the memory. */
  resize(cap: i32): void {
    if (cap < this.len) cap = this.len;
    if (cap == this.cap) return;
    if (cap == 0) { this.free(); return; }
    this.ptr = this.ptr == 0 ? heap.alloc(<usize>cap) : heap.realloc(this.ptr, <usize>cap);
    this.cap = cap;
  }

  /** Give the memory back (connection close). */
  free(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    this.ptr = 0; this.len = 0; this.cap = 0;
  }

  writeU8(v: u32): void { this.ensure(1); store<u8>(this.ptr + <usize>this.len, <u8>v); this.len += 1; }
  writeU16BE(v: u32): void { this.ensure(2); store<u16>(this.ptr + <usize>this.len, bswap<u16>(<u16>v)); this.len += 2; }
  writeU32BE(v: u32): void { this.ensure(4); store<u32>(this.ptr + <usize>this.len, bswap<u32>(v)); this.len += 4; }
  writeU64BE(v: u64): void { this.ensure(8); store<u64>(this.ptr + <usize>this.len, bswap<u64>(v)); this.len += 8; }

  writeBytes(src: usize, n: i32): void {
    if (n <= 0) return;
    this.ensure(n);
    memory.copy(this.ptr + <usize>this.len, src, <usize>n);
    this.len += n;
  }

  /** Append the UTF-8 bytes of s; returns the number of bytes written. */
  writeUtf8(s: string): i32 {
    const n = String.UTF8.byteLength(s, false);
    this.ensure(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.ptr + <usize>this.len, false);
    this.len += n;
    return n;
  }

  /** Overwrite a big-endian u32 already written at `at` (length fix-ups). */
  setU32BE(at: i32, v: u32): void { store<u32>(this.ptr + <usize>at, bswap<u32>(v)); }
  setU8(at: i32, v: u32): void { store<u8>(this.ptr + <usize>at, <u8>v); }

  /** Drop the first n bytes, keeping the rest (used to keep an incomplete tail). */
  consume(n: i32): void {
    if (n <= 0) return;
    if (n >= this.len) { this.len = 0; return; }
    memory.copy(this.ptr, this.ptr + <usize>n, <usize>(this.len - n));
    this.len -= n;
  }
}

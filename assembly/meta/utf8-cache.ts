// Strings a codec decodes again and again (a connection calls the same few methods of the same
// interfaces with the same attachment values): a hit costs a memory compare of the bytes, not
// an allocation, and hands out the same string object (so callers may memoize by identity).
// Small and bounded: at most CAP strings of at most MAX_BYTES each, replaced in turn.
const CAP: i32 = 16;
const MAX_BYTES: i32 = 128;

export class Utf8Cache {
  private strs: string[] = [];
  /** Each string's UTF-8 bytes, as they came (compared with memory.compare). */
  private bytes: ArrayBuffer[] = [];
  private next: i32 = 0;

  /** The string of the UTF-8 bytes [p, p+len): a cached one when it has the same bytes. */
  get(p: usize, len: i32): string {
    const bytes = this.bytes;
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      const b = unchecked(bytes[i]);
      if (b.byteLength == len && memory.compare(changetype<usize>(b), p, <usize>len) == 0) return unchecked(this.strs[i]);
    }
    const s = String.UTF8.decodeUnsafe(p, <usize>len, false);
    if (len > MAX_BYTES) return s;
    const copy = new ArrayBuffer(len);
    memory.copy(changetype<usize>(copy), p, <usize>len);
    if (n < CAP) { this.strs.push(s); bytes.push(copy); return s; }
    const i = this.next;
    unchecked(this.strs[i] = s);
    unchecked(bytes[i] = copy);
    this.next = (i + 1) % CAP;
    return s;
  }
}

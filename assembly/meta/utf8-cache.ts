// Strings a codec decodes again and again (a connection calls the same few methods of the same
// interfaces with the same attachment values): a hit costs a compare of the bytes, not an
// allocation. Small and bounded: at most CAP strings of at most MAX_BYTES each, replaced in turn.
import { utf8Equals } from "./bytes";

const CAP: i32 = 16;
const MAX_BYTES: i32 = 128;

export class Utf8Cache {
  private strs: string[] = [];
  private lens: StaticArray<i32> = new StaticArray<i32>(CAP);
  private next: i32 = 0;

  /** The string of the UTF-8 bytes [p, p+len): a cached one when it has the same bytes. */
  get(p: usize, len: i32): string {
    const strs = this.strs;
    const n = strs.length;
    for (let i = 0; i < n; i++) {
      if (unchecked(this.lens[i]) == len && utf8Equals(p, len, unchecked(strs[i]))) return unchecked(strs[i]);
    }
    const s = String.UTF8.decodeUnsafe(p, <usize>len, false);
    if (len > MAX_BYTES) return s;
    if (n < CAP) { strs.push(s); unchecked(this.lens[n] = len); return s; }
    const i = this.next;
    unchecked(strs[i] = s);
    unchecked(this.lens[i] = len);
    this.next = (i + 1) % CAP;
    return s;
  }
}

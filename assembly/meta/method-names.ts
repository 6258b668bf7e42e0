// Which method names get their own counters, decided once for the whole proxy. Envoy runs one VM
// per worker thread, and all of them share each metric by name, so a per-VM cap would let
// clients create (workers x cap) names. The names that have counters are kept in Envoy shared
// data (process-wide per vm_id) and claimed with CAS; a VM reads the list only for a name it has
// not seen yet, and not at all once the list is full. Bounded: at most `cap` names of at most
// MAX_NAME_BYTES each.
import { Slice, Status, getSharedData, lastSharedCas, setSharedData } from "../abi/host";

/** Longer names (and names with a newline, the list's separator) count as "other". */
export const MAX_NAME_BYTES = 128;

export class MethodNames {
  private key: ArrayBuffer;
  private full: bool = false;
  private slice: Slice = new Slice();

  constructor(statBase: string, private cap: i32) {
    this.key = String.UTF8.encode(statBase + "method_names");
  }

  /**
   * True when `name` has its own counters proxy-wide (claiming it if there is room); false means
   * "other". Called once per name per VM: the caller caches the answer for claimed names.
   */
  claim(name: string): bool {
    if (this.full || name.length == 0 || name.length > MAX_NAME_BYTES || name.includes("\n")) return false;
    const entry = String.UTF8.encode(name + "\n");
    // CAS retries are bounded: under contention the name counts as "other" this time and is
    // tried again the next time this VM sees it.
    for (let attempt = 0; attempt < 8; attempt++) {
      let count = 0;
      let cas: u32 = 0;
      const s = getSharedData(this.key, this.slice);
      const list = this.slice;
      if (s == Status.Ok) {
        cas = lastSharedCas();
        if (contains(list.ptr, list.len, changetype<usize>(entry), entry.byteLength)) { list.free(); return true; }
        count = lines(list.ptr, list.len);
      }
      if (count >= this.cap) { list.free(); this.full = true; return false; }
      const next = heap.alloc(<usize>(list.len + entry.byteLength));
      if (list.len > 0) memory.copy(next, list.ptr, <usize>list.len);
      memory.copy(next + <usize>list.len, changetype<usize>(entry), <usize>entry.byteLength);
      const w = setSharedData(this.key, next, list.len + entry.byteLength, cas);
      heap.free(next);
      list.free();
      if (w == Status.Ok) return true;
      if (w != Status.CasMismatch) return false;
    }
    return false;
  }
}

/** Whether the newline-terminated entry [e, e+elen) is one of the lines in [p, p+len). */
function contains(p: usize, len: i32, e: usize, elen: i32): bool {
  let start = 0;
  for (let i = 0; i < len; i++) {
    if (load<u8>(p + <usize>i) != 0x0a) continue;
    if (i + 1 - start == elen && memory.compare(p + <usize>start, e, <usize>elen) == 0) return true;
    start = i + 1;
  }
  return false;
}

function lines(p: usize, len: i32): i32 {
  let n = 0;
  for (let i = 0; i < len; i++) if (load<u8>(p + <usize>i) == 0x0a) n++;
  return n;
}

// How a root learns that newer rules exist. On a config update Envoy creates a new root context
// and gives it new connections only; connections already open stay with the root they started
// on. Every root publishes the config it was given in Envoy shared data (process-wide per vm_id,
// so every worker's VM, and a new module version with the same vm_id, sees it), keyed by the
// plugin's name and root id; older roots read it on their tick and drain the connections whose
// binding the newer rules would not choose (connection.ts).
//
// Two keys: "<base>gen", an 8-byte generation read on every tick, and "<base>rules", the JSON,
// read only when the generation moved. A root publishes only when the stored rules differ from
// its own, so the workers of one update (each configures its own root) bump the generation once.
import { Slice, Status, getSharedData, lastSharedCas, setSharedData } from "../abi/host";

const GEN: usize = memory.data(8);

export class RulesChannel {
  private genKey: ArrayBuffer;
  private rulesKey: ArrayBuffer;
  private slice: Slice = new Slice();
  /** The generation last read (0: none yet). */
  seen: u64 = 0;

  constructor(pluginName: string, rootId: string) {
    const base = "metaprotocol/rules/" + pluginName + "/" + rootId + "/";
    this.genKey = String.UTF8.encode(base + "gen");
    this.rulesKey = String.UTF8.encode(base + "rules");
  }

  /** Makes `json` the newest rules (unless they already are). */
  publish(json: string): void {
    const bytes = String.UTF8.encode(json);
    for (let attempt = 0; attempt < 8; attempt++) {
      let gen: u64 = 0;
      let cas: u32 = 0;
      if (getSharedData(this.genKey, this.slice) == Status.Ok && this.slice.len == 8) {
        gen = load<u64>(this.slice.ptr);
        cas = lastSharedCas();
      }
      this.slice.free();
      if (gen != 0 && this.storedEquals(bytes)) { this.seen = gen; return; }
      if (setSharedData(this.rulesKey, changetype<usize>(bytes), bytes.byteLength, 0) != Status.Ok) return;
      store<u64>(GEN, gen + 1);
      const w = setSharedData(this.genKey, GEN, 8, cas);
      if (w == Status.Ok) { this.seen = gen + 1; return; }
      if (w != Status.CasMismatch) return;
    }
  }

  /**
   * The newest rules when they changed since the last call, else null. Cheap when nothing
   * changed: one 8-byte read.
   */
  poll(): string | null {
    if (getSharedData(this.genKey, this.slice) != Status.Ok || this.slice.len != 8) { this.slice.free(); return null; }
    const gen = load<u64>(this.slice.ptr);
    this.slice.free();
    if (gen == this.seen) return null;
    if (getSharedData(this.rulesKey, this.slice) != Status.Ok) { this.slice.free(); return null; }
    const json = String.UTF8.decodeUnsafe(this.slice.ptr, <usize>this.slice.len, false);
    this.slice.free();
    this.seen = gen;
    return json;
  }

  private storedEquals(bytes: ArrayBuffer): bool {
    if (getSharedData(this.rulesKey, this.slice) != Status.Ok) { this.slice.free(); return false; }
    const same = this.slice.len == bytes.byteLength && memory.compare(this.slice.ptr, changetype<usize>(bytes), <usize>bytes.byteLength) == 0;
    this.slice.free();
    return same;
  }
}

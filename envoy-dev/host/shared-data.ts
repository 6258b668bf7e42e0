// Shared data and shared queues, per vm_id and process-wide (as in proxy-wasm-cpp-host):
// every VM with the same vm_id, reloaded ones included, sees the same keys.
import { Status } from "./abi.ts";

interface Entry { value: Uint8Array; cas: number }
interface Queue { vmId: string; name: string; items: Uint8Array[]; onReady: ((token: number) => void) | null }

export class SharedData {
  private data = new Map<string, Map<string, Entry>>();
  private nextCas = 1;
  private queues = new Map<number, Queue>();
  private nextQueue = 1;

  get(vmId: string, key: string): Entry | null {
    return this.data.get(vmId)?.get(key) ?? null;
  }

  /** cas 0 sets unconditionally; otherwise it must equal the stored cas. */
  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    let m = this.data.get(vmId);
    if (!m) { m = new Map(); this.data.set(vmId, m); }
    const cur = m.get(key);
    if (cas !== 0 && cur && cur.cas !== cas) return Status.CAS_MISMATCH;
    m.set(key, { value: value.slice(), cas: this.nextCas++ });
    return Status.OK;
  }

  registerQueue(vmId: string, name: string, onReady: (token: number) => void): number {
    for (const [t, q] of this.queues) if (q.vmId === vmId && q.name === name) { q.onReady = onReady; return t; }
    const token = this.nextQueue++;
    this.queues.set(token, { vmId, name, items: [], onReady });
    return token;
  }
  resolveQueue(vmId: string, name: string): number | null {
    for (const [t, q] of this.queues) if (q.vmId === vmId && q.name === name) return t;
    return null;
  }
  enqueue(token: number, value: Uint8Array): number {
    const q = this.queues.get(token);
    if (!q) return Status.NOT_FOUND;
    q.items.push(value.slice());
    // Envoy posts the notification to the owning VM's dispatcher: never re-entrant.
    if (q.onReady) { const cb = q.onReady; setImmediate(() => cb(token)); }
    return Status.OK;
  }
  dequeue(token: number): Uint8Array | number {
    const q = this.queues.get(token);
    if (!q) return Status.NOT_FOUND;
    return q.items.shift() ?? Status.EMPTY;
  }
}

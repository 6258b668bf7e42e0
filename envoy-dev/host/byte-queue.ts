// A connection buffer (Envoy's Buffer::Instance, reduced to what the host needs) and the
// adapter that gives the module Envoy's proxy_set_buffer_bytes rules on it.
import { Status } from "./abi.ts";
import type { DataBuffer } from "./vm.ts";

export class ByteQueue {
  private data: Buffer = Buffer.alloc(0);
  get length(): number { return this.data.length; }
  bytes(): Buffer { return this.data; }
  append(b: Uint8Array): void { if (b.length) this.data = this.data.length ? Buffer.concat([this.data, b]) : Buffer.from(b); }
  prepend(b: Uint8Array): void { if (b.length) this.data = Buffer.concat([b, this.data]); }
  drain(n: number): void { this.data = this.data.subarray(Math.min(n, this.data.length)); }
  /** Moves every byte out (Envoy's move()). */
  take(): Buffer { const d = this.data; this.data = Buffer.alloc(0); return d; }
}

/**
 * A network data buffer outside its callback: Envoy's Context::getBuffer still hands out its
 * wrapper (around no buffer), so a read is OK and empty and a write is BAD_ARGUMENT.
 */
export const NO_DATA: DataBuffer = { bytes: () => new Uint8Array(0), set: () => Status.BAD_ARGUMENT };

/** start == 0: drain `length` then prepend; start >= size: append; otherwise BAD_ARGUMENT. */
export function mutableBuffer(q: ByteQueue): DataBuffer {
  return {
    bytes: () => q.bytes(),
    set(start: number, length: number, data: Uint8Array): number {
      if (start === 0) {
        if (length) q.drain(length);
        q.prepend(data);
        return Status.OK;
      }
      if (start >= q.length) { q.append(data); return Status.OK; }
      return Status.BAD_ARGUMENT;
    },
  };
}

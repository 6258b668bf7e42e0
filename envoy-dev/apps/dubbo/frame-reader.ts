// Cuts a TCP byte stream into Dubbo frames. A stream that does not start with the magic, or
// announces a body over the cap, is unrecoverable (Java Dubbo closes such channels too):
// push() throws FrameError and the caller closes the socket.
import { DEFAULT_PAYLOAD, HEADER_LENGTH, MAGIC, readHeader, type Header } from "./protocol.ts";

export interface Frame {
  header: Header;
  body: Buffer;
  /** The whole frame as received (header + body). */
  raw: Buffer;
}

export class FrameError extends Error {}

export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBodyBytes: number = DEFAULT_PAYLOAD) {}

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    // Each turn consumes one whole frame, so the loop is bounded by the bytes at hand.
    while (this.pending.length >= 2) {
      if (this.pending.readUInt16BE(0) !== MAGIC) {
        throw new FrameError(`bad magic 0x${this.pending.subarray(0, 2).toString("hex")}`);
      }
      if (this.pending.length < HEADER_LENGTH) break;
      const header = readHeader(this.pending);
      if (header.bodyLength > this.maxBodyBytes) {
        throw new FrameError(`body length ${header.bodyLength} over the cap ${this.maxBodyBytes}`);
      }
      const total = HEADER_LENGTH + header.bodyLength;
      if (this.pending.length < total) break;
      const raw = this.pending.subarray(0, total);
      frames.push({ header, body: raw.subarray(HEADER_LENGTH), raw });
      this.pending = this.pending.subarray(total);
    }
    return frames;
  }
}

// The frame loop shared by both directions: join the held tail with the new bytes, let a
// handler see each complete frame, and work out the smallest buffer rewrite.
//
// Envoy hands the whole buffer on when a filter returns CONTINUE, so an incomplete frame must be
// cut off and kept here, then put back in front next time. Output is copy-on-write: while every
// frame passes unchanged nothing is copied, and with no tail either the buffer is not rewritten.
import { ByteBuf } from "./bytes";
import { BufferType, Slice, getBuffer, setBuffer } from "../abi/host";

export const enum Verdict {
  Keep = 0, Replace = 1, Drop = 2,
  /** Waits for the rate limit service (globalratelimit/gate.ts): the connection pauses. */
  Hold = 3,
}

/** Above this, an emptied tail gives its memory back instead of keeping it for the next frame. */
const KEEP_TAIL_CAPACITY = 64 << 10;

/**
 * Buffers a callback uses only while it runs. The VM is single-threaded and data callbacks do
 * not nest, so one set per plugin serves every connection: memory per idle connection stays
 * small however large its frames once were.
 */
export class Scratch {
  /** Replacement bytes for the current frame, written by the handler when it returns Replace. */
  repl: ByteBuf = new ByteBuf();
  out: ByteBuf = new ByteBuf();
  slice: Slice = new Slice();
}

export class FrameLoop {
  /** The held partial frame: the only state kept between callbacks. */
  tail: ByteBuf = new ByteBuf();
  repl: ByteBuf;
  private out: ByteBuf;
  private slice: Slice;
  // per-callback state
  src: usize = 0;
  srcLen: i32 = 0;
  pos: i32 = 0;
  private cow: bool = false;
  private hadTail: bool = false;
  private size: u32 = 0;

  constructor(private type: BufferType, scratch: Scratch) {
    this.repl = scratch.repl;
    this.out = scratch.out;
    this.slice = scratch.slice;
  }

  /** Reads the new bytes (one host call) and joins them to the tail. False if the host refused. */
  begin(size: u32): bool {
    this.size = size;
    this.pos = 0;
    this.cow = false;
    this.out.clear();
    this.hadTail = this.tail.len > 0;
    if (size == 0) {
      this.src = this.tail.ptr; this.srcLen = this.tail.len;
      return true;
    }
    if (getBuffer(this.type, 0, size, this.slice) != 0) return false;
    if (this.hadTail) {
      this.tail.writeBytes(this.slice.ptr, this.slice.len);
      this.slice.free();
      this.src = this.tail.ptr; this.srcLen = this.tail.len;
    } else {
      this.src = this.slice.ptr; this.srcLen = this.slice.len;
    }
    return true;
  }

  /** Apply the handler's verdict for the frame [pos, pos+len) and advance. */
  apply(verdict: Verdict, len: i32): void {
    if (verdict == Verdict.Keep) {
      if (this.cow) this.out.writeBytes(this.src + <usize>this.pos, len);
    } else {
      this.startCopy();
      if (verdict == Verdict.Replace) this.out.writeBytes(this.repl.ptr, this.repl.len);
    }
    this.pos += len;
  }

  /** Add bytes that belong to no input frame (error replies with nothing to ride on). */
  append(ptr: usize, len: i32): void {
    this.startCopy();
    this.out.writeBytes(ptr, len);
  }

  private startCopy(): void {
    if (!this.cow) { this.out.writeBytes(this.src, this.pos); this.cow = true; }
  }

  /** Length of the output so far (what [0, pos) becomes). */
  outputLength(): i32 { return this.cow ? this.out.len : this.pos; }

  /** Bytes decoded so far would be forwarded: true when the output is non-empty. */
  forwardsSomething(): bool { return this.cow ? this.out.len > 0 : this.pos > 0; }

  /**
   * Rewrites the host buffer only when needed, keeps the tail [pos, srcLen). Returns the
   * number of host calls made (0 or 1) for the benchmark counters.
   */
  finish(): void {
    const tailLen = this.srcLen - this.pos;
    if (this.cow) {
      setBuffer(this.type, 0, this.size, this.out.ptr, this.out.len);
    } else if (this.hadTail || tailLen > 0) {
      // Unchanged frames, but the buffer is not exactly them: put back [0, pos).
      setBuffer(this.type, 0, this.size, this.src, this.pos);
    }
    if (this.hadTail) {
      this.tail.consume(this.pos);
    } else {
      this.tail.clear();
      if (tailLen > 0) this.tail.writeBytes(this.src + <usize>this.pos, tailLen);
    }
    if (this.tail.len == 0 && this.tail.cap > KEEP_TAIL_CAPACITY) this.tail.free();
    this.releaseSlice();
  }

  /** Drop everything (broken stream): the buffer is emptied and nothing is kept. */
  discard(): void {
    if (this.size > 0) setBuffer(this.type, 0, this.size, 0, 0);
    this.tail.free();
    this.releaseSlice();
  }

  private releaseSlice(): void {
    this.slice.free();
    this.src = 0; this.srcLen = 0;
  }

  /** Connection end: only the tail is this connection's; the scratch buffers are shared. */
  free(): void { this.tail.free(); }
}

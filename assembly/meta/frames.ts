// The frame loop shared by both directions: join the held tail with the new bytes, let a
// handler see each complete frame, and work out the smallest buffer rewrite.
//
// Envoy hands the whole buffer on when a filter returns CONTINUE, so an incomplete frame must be
// cut off and kept here, then put back in front next time. Output is copy-on-write: while every
// frame passes unchanged nothing is copied, and with no tail either the buffer is not rewritten.
//
// The tail is the only thing kept between callbacks, and it is charged to the connection's
// HeldAccount (the VM's held-bytes budget, budget.ts) before it grows: when the budget cannot
// take it, begin/finish say so and the connection is closed instead of the allocator trapping.
import { ByteBuf } from "./bytes";
import { HeldAccount } from "./budget";
import { BufferType, Slice, getBuffer, setBuffer } from "../abi/host";

export const enum Verdict {
  Keep = 0, Replace = 1, Drop = 2,
  /** Waits for the rate limit service (globalratelimit/gate.ts): the connection pauses. */
  Hold = 3,
}
export const enum Begin { Ok = 0, HostRefused = 1, OverBudget = 2 }

/** Above this, a tail or scratch buffer gives back what it does not use after the callback. */
const KEEP_CAPACITY = 64 << 10;

/**
 * Buffers a callback uses only while it runs. The VM is single-threaded and data callbacks do
 * not nest, so one set per VM serves every connection of every root: memory per idle connection
 * stays small however large its frames once were, and a config update adds no second set.
 */
export class Scratch {
  /** Replacement bytes for the current frame, written by the handler when it returns Replace. */
  repl: ByteBuf = new ByteBuf();
  out: ByteBuf = new ByteBuf();
  slice: Slice = new Slice();

  /** After a callback: a buffer a large frame grew gives its memory back. */
  trim(): void {
    if (this.out.cap > KEEP_CAPACITY) { this.out.clear(); this.out.resize(0); }
    if (this.repl.cap > KEEP_CAPACITY) { this.repl.clear(); this.repl.resize(0); }
  }
}

export const scratch = new Scratch();

export class FrameLoop {
  /** The held partial frame: the only state kept between callbacks. */
  tail: ByteBuf = new ByteBuf();
  /** The tail grows by doubling up to this (maxFrameBytes), then exactly as needed. */
  softLimit: i32 = 8 << 20;
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

  constructor(private type: BufferType, private account: HeldAccount) {
    this.repl = scratch.repl;
    this.out = scratch.out;
    this.slice = scratch.slice;
  }

  /** Reads the new bytes (one host call) and joins them to the tail. */
  begin(size: u32): Begin {
    this.size = size;
    this.pos = 0;
    this.cow = false;
    this.out.clear();
    this.hadTail = this.tail.len > 0;
    if (size == 0) {
      this.src = this.tail.ptr; this.srcLen = this.tail.len;
      return Begin.Ok;
    }
    if (getBuffer(this.type, 0, size, this.slice) != 0) return Begin.HostRefused;
    if (this.hadTail) {
      const ok = this.reserveTail(<i64>this.tail.len + <i64>this.slice.len);
      if (ok) this.tail.writeBytes(this.slice.ptr, this.slice.len);
      this.slice.free();
      if (!ok) return Begin.OverBudget;
      this.src = this.tail.ptr; this.srcLen = this.tail.len;
    } else {
      this.src = this.slice.ptr; this.srcLen = this.slice.len;
    }
    return Begin.Ok;
  }

  /** Room for `need` tail bytes, charged to the account first. False: not allocated. */
  reserveTail(need: i64): bool {
    const t = this.tail;
    if (need <= <i64>t.cap) return true;
    const cap = ByteBuf.grownCapacity(t.cap, need, <i64>this.softLimit);
    if (!this.account.take(cap - <i64>t.cap)) return false;
    t.resize(<i32>cap);
    return true;
  }

  /** After the tail shrank: give back what it does not need (all of it when empty). */
  private trimTail(): void {
    const t = this.tail;
    if (t.cap <= KEEP_CAPACITY) return;
    let cap = 0;
    if (t.len > 0) {
      if (<i64>t.len * 4 > <i64>t.cap) return;
      cap = t.len * 2 > KEEP_CAPACITY ? t.len * 2 : KEEP_CAPACITY;
    }
    const before = t.cap;
    t.resize(cap);
    this.account.give(<i64>(before - t.cap));
  }

  /** Makes `bytes` the tail (a paused connection resumes, globalratelimit/gate.ts). False: over budget. */
  restoreTail(bytes: ByteBuf): bool {
    const t = this.tail;
    t.clear();
    if (!this.reserveTail(<i64>bytes.len)) return false;
    t.writeBytes(bytes.ptr, bytes.len);
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
   * Rewrites the host buffer only when needed and keeps the tail [pos, srcLen). False when the
   * tail could not be kept within the budget: then nothing is kept and the caller closes.
   */
  finish(): bool {
    const tailLen = this.srcLen - this.pos;
    if (this.cow) {
      setBuffer(this.type, 0, this.size, this.out.ptr, this.out.len);
    } else if (this.hadTail || tailLen > 0) {
      // Unchanged frames, but the buffer is not exactly them: put back [0, pos).
      setBuffer(this.type, 0, this.size, this.src, this.pos);
    }
    let kept = true;
    if (this.hadTail) {
      this.tail.consume(this.pos);
    } else {
      this.tail.clear();
      if (tailLen > 0) {
        kept = this.reserveTail(<i64>tailLen);
        if (kept) this.tail.writeBytes(this.src + <usize>this.pos, tailLen);
      }
    }
    this.trimTail();
    this.releaseSlice();
    return kept;
  }

  /** Drop everything (broken stream): the buffer is emptied and nothing is kept. */
  discard(): void {
    if (this.size > 0) setBuffer(this.type, 0, this.size, 0, 0);
    this.free();
    this.releaseSlice();
  }

  private releaseSlice(): void {
    this.slice.free();
    this.src = 0; this.srcLen = 0;
    scratch.trim();
  }

  /** Connection end: only the tail is this connection's; the scratch buffers are shared. */
  free(): void {
    const cap = this.tail.cap;
    this.tail.free();
    this.account.give(<i64>cap);
  }
}

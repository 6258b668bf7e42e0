// The frame loop of a paused connection (see gate.ts). It has the FrameLoop interface the
// connection's read path uses, but never touches Envoy's buffer while scanning: each read copies
// only the bytes added since the last one, frames are cut from the copy of what follows the
// last complete frame (`tail`), and every verdict becomes a piece that refers to the frame's
// place in Envoy's buffer. The rewrite happens once, when the gate releases the connection.
import { Begin, FrameLoop, Verdict } from "../frames";
import { HeldAccount } from "../budget";
import { BufferType, getBuffer, Slice } from "../../abi/host";
import { GlobalGate } from "./gate";

export class HeldLoop extends FrameLoop {
  /** Envoy offset of tail[0]: everything before it is cut into frames with verdicts. */
  base: i32 = 0;
  /** Envoy offset up to which bytes were copied into the tail. */
  copied: i32 = 0;
  /** Envoy's buffer size as of the last read. */
  envoySize: i32 = 0;
  private newBytes: Slice = new Slice();

  constructor(private gate: GlobalGate, account: HeldAccount) {
    super(BufferType.DownstreamData, account);
  }

  /** Pausing: frames before `base` are decided; [base, size) is still to be scanned. */
  start(base: i32, size: i32): void {
    this.base = base; this.copied = base; this.envoySize = size;
    this.tail.clear();
  }

  /** Bytes Envoy holds that were not read yet (reading stopped at MAX_HELD_CHECKS). */
  unread(): bool { return this.copied < this.envoySize; }

  begin(size: u32): Begin {
    this.envoySize = <i32>size;
    this.pos = 0;
    this.srcLen = 0;
    this.src = this.tail.ptr;
    if (<i32>size <= this.copied || !this.gate.canHoldMore) return Begin.Ok;
    const s = this.newBytes;
    if (getBuffer(BufferType.DownstreamData, <u32>this.copied, size - <u32>this.copied, s) != 0) return Begin.HostRefused;
    // The copy of what is held while paused is charged like any partial frame.
    if (!this.reserveTail(<i64>this.tail.len + <i64>s.len)) { s.free(); return Begin.OverBudget; }
    this.tail.writeBytes(s.ptr, s.len);
    this.copied += s.len;
    s.free();
    this.src = this.tail.ptr;
    this.srcLen = this.tail.len;
    return Begin.Ok;
  }

  apply(verdict: Verdict, len: i32): void {
    const off = this.base + this.pos;
    if (verdict == Verdict.Keep) this.gate.keep(off, len);
    else if (verdict == Verdict.Replace) this.gate.own(this.repl.ptr, this.repl.len);
    else if (verdict == Verdict.Hold) this.gate.held(off, len);
    this.pos += len;
  }

  append(ptr: usize, len: i32): void { this.gate.own(ptr, len); }

  /** Nothing moves while paused. */
  forwardsSomething(): bool { return false; }

  outputLength(): i32 { return 0; }

  finish(): bool {
    this.tail.consume(this.pos);
    this.base += this.pos;
    this.pos = 0;
    this.src = 0; this.srcLen = 0;
    return true;
  }

  discard(): void {
    this.gate.discardHeld(this.envoySize);
  }

  /** After a release (or when the connection is gone). */
  clear(): void {
    this.tail.clear();
    this.base = 0; this.copied = 0; this.envoySize = 0;
    this.pos = 0; this.src = 0; this.srcLen = 0;
  }

}

// Per-message metadata filled by a codec. One instance per connection direction, reset and
// reused for every frame, so decoding does not allocate unless rules ask for string values.

/** Scan progress a codec keeps across WaitForData (see Metadata.continuing). */
export abstract class CodecState {}

export class Metadata {
  /**
   * Set by the framework: the previous decode on this connection direction returned
   * WaitForData for the frame that starts at the same byte, and more bytes have arrived. A
   * codec that cannot learn the frame length early (unframed Thrift) resumes its scan from
   * `codecState` instead of rescanning from the start.
   */
  continuing: bool = false;
  /** Owned by the codec; kept across reset(). */
  codecState: CodecState | null = null;

  /** MessageType (see codec.ts). */
  messageType: i32 = 0;
  requestId: u64 = 0;
  headerSize: i32 = 0;
  bodySize: i32 = 0;
  /** Total frame size when known before the whole frame arrived (0 = unknown). */
  frameSize: i32 = 0;
  /** ResponseStatus (see codec.ts). */
  responseStatus: i32 = 0;
  /** True when the message answers an earlier one (a response, an error, a heartbeat answer). */
  isReply: bool = false;
  /** e.g. "org.apache.dubbo.DemoService/sayHello"; "" when the rules did not need it. */
  operationName: string = "";
  /** Set by decode() on DecodeStatus.Error. */
  error: string = "";
  /** Codec-private scratch (offsets of sections found while decoding, flags, variants). */
  codecFlags: i32 = 0;
  // Eight i32 slots held in the object itself (o0..o7, read by address: see offset()), not in an
  // array of their own: one object fewer per Metadata for the collector to walk.
  private o0: i32 = 0; private o1: i32 = 0; private o2: i32 = 0; private o3: i32 = 0;
  private o4: i32 = 0; private o5: i32 = 0; private o6: i32 = 0; private o7: i32 = 0;
  /** Codec-private slot k (0-7; other values wrap): offsets of sections found while decoding. */
  @inline offset(k: i32): i32 { return load<i32>(this.slotAddress(k)); }
  @inline setOffset(k: i32, v: i32): void { store<i32>(this.slotAddress(k), v); }
  @inline private slotAddress(k: i32): usize { return changetype<usize>(this) + offsetof<Metadata>("o0") + (<usize>(k & 7) << 2); }
  /** Codec-private string scratch (e.g. Thrift method name for an error reply). */
  codecText: string = "";

  // Attribute keys and values interleaved, [k0, v0, k1, v1, ...]: one object per Metadata, not
  // two arrays and their buffers (every connection keeps three Metadata, and each object is one
  // more for the collector to walk). Made with the first attribute, grown by doubling.
  private kv: StaticArray<string> | null = null;
  private count: i32 = 0;

  /** Clears everything but the codec's scan state (and `continuing`, which the framework sets). */
  reset(): void {
    this.messageType = 0; this.requestId = 0; this.headerSize = 0; this.bodySize = 0;
    this.frameSize = 0; this.responseStatus = 0; this.isReply = false; this.operationName = ""; this.error = "";
    this.codecFlags = 0; this.codecText = "";
    this.o0 = 0; this.o1 = 0; this.o2 = 0; this.o3 = 0; this.o4 = 0; this.o5 = 0; this.o6 = 0; this.o7 = 0;
    this.count = 0;
  }

  get frameLength(): i32 { return this.headerSize + this.bodySize; }
  get attributeCount(): i32 { return this.count; }
  attributeKey(i: i32): string { assert(i >= 0 && i < this.count); return unchecked(this.kv![i << 1]); }
  attributeValue(i: i32): string { assert(i >= 0 && i < this.count); return unchecked(this.kv![(i << 1) + 1]); }

  setAttribute(key: string, value: string): void {
    let kv = this.kv;
    const n = this.count << 1;
    if (kv != null) {
      for (let i = 0; i < n; i += 2) {
        if (unchecked(kv[i]) == key) { unchecked(kv[i + 1] = value); return; }
      }
    }
    if (kv == null || n == kv.length) {
      const grown = new StaticArray<string>(n == 0 ? 8 : n << 1);
      for (let i = 0; i < n; i++) unchecked(grown[i] = kv![i]);
      kv = grown;
      this.kv = grown;
    }
    unchecked(kv[n] = key);
    unchecked(kv[n + 1] = value);
    this.count++;
  }

  getAttribute(key: string): string | null {
    const kv = this.kv;
    if (kv == null) return null;
    const n = this.count << 1;
    for (let i = 0; i < n; i += 2) {
      if (unchecked(kv[i]) == key) return unchecked(kv[i + 1]);
    }
    return null;
  }

  /** A deep copy, for the rare paths that must keep a request (rejections). */
  clone(): Metadata {
    const m = new Metadata();
    m.messageType = this.messageType; m.requestId = this.requestId;
    m.headerSize = this.headerSize; m.bodySize = this.bodySize; m.frameSize = this.frameSize;
    m.responseStatus = this.responseStatus; m.isReply = this.isReply; m.operationName = this.operationName;
    m.error = this.error; m.codecFlags = this.codecFlags; m.codecText = this.codecText;
    for (let i = 0; i < 8; i++) m.setOffset(i, this.offset(i));
    for (let i = 0; i < this.count; i++) m.setAttribute(this.attributeKey(i), this.attributeValue(i));
    return m;
  }
}

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
  codecOffsets: StaticArray<i32> = new StaticArray<i32>(8);
  /** Codec-private string scratch (e.g. Thrift method name for an error reply). */
  codecText: string = "";

  private keys: string[] = [];
  private values: string[] = [];
  private count: i32 = 0;

  /** Clears everything but the codec's scan state (and `continuing`, which the framework sets). */
  reset(): void {
    this.messageType = 0; this.requestId = 0; this.headerSize = 0; this.bodySize = 0;
    this.frameSize = 0; this.responseStatus = 0; this.isReply = false; this.operationName = ""; this.error = "";
    this.codecFlags = 0; this.codecText = "";
    for (let i = 0; i < 8; i++) unchecked(this.codecOffsets[i] = 0);
    this.count = 0;
  }

  get frameLength(): i32 { return this.headerSize + this.bodySize; }
  get attributeCount(): i32 { return this.count; }
  attributeKey(i: i32): string { return this.keys[i]; }
  attributeValue(i: i32): string { return this.values[i]; }

  setAttribute(key: string, value: string): void {
    for (let i = 0; i < this.count; i++) {
      if (unchecked(this.keys[i]) == key) { unchecked(this.values[i] = value); return; }
    }
    if (this.count < this.keys.length) {
      unchecked(this.keys[this.count] = key);
      unchecked(this.values[this.count] = value);
    } else {
      this.keys.push(key);
      this.values.push(value);
    }
    this.count++;
  }

  getAttribute(key: string): string | null {
    for (let i = 0; i < this.count; i++) {
      if (unchecked(this.keys[i]) == key) return unchecked(this.values[i]);
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
    for (let i = 0; i < 8; i++) m.codecOffsets[i] = this.codecOffsets[i];
    for (let i = 0; i < this.count; i++) m.setAttribute(this.keys[i], this.values[i]);
    return m;
  }
}

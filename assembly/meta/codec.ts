// The MetaProtocol codec contract: what a protocol author writes. A codec knows bytes and its
// protocol; it knows nothing of Envoy, routing or stats. The framework (meta/) knows requests.
import { ByteBuf } from "./bytes";
import { Metadata } from "./metadata";
export { Metadata } from "./metadata";
export { ByteBuf } from "./bytes";

export enum MessageType { Request = 0, Response = 1, Oneway = 2, Heartbeat = 3, Error = 4 }
export enum ResponseStatus { Ok = 0, Error = 1 }

export enum DecodeStatus {
  /** One complete message: md.headerSize + md.bodySize is its length in bytes. */
  Done = 0,
  /** Not enough bytes yet. Set md.frameSize when the total is already known (cap checks). */
  WaitForData = 1,
  /** Broken frame: set md.error. The framework closes this connection and counts it. */
  Error = 2,
}

export enum ErrorType {
  RouteNotFound = 0, ClusterNotFound = 1, NoHealthyUpstream = 2,
  BadResponse = 3, OverLimit = 4, Unspecified = 5,
}

export function errorTypeName(e: ErrorType): string {
  switch (e) {
    case ErrorType.RouteNotFound: return "RouteNotFound";
    case ErrorType.ClusterNotFound: return "ClusterNotFound";
    case ErrorType.NoHealthyUpstream: return "NoHealthyUpstream";
    case ErrorType.BadResponse: return "BadResponse";
    case ErrorType.OverLimit: return "OverLimit";
    default: return "Unspecified";
  }
}

/** A key/value pair: one mutation entry (Dubbo attachment, Thrift THeader header, ...). */
export class KeyValue {
  constructor(public key: string, public value: string) {}
}

/**
 * Which string attributes the configured rules read. A codec parses only as far as these need
 * (e.g. Dubbo skips the arguments to reach the attachments only when an attachment is wanted).
 */
export class WantedKeys {
  all: bool = false;
  keys: Set<string> = new Set<string>();
  /** The same keys as a list, so a codec can compare raw key bytes in place (utf8Equals). */
  list: string[] = [];
  static none(): WantedKeys { return new WantedKeys(); }
  static everything(): WantedKeys { const w = new WantedKeys(); w.all = true; return w; }
  add(k: string): void { if (!this.keys.has(k)) { this.keys.add(k); this.list.push(k); } }
  /** Codecs ask per frame: a few keys are scanned (lengths differ at once), hashing `k` costs more. */
  has(k: string): bool {
    if (this.all) return true;
    const l = this.list;
    const n = l.length;
    if (n > 8) return this.keys.has(k);
    for (let i = 0; i < n; i++) if (unchecked(l[i]) == k) return true;
    return false;
  }
  /** Every key of a and b. */
  static union(a: WantedKeys, b: WantedKeys): WantedKeys {
    if (a.all || b.all) return WantedKeys.everything();
    const w = new WantedKeys();
    for (let i = 0; i < a.list.length; i++) w.add(a.list[i]);
    for (let i = 0; i < b.list.length; i++) w.add(b.list[i]);
    return w;
  }
  isEmpty(): bool { return !this.all && this.keys.size == 0; }
}

export abstract class Codec {
  /** Frame-size cap in bytes, set by the framework from the plugin config (maxFrameBytes). */
  maxFrameBytes: i32 = 8 << 20;

  /** Protocol name, e.g. "dubbo": the default stat prefix. */
  abstract name(): string;

  /**
   * Cut and decode one message from [ptr, ptr+len). `fromDownstream` is true for bytes sent by
   * the client (requests, heartbeats), false for bytes from the server (responses).
   * Fill md (it was reset by the caller). Parse string attributes only as far as `wanted` asks.
   * When md.continuing is true, the previous call returned WaitForData for this same frame
   * start and more bytes have arrived: a codec that must scan to find the frame's end may resume
   * from its own md.codecState (kept across resets) instead of starting over.
   */
  abstract decode(ptr: usize, len: i32, md: Metadata, fromDownstream: bool, wanted: WantedKeys): DecodeStatus;

  /**
   * Append to `out` the frame at [ptr, ptr+len) (already decoded into md) with the mutation
   * applied: keys replaced or added, length fields fixed. Return false when this frame has no
   * place for mutations (then nothing is appended and the framework forwards it unchanged).
   */
  abstract encode(md: Metadata, mutation: KeyValue[], ptr: usize, len: i32, out: ByteBuf): bool;

  /** Append a protocol-level error reply to the request described by md (same request id). */
  abstract onError(md: Metadata, error: ErrorType, message: string, out: ByteBuf): void;

  /**
   * Append a request that any server answers at once with the same request id (Dubbo heartbeat,
   * Thrift call to an unknown method). The framework forwards it in place of a rejected request
   * so that the error reply can ride on the answer (Envoy allows no writes out of turn).
   * Return false when the protocol has none.
   */
  abstract probe(md: Metadata, out: ByteBuf): bool;

  /**
   * True when a server answers one connection's requests in order (Thrift). Then a request id
   * may repeat while in flight (Thrift clients may send seqid 0 on every call) and replies are
   * matched to same-id requests in order; otherwise a repeated id in flight is a client error.
   */
  repliesInOrder(): bool { return false; }
}

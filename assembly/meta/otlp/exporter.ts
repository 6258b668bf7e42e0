// One OTLP signal (spans or log records) batched per root context and exported over gRPC
// (TraceService/Export, LogsService/Export). Items are encoded at the end of their request into
// a bounded buffer; the root exports them on its tick, or at once from a data callback when the
// batch is large. One Export is in flight at a time: what comes meanwhile waits in the buffer,
// and what does not fit is dropped and counted (an unreachable collector must not grow memory).
import { ByteBuf } from "../bytes";
import { Counters } from "../counters";
import { Slice } from "../../abi/host";
import { GrpcTarget, GrpcWaiter, grpcCall, grpcCancel, readGrpcResponse } from "../../abi/grpc";
import { LEN_FOUND, lastLen, lastLenAt, readVarintField, writeMessage, writeString, writeTag, writeVarint, varintSize, WIRE_LEN, writeAttrString } from "./proto";

/** Items kept while waiting for the next export (per root). */
export const MAX_BATCH_ITEMS = 2048;
/** A batch this large is exported without waiting for the tick. */
export const EXPORT_AT_ITEMS = 512;
/** Bytes kept at most (items are ~200-600 bytes; this bounds memory with long attribute values). */
export const MAX_BATCH_BYTES = 1 << 20;

/** Indices into the caller's Counters. */
export class ExportCounters {
  constructor(public exported: i32, public dropped: i32, public failed: i32, public rejected: i32) {}
}

export class OtlpBatch extends GrpcWaiter {
  /** Encoded items, each with its field tag (spans = 2 of ScopeSpans, log_records = 2 of ScopeLogs). */
  private items: ByteBuf = new ByteBuf();
  private count: i32 = 0;
  private inFlight: u32 = 0;
  private inFlightCount: i32 = 0;
  /** Resource{attributes} and InstrumentationScope{name, version}, encoded once. */
  private resource: ByteBuf = new ByteBuf();
  private scope: ByteBuf = new ByteBuf();
  private req: ByteBuf = new ByteBuf();
  private slice: Slice = new Slice();
  private target: GrpcTarget;

  constructor(cluster: string, service: string, serviceName: string, private timeoutMs: u32,
    private counters: Counters, private ix: ExportCounters) {
    super();
    this.target = new GrpcTarget(cluster, service, "Export");
    writeAttrString(this.resource, 1, "service.name", serviceName);
    writeString(this.scope, 1, "metaprotocol-wasm");
  }

  get pending(): i32 { return this.count; }

  /** Adds one encoded item (its message bytes); false when the batch is full (counted). */
  add(item: ByteBuf): bool {
    if (this.count >= MAX_BATCH_ITEMS || this.items.len + item.len > MAX_BATCH_BYTES) {
      this.counters.inc(this.ix.dropped);
      return false;
    }
    writeMessage(this.items, 2, item);
    this.count++;
    if (this.count >= EXPORT_AT_ITEMS) this.flush();
    return true;
  }

  /** Sends what is batched, unless an export is still in flight. */
  flush(): void {
    if (this.inFlight != 0 || this.count == 0) return;
    const scopeItemsLen = 1 + varintSize(<u64>this.scope.len) + this.scope.len + this.items.len;
    const resourceLen = 1 + varintSize(<u64>this.resource.len) + this.resource.len;
    const rsLen = resourceLen + 1 + varintSize(<u64>scopeItemsLen) + scopeItemsLen;
    const req = this.req;
    req.clear();
    // Export*ServiceRequest{1: Resource*{1: resource, 2: Scope*{1: scope, 2: items...}}}
    writeTag(req, 1, WIRE_LEN); writeVarint(req, <u64>rsLen);
    writeMessage(req, 1, this.resource);
    writeTag(req, 2, WIRE_LEN); writeVarint(req, <u64>scopeItemsLen);
    writeMessage(req, 1, this.scope);
    req.writeBytes(this.items.ptr, this.items.len);
    const n = this.count;
    this.items.clear();
    this.count = 0;
    if (this.items.cap > MAX_BATCH_BYTES) this.items.free();
    // The host copies the message: the buffers are free again once the call returns.
    const token = grpcCall(this.target, req.ptr, req.len, this.timeoutMs, this);
    if (req.cap > 4 * MAX_BATCH_BYTES) req.free(); else req.clear();
    if (token == 0) { this.counters.add(this.ix.failed, n); return; }
    this.inFlight = token;
    this.inFlightCount = n;
  }

  onGrpcReceive(token: u32, size: u32): void {
    const n = this.inFlightCount;
    this.inFlight = 0; this.inFlightCount = 0;
    let rejected: i64 = 0;
    // Export*ServiceResponse{1: partial_success{1: rejected count, 2: error_message}}; a count
    // needs at least 4 bytes (the collector answers 2 when all went in: no read then).
    if (size >= 4 && readGrpcResponse(size, this.slice)) {
      if (readVarintField(this.slice.ptr, this.slice.len, 1, 0) == LEN_FOUND) {
        rejected = <i64>readVarintField(lastLenAt, lastLen, 1, 0);
      }
      this.slice.free();
    }
    if (rejected > <i64>n || rejected < 0) rejected = n;
    this.counters.add(this.ix.exported, <i64>n - rejected);
    if (rejected > 0) this.counters.add(this.ix.rejected, rejected);
  }

  onGrpcClose(token: u32, code: u32): void {
    this.counters.add(this.ix.failed, this.inFlightCount);
    this.inFlight = 0; this.inFlightCount = 0;
  }

  /** The root is going away: an answer would find nobody. */
  abandon(): void {
    if (this.inFlight != 0) grpcCancel(this.inFlight);
    this.inFlight = 0;
  }
}

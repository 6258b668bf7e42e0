// Typed wrappers around the host calls the framework needs. Returned data is allocated by the
// host through our exported malloc (host-memory.ts); callers free it with hostFree (see Slice).
import * as raw from "./imports";
import { hostFree } from "./host-memory";

export const enum Status { Ok = 0, NotFound = 1, BadArgument = 2, Empty = 7, CasMismatch = 8, Unimplemented = 12 }
export const enum BufferType { DownstreamData = 2, UpstreamData = 3, GrpcReceive = 5, VmConfiguration = 6, PluginConfiguration = 7 }
export const enum StreamType { Downstream = 2, Upstream = 3 }
export const enum MetricType { Counter = 0, Gauge = 1, Histogram = 2 }
export const enum LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Critical = 5 }

// Out-parameters for host calls: static scratch, so no allocation per call.
const RET_PTR: usize = memory.data(8);
const RET_LEN: usize = memory.data(8);
const RET_CAS: usize = memory.data(8);

/** Host-allocated bytes handed to the module. Free them once used. */
export class Slice {
  ptr: usize = 0;
  len: i32 = 0;
  free(): void { hostFree(this.ptr); this.ptr = 0; this.len = 0; }
}

/** Envoy's current log level for Wasm (read on each tick; trace until first read). */
let hostLogLevel: u32 = 0;
export function refreshLogLevel(): void {
  store<u32>(RET_LEN, 0);
  if (raw.proxy_get_log_level(RET_LEN) == Status.Ok) hostLogLevel = load<u32>(RET_LEN);
}
/** False when Envoy would drop a line at this level: skip building it. */
export function logEnabled(level: LogLevel): bool { return <u32>level >= hostLogLevel; }

export function log(level: LogLevel, msg: string): void {
  const buf = String.UTF8.encode(msg);
  raw.proxy_log(<u32>level, changetype<usize>(buf), <usize>buf.byteLength);
}

/** One copy of [start, start+max) of a buffer into `out`. Returns the status. */
export function getBuffer(type: BufferType, start: u32, max: u32, out: Slice): u32 {
  store<usize>(RET_PTR, 0); store<usize>(RET_LEN, 0);
  const s = raw.proxy_get_buffer_bytes(<u32>type, start, max, RET_PTR, RET_LEN);
  out.ptr = s == Status.Ok ? load<usize>(RET_PTR) : 0;
  out.len = s == Status.Ok ? <i32>load<usize>(RET_LEN) : 0;
  return s;
}

/** Envoy semantics: start 0 drains `length` bytes then prepends data; start >= size appends. */
export function setBuffer(type: BufferType, start: u32, length: u32, data: usize, size: i32): u32 {
  return raw.proxy_set_buffer_bytes(<u32>type, start, length, data, <usize>size);
}

export function bufferString(type: BufferType, size: u32): string | null {
  const s = new Slice();
  if (getBuffer(type, 0, size, s) != Status.Ok) return null;
  const text = String.UTF8.decodeUnsafe(s.ptr, <usize>s.len, false);
  s.free();
  return text;
}


export function continueStream(t: StreamType): u32 { return raw.proxy_continue_stream(<u32>t); }
export function closeStream(t: StreamType): u32 { return raw.proxy_close_stream(<u32>t); }

export function nowNanos(): u64 {
  store<u64>(RET_LEN, 0);
  raw.proxy_get_current_time_nanoseconds(RET_LEN);
  return load<u64>(RET_LEN);
}

export function setTickPeriod(ms: u32): void { raw.proxy_set_tick_period_milliseconds(ms); }

export function defineMetric(type: MetricType, name: string): u32 {
  const buf = String.UTF8.encode(name);
  store<u32>(RET_LEN, 0);
  const s = raw.proxy_define_metric(<u32>type, changetype<usize>(buf), <usize>buf.byteLength, RET_LEN);
  return s == Status.Ok ? load<u32>(RET_LEN) : 0xffffffff;
}
export function incrementMetric(id: u32, delta: i64): void { if (id != 0xffffffff) raw.proxy_increment_metric(id, delta); }
export function recordMetric(id: u32, value: u64): void { if (id != 0xffffffff) raw.proxy_record_metric(id, value); }

/** Acts on another context (a connection) from a root callback; 2 (BAD_ARGUMENT) when it is gone. */
export function setEffectiveContext(id: u32): u32 { return raw.proxy_set_effective_context(id); }

/** Fills [ptr, ptr+len) from the host's random source; false if it refused. */
export function randomFill(ptr: usize, len: i32): bool { return raw.random_get(ptr, <usize>len) == 0; }

/** A property as raw bytes (NUL-separated path), or null when absent. */
export function getProperty(path: string): ArrayBuffer | null {
  const p = String.UTF8.encode(path.replaceAll(".", "\0"));
  store<usize>(RET_PTR, 0); store<usize>(RET_LEN, 0);
  const s = raw.proxy_get_property(changetype<usize>(p), <usize>p.byteLength, RET_PTR, RET_LEN);
  if (s != Status.Ok) return null;
  const ptr = load<usize>(RET_PTR);
  const len = <i32>load<usize>(RET_LEN);
  const out = new ArrayBuffer(len);
  if (len > 0) memory.copy(changetype<usize>(out), ptr, <usize>len);
  hostFree(ptr);
  return out;
}

export function getPropertyString(path: string): string | null {
  const b = getProperty(path);
  return b == null ? null : String.UTF8.decode(b);
}

/** An integer property (8 bytes, little-endian), or `otherwise` when absent. */
export function getPropertyU64(path: string, otherwise: u64): u64 {
  const b = getProperty(path);
  return b == null || b.byteLength != 8 ? otherwise : load<u64>(changetype<usize>(b));
}

/**
 * Sets Envoy filter state through the foreign function `set_envoy_filter_state`
 * (protobuf SetEnvoyFilterStateArguments{path=1, value=2, span=3}). tcp_proxy reads
 * `envoy.tcp_proxy.cluster` when it picks its upstream.
 */
export function setFilterState(path: string, value: string, span: u32): u32 {
  const pathLen = String.UTF8.byteLength(path);
  const valueLen = String.UTF8.byteLength(value);
  const size = 1 + varintSize(pathLen) + pathLen + 1 + varintSize(valueLen) + valueLen + 2;
  const args = heap.alloc(<usize>size);
  let p = args;
  store<u8>(p++, 0x0a); p = writeVarint(p, pathLen);
  String.UTF8.encodeUnsafe(changetype<usize>(path), path.length, p, false); p += <usize>pathLen;
  store<u8>(p++, 0x12); p = writeVarint(p, valueLen);
  String.UTF8.encodeUnsafe(changetype<usize>(value), value.length, p, false); p += <usize>valueLen;
  store<u8>(p++, 0x18); store<u8>(p++, <u8>span);
  const name = "set_envoy_filter_state";
  const nameBuf = String.UTF8.encode(name);
  store<usize>(RET_PTR, 0); store<usize>(RET_LEN, 0);
  const s = raw.proxy_call_foreign_function(changetype<usize>(nameBuf), <usize>nameBuf.byteLength,
    args, p - args, RET_PTR, RET_LEN);
  heap.free(args);
  hostFree(load<usize>(RET_PTR));
  return s;
}

function varintSize(v: i32): i32 { let n = 1; while (v >= 0x80) { v >>>= 7; n++; } return n; }
function writeVarint(p: usize, v: i32): usize {
  while (v >= 0x80) { store<u8>(p++, <u8>((v & 0x7f) | 0x80)); v >>>= 7; }
  store<u8>(p++, <u8>v);
  return p;
}

/** Shared data (process-wide per vm_id), keyed by UTF-8 bytes. The CAS is in lastSharedCas(). */
export function getSharedData(key: ArrayBuffer, out: Slice): u32 {
  store<usize>(RET_PTR, 0); store<usize>(RET_LEN, 0); store<u32>(RET_CAS, 0);
  const s = raw.proxy_get_shared_data(changetype<usize>(key), <usize>key.byteLength, RET_PTR, RET_LEN, RET_CAS);
  out.ptr = s == Status.Ok ? load<usize>(RET_PTR) : 0;
  out.len = s == Status.Ok ? <i32>load<usize>(RET_LEN) : 0;
  return s;
}
export function lastSharedCas(): u32 { return load<u32>(RET_CAS); }
export function setSharedData(key: ArrayBuffer, value: usize, len: i32, cas: u32): u32 {
  return raw.proxy_set_shared_data(changetype<usize>(key), <usize>key.byteLength, value, <usize>len, cas);
}

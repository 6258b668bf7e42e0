// The messages of envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit this module needs:
// RateLimitRequest{domain = 1, descriptors = 2: RateLimitDescriptor{entries = 1: Entry{key = 1,
// value = 2}}} and RateLimitResponse{overall_code = 1, statuses = 2: DescriptorStatus{code = 1}}
// (codes: UNKNOWN 0, OK 1, OVER_LIMIT 2).
//
// Several held requests of one connection are asked in one call: their descriptors go in one
// request, in order, and the service answers a status per descriptor ("a list of
// DescriptorStatus messages which matches the length of the descriptor list"), so each request
// gets its own verdict. A call costs Envoy far more than a descriptor does.
import { ByteBuf } from "../bytes";
import { Metadata } from "../metadata";
import { GlobalRateLimitConfig } from "../config/global-ratelimit";
import { LEN_FOUND, readVarintField, varintSize, writeString, writeTag, writeVarint, WIRE_LEN } from "../otlp/proto";

export const RLS_SERVICE = "envoy.service.ratelimit.v3.RateLimitService";
export const RLS_METHOD = "ShouldRateLimit";
export const CODE_OVER_LIMIT: u32 = 2;

/**
 * Writes the descriptors of one request into `out` (RateLimitRequest field 2, repeated): one
 * per configured {property, descriptorKey} whose attribute the request carries, as Envoy drops a
 * descriptor whose header is missing. Returns how many; 0 means there is nothing to ask.
 */
export function encodeDescriptors(g: GlobalRateLimitConfig, md: Metadata, out: ByteBuf): i32 {
  out.clear();
  let n = 0;
  for (let i = 0; i < g.descriptors.length; i++) {
    const d = unchecked(g.descriptors[i]);
    const v = md.getAttribute(d.property);
    if (v == null) continue;
    const value = changetype<string>(v);
    const k = String.UTF8.byteLength(d.key, false), vn = String.UTF8.byteLength(value, false);
    const entry = 1 + varintSize(<u64>k) + k + 1 + varintSize(<u64>vn) + vn;
    const descriptor = 1 + varintSize(<u64>entry) + entry;
    writeTag(out, 2, WIRE_LEN); writeVarint(out, <u64>descriptor);
    writeTag(out, 1, WIRE_LEN); writeVarint(out, <u64>entry);
    writeString(out, 1, d.key);
    writeString(out, 2, value);
    n++;
  }
  return n;
}

/** Starts a request: the domain; descriptors are appended after it. */
export function beginRequest(domain: string, out: ByteBuf): void {
  out.clear();
  writeString(out, 1, domain);
}

/**
 * Reads RateLimitResponse: returns overall_code, and puts the code of each DescriptorStatus, in
 * order, into `codes` (cleared first). A malformed message reads as UNKNOWN with no codes.
 */
export function readResponse(p: usize, len: i32, codes: u32[]): u32 {
  const overall = readFields(p, len, codes);
  if (overall < 0) { codes.length = 0; return 0; }
  return <u32>overall;
}

/** -1 when malformed. */
function readFields(p: usize, len: i32, codes: u32[]): i64 {
  codes.length = 0;
  const end = p + <usize>len;
  let overall: i64 = 0;
  while (p < end) {
    const key = varintAt(p, end); if (pos == 0) return -1; p = pos;
    const field = <u32>(key >> 3), wire = <u32>(key & 7);
    if (wire == 0) { const v = varintAt(p, end); if (pos == 0) return -1; p = pos; if (field == 1) overall = <i64><u32>v; continue; }
    if (wire == 1) { p += 8; continue; }
    if (wire == 5) { p += 4; continue; }
    if (wire != WIRE_LEN) return -1;
    const n = varintAt(p, end); if (pos == 0 || n > <u64>(end - pos)) return -1;
    p = pos;
    if (field == 2) {
      const code = readVarintField(p, <i32>n, 1, 0);
      codes.push(code == LEN_FOUND ? 0 : <u32>code);
    }
    p += <usize>n;
  }
  return p == end ? overall : -1;
}

let pos: usize = 0;
function varintAt(p: usize, end: usize): u64 {
  let v: u64 = 0;
  for (let shift: u64 = 0; shift < 64 && p < end; shift += 7) {
    const b = <u64>load<u8>(p++);
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) { pos = p; return v; }
  }
  pos = 0;
  return 0;
}

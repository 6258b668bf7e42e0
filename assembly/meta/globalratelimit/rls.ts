// The two messages of envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit this module
// needs: RateLimitRequest{domain = 1, descriptors = 2: RateLimitDescriptor{entries = 1:
// Entry{key = 1, value = 2}}} and RateLimitResponse.overall_code (field 1: UNKNOWN 0, OK 1,
// OVER_LIMIT 2).
import { ByteBuf } from "../bytes";
import { Metadata } from "../metadata";
import { GlobalRateLimitConfig } from "../config/global-ratelimit";
import { readVarintField, varintSize, writeString, writeTag, writeVarint, WIRE_LEN } from "../otlp/proto";

export const RLS_SERVICE = "envoy.service.ratelimit.v3.RateLimitService";
export const RLS_METHOD = "ShouldRateLimit";
export const CODE_OVER_LIMIT: u64 = 2;

/**
 * Writes the request for `md` into `out`: one descriptor per configured {property,
 * descriptorKey} whose attribute the request carries (as Envoy drops a descriptor whose header is
 * missing). False when no descriptor applies: then there is nothing to ask and the request passes.
 */
export function encodeRateLimitRequest(g: GlobalRateLimitConfig, md: Metadata, out: ByteBuf): bool {
  out.clear();
  writeString(out, 1, g.domain);
  let any = false;
  for (let i = 0; i < g.descriptors.length; i++) {
    const d = unchecked(g.descriptors[i]);
    const v = md.getAttribute(d.property);
    if (v == null) continue;
    const value = changetype<string>(v);
    const k = String.UTF8.byteLength(d.key, false), n = String.UTF8.byteLength(value, false);
    const entry = 1 + varintSize(<u64>k) + k + 1 + varintSize(<u64>n) + n;
    const descriptor = 1 + varintSize(<u64>entry) + entry;
    writeTag(out, 2, WIRE_LEN); writeVarint(out, <u64>descriptor);
    writeTag(out, 1, WIRE_LEN); writeVarint(out, <u64>entry);
    writeString(out, 1, d.key);
    writeString(out, 2, value);
    any = true;
  }
  return any;
}

/** RateLimitResponse.overall_code; UNKNOWN (0) when absent. Envoy treats all but OVER_LIMIT as OK. */
export function overallCode(p: usize, len: i32): u64 {
  return readVarintField(p, len, 1, 0);
}

// Local rate limit: token buckets kept in Envoy shared data, so every worker's VM of this
// plugin draws from the same bucket (like Envoy's local_ratelimit filter). Refill is computed
// lazily from the clock at each request; updates use compare-and-swap.
import { Metadata } from "./metadata";
import { ServiceConfig, TokenBucketConfig } from "./config";
import { Slice, Status, getSharedData, lastSharedCas, setSharedData } from "../abi/host";

const STATE: usize = memory.data(16); // f64 tokens, u64 last fill (ms)

export class RateLimiter {
  private slice: Slice = new Slice();
  /** Shared-data key per bucket config object, encoded once (not per request). */
  private keys: Map<usize, ArrayBuffer> = new Map<usize, ArrayBuffer>();
  constructor(private keyPrefix: string) {}

  private keyOf(svc: ServiceConfig, slot: i32, bucket: TokenBucketConfig): ArrayBuffer {
    const id = changetype<usize>(bucket);
    if (this.keys.has(id)) return this.keys.get(id);
    // The bucket's shape is in the key: a changed limit starts a fresh bucket.
    const key = String.UTF8.encode(this.keyPrefix + "/" + svc.index.toString() + "/" + slot.toString() + "/" +
      bucket.maxTokens.toString() + "/" + bucket.tokensPerFill.toString() + "/" + bucket.fillIntervalMs.toString());
    this.keys.set(id, key);
    return key;
  }

  /** True when the request may pass. Only called when the service has a localRateLimit. */
  allow(svc: ServiceConfig, md: Metadata, nowMs: u64): bool {
    const rl = svc.localRateLimit;
    if (rl == null) return true;
    let bucket: TokenBucketConfig | null = rl.bucket;
    let slot = -1;
    for (let i = 0; i < rl.conditions.length; i++) {
      if (rl.conditions[i].match.matches(md)) { bucket = rl.conditions[i].bucket; slot = i; break; }
    }
    if (bucket == null) return true;
    const key = this.keyOf(svc, slot, bucket);
    // CAS retries are bounded: under contention a few losers are allowed rather than spinning.
    for (let attempt = 0; attempt < 4; attempt++) {
      let tokens: f64 = <f64>bucket.maxTokens;
      let last: u64 = nowMs;
      let cas: u32 = 0;
      const s = getSharedData(key, this.slice);
      if (s == Status.Ok && this.slice.len == 16) {
        tokens = load<f64>(this.slice.ptr);
        last = load<u64>(this.slice.ptr, 8);
        cas = lastSharedCas();
      }
      this.slice.free();
      if (nowMs > last && bucket.fillIntervalMs > 0) {
        const fills = (nowMs - last) / bucket.fillIntervalMs;
        if (fills > 0) {
          tokens = Math.min(<f64>bucket.maxTokens, tokens + <f64>fills * <f64>bucket.tokensPerFill);
          last += fills * bucket.fillIntervalMs;
        }
      }
      const allowed = tokens >= 1.0;
      if (allowed) tokens -= 1.0;
      store<f64>(STATE, tokens);
      store<u64>(STATE, last, 8);
      const w = setSharedData(key, STATE, 16, cas);
      if (w == Status.Ok) return allowed;
      if (w != Status.CasMismatch) return true; // shared data unavailable: fail open, like Envoy's limiter without a store
    }
    return true;
  }
}

// Seeded mutation of byte streams and JSON documents for the fuzzer. Everything derives from one
// 32-bit seed (mulberry32), so a failing case is reproduced from (target, seed, case index).

export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  /** Uniform in [0, 2^32). */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, n). */
  int(n: number): number { return n <= 1 ? 0 : this.u32() % n; }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

// Values that sit on length and type boundaries of every codec here.
const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x4e, 0x4d, 0x48, 0x43, 0x4f, 0x55, 0x56, 0x57, 0x58, 0x5a, 0xda, 0xbb];
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, 16, 17, 4096, 1 << 20, 8 << 20, (8 << 20) + 1];

/** One mutated copy of `input`; `others` are spliced from. */
export function mutateBytes(rng: Rng, input: Buffer, others: Buffer[], maxLen = 1 << 16): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + rng.int(rng.chance(0.2) ? 16 : 4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length ? rng.int(b.length) : 0;
    switch (rng.int(11)) {
      case 0: if (b.length) b[at] ^= 1 << rng.int(8); break;
      case 1: if (b.length) b[at] = rng.pick(INTERESTING_8); break;
      case 2: if (b.length) b[at] = rng.int(256); break;
      case 3: { // an interesting 32-bit value, big-endian (lengths, ids, counts)
        if (b.length >= 4) b.writeUInt32BE(rng.pick(INTERESTING_32) >>> 0, rng.int(b.length - 3));
        break;
      }
      case 4: { // delete a run
        const n = 1 + rng.int(Math.min(64, Math.max(1, b.length - at)));
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
        break;
      }
      case 5: { // insert random bytes
        const n = 1 + rng.int(32);
        const ins = Buffer.alloc(n);
        for (let i = 0; i < n; i++) ins[i] = rng.chance(0.5) ? rng.pick(INTERESTING_8) : rng.int(256);
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 6: { // duplicate a run in place (repeated fields, nested values)
        const n = 1 + rng.int(Math.min(256, Math.max(1, b.length - at)));
        const times = 1 + rng.int(rng.chance(0.1) ? 64 : 4);
        const run = b.subarray(at, at + n);
        b = Buffer.concat([b.subarray(0, at + n), ...Array.from({ length: times }, () => run), b.subarray(at + n)]);
        break;
      }
      case 7: { // splice in part of another input
        const o = rng.pick(others);
        if (!o.length) break;
        const from = rng.int(o.length);
        const n = 1 + rng.int(Math.min(512, o.length - from));
        b = Buffer.concat([b.subarray(0, at), o.subarray(from, from + n), b.subarray(at)]);
        break;
      }
      case 8: b = b.subarray(0, at); break; // truncate
      case 9: { // swap two runs
        if (b.length < 4) break;
        const n = 1 + rng.int(Math.min(32, b.length >> 1));
        const i = rng.int(b.length - n), j = rng.int(b.length - n);
        const x = Buffer.from(b.subarray(i, i + n));
        b.copy(b, i, j, j + n);
        x.copy(b, j);
        break;
      }
      default: { // arithmetic on a byte
        if (b.length) b[at] = (b[at] + (rng.chance(0.5) ? 1 : -1) * (1 + rng.int(16))) & 0xff;
      }
    }
    if (b.length > maxLen) b = b.subarray(0, maxLen);
  }
  return b;
}

/** Random cut points: how a stream arrives in reads (1 byte at a time up to whole). */
export function chunks(rng: Rng, b: Buffer): Buffer[] {
  if (!b.length) return [];
  const style = rng.int(4);
  if (style === 0) return [b];
  const out: Buffer[] = [];
  let at = 0;
  while (at < b.length) {
    const n = style === 1 ? 1 + rng.int(b.length > 512 ? 16 : 4) : style === 2 ? 1 + rng.int(64) : 1 + rng.int(Math.max(1, b.length >> 1));
    out.push(b.subarray(at, at + n));
    at += n;
  }
  return out;
}

// ---- JSON configs: structure-aware mutation, then sometimes bytes on top ----

const HOSTILE_STRINGS = ["", "a".repeat(300), "(", "(a*)*", "[", "\\", "outbound|1|v1|a", "inbound|1||", "1s", "0ms", "-1s", "9999999999999h",
  "FIRST_REQUEST", "CONNECTION", "KEEP", "REJECT", "\u0000", "\ud800", "é".repeat(50), "a{1000}{1000}", ".*", "1.1.1.1", "::1", "x".repeat(5000)];
const HOSTILE_NUMBERS = [0, -1, 1, 16, 15, 1.5, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53, 4294967295, 4294967296, 1048576, 805306368, 134217728, 134217729];

function randomValue(rng: Rng, depth: number): unknown {
  switch (rng.int(depth > 6 ? 4 : 7)) {
    case 0: return rng.pick(HOSTILE_STRINGS);
    case 1: return rng.pick(HOSTILE_NUMBERS);
    case 2: return rng.chance(0.5);
    case 3: return null;
    case 4: return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    case 5: return Object.fromEntries(Array.from({ length: rng.int(4) }, (_, i) => [rng.chance(0.5) ? `k${i}` : rng.pick(CONFIG_KEYS), randomValue(rng, depth + 1)]));
    default: { let v: unknown = rng.pick(HOSTILE_STRINGS); for (let i = 0; i < rng.int(80); i++) v = [v]; return v; }
  }
}

const CONFIG_KEYS = ["statPrefix", "maxFrameBytes", "maxHeldBytes", "drainOnRuleChange", "drainWindow", "onRouteMismatch", "bindOn",
  "statsFlushIntervalMs", "methodStats", "services", "name", "match", "addresses", "attributes", "defaultCluster", "routes", "route",
  "cluster", "weight", "requestMutation", "responseMutation", "key", "value", "localRateLimit", "tokenBucket", "conditions",
  "maxTokens", "tokensPerFill", "fillInterval", "exact", "prefix", "regex", "present", "method", "interface"];

function mutateTree(rng: Rng, v: unknown, depth: number): unknown {
  if (rng.chance(0.08)) return randomValue(rng, depth);
  if (Array.isArray(v)) {
    let a = v.map((x) => (rng.chance(0.3) ? mutateTree(rng, x, depth + 1) : x));
    if (a.length && rng.chance(0.1)) a.splice(rng.int(a.length), 1);
    if (a.length && rng.chance(0.1)) { const x = a[rng.int(a.length)]; a = [...a, ...Array.from({ length: 1 + rng.int(rng.chance(0.1) ? 200 : 3) }, () => x)]; }
    return a;
  }
  if (v !== null && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (rng.chance(0.05)) continue;
      o[rng.chance(0.03) ? rng.pick(CONFIG_KEYS) : k] = rng.chance(0.35) ? mutateTree(rng, x, depth + 1) : x;
    }
    if (rng.chance(0.1)) o[rng.pick(CONFIG_KEYS)] = randomValue(rng, depth + 1);
    return o;
  }
  return v;
}

/**
 * A mutated config of at most `maxLen` characters. Configs come from the control plane and may
 * be far larger (README, Limits: 2 MiB; configure time is linear, tests/inprocess/config-cost);
 * the fuzzer keeps them small enough that on_configure is held to the 100 ms callback rule.
 */
export function mutateConfig(rng: Rng, json: string, others: string[], maxLen = 64 << 10): string {
  let text: string;
  try { text = JSON.stringify(mutateTree(rng, JSON.parse(json), 0)); } catch { text = json; }
  if (rng.chance(0.25)) text = mutateBytes(rng, Buffer.from(text), others.map((o) => Buffer.from(o)), maxLen).toString("latin1");
  return text.length > maxLen ? text.slice(0, maxLen) : text;
}

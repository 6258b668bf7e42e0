// The codec conformance suite, written once. A codec joins by listing its variants (one per
// framing/encoding it speaks) in a `<name>.spec.ts` registration file:
//
//   import { conformance } from "./suite";
//   import { myVariants } from "./my.frames";
//   conformance("my", myVariants());
//
// Each check loops over every registered variant and names it in failure messages.
// (AssemblyScript has no closures, so the variants live in a module global, not in callbacks.)
import { Codec, DecodeStatus, ErrorType, KeyValue, MessageType, ResponseStatus, WantedKeys } from "../../../assembly/meta/codec";
import { ByteBuf } from "../../../assembly/meta/bytes";
import { Metadata } from "../../../assembly/meta/metadata";

/** One way a codec frames and encodes messages, with builders for sample frames. */
export abstract class Variant {
  constructor(
    public name: string,
    /** The routable attribute every sample request carries, and its value. */
    public routeKey: string,
    public routeValue: string,
    /** encode() can carry mutations in this variant (else it must refuse them). */
    public mutable: bool,
    /** probe() works in this variant (else it must return false). */
    public probes: bool,
    /** The total length is known from a prefix (else the framework caps by bytes buffered). */
    public lengthPrefixed: bool,
  ) {}
  abstract codec(): Codec;
  /** Append a request with request id `id` and the route attribute. */
  abstract request(id: u32, out: ByteBuf): void;
  /** Append a successful response to request `id`. */
  abstract response(id: u32, out: ByteBuf): void;
  /** Append a request whose payload is about `payloadBytes` long. */
  abstract bigRequest(id: u32, payloadBytes: i32, out: ByteBuf): void;
}

let registry: Variant[] = [];

export function conformance(codecName: string, variants: Variant[]): void {
  registry = variants;
  describe("codec conformance: " + codecName, () => {
    it("has at least one variant", () => { expect(registry.length).toBeGreaterThan(0); });
    it("decodes a request: length, id, type, route attribute", () => each(checkRequest));
    it("parses strings only when asked", () => each(checkLazy));
    it("decodes a response as a reply to its request id", () => each(checkResponse));
    it("waits at every byte boundary of a split request and response", () => each(checkSplit));
    it("cuts many frames from one read", () => each(checkMany));
    it("matches interleaved responses to their requests", () => each(checkInterleaved));
    it("lets the framework refuse an oversize frame before it is buffered", () => each(checkOversize));
    it("never traps on garbage, and reports errors with a reason", () => each(checkGarbage));
    it("never traps on corrupted valid frames", () => each(checkCorrupted));
    it("round-trips an error reply for every error type", () => each(checkErrorReply));
    it("round-trips mutations or refuses them cleanly", () => each(checkMutation));
    it("writes a probe answered with the same request id, or has none", () => each(checkProbe));
  });
}

function each(check: (v: Variant) => void): void {
  for (let i = 0; i < registry.length; i++) check(registry[i]);
}

// ---- helpers ---------------------------------------------------------------------------------

const ALL = WantedKeys.everything();
// Fuzz rounds per variant: enough to hit every length-field branch, small enough for 2 cores.
const FUZZ_ROUNDS = 1200;
const NONE = WantedKeys.none();

function frame(v: Variant, id: u32, request: bool): ByteBuf {
  const b = new ByteBuf();
  if (request) v.request(id, b); else v.response(id, b);
  return b;
}

function decodeAt(c: Codec, b: ByteBuf, at: i32, len: i32, md: Metadata, down: bool, wanted: WantedKeys): DecodeStatus {
  return decodeGuarded(c, b.ptr + <usize>at, len, md, down, wanted);
}

// Bytes after the ones a codec is given must not change its answer: a read past `len` does not
// trap in wasm (it sees whatever lies next in memory), so every decode in this suite runs twice
// on a copy followed by GUARD bytes of 0x00, then of 0xff, and both results must agree.
const GUARD = 64;
const scratch = new ByteBuf();
const shadow = new Metadata();

function decodeGuarded(c: Codec, ptr: usize, len: i32, md: Metadata, down: bool, wanted: WantedKeys): DecodeStatus {
  scratch.clear();
  scratch.writeBytes(ptr, len);
  scratch.ensure(GUARD);
  const guard = scratch.ptr + <usize>scratch.len;
  memory.fill(guard, 0x00, GUARD);
  md.reset();
  const st = c.decode(scratch.ptr, len, md, down, wanted);
  memory.fill(guard, 0xff, GUARD);
  shadow.reset();
  const again = c.decode(scratch.ptr, len, shadow, down, wanted);
  const same = again == st && shadow.frameSize == md.frameSize && shadow.error == md.error &&
    (st != DecodeStatus.Done || (shadow.frameLength == md.frameLength && shadow.requestId == md.requestId &&
      shadow.messageType == md.messageType && shadow.isReply == md.isReply &&
      shadow.responseStatus == md.responseStatus && shadow.attributeCount == md.attributeCount &&
      shadow.codecFlags == md.codecFlags));
  if (!same) expect(same).toBe(true, c.name() + ": decode of " + len.toString() + " bytes read past them (its result depends on the bytes after)");
  return st;
}

/** Deterministic xorshift32: reproducible fuzzing without a host seed import. */
class Rng {
  constructor(private s: u32) {}
  next(): u32 { let x = this.s; x ^= x << 13; x ^= x >> 17; x ^= x << 5; this.s = x; return x; }
  below(n: i32): i32 { return <i32>(this.next() % <u32>n); }
}

/** expectSane without the expectations: for loops that build the failure message only on failure. */
function sane(st: DecodeStatus, md: Metadata, len: i32): bool {
  if (st == DecodeStatus.Done) return md.frameLength > 0 && md.frameLength <= len && md.headerSize >= 0 && md.bodySize >= 0;
  if (st == DecodeStatus.Error) return md.error.length > 0;
  return st == DecodeStatus.WaitForData;
}

/** Decoding must end in one of the three statuses with consistent metadata, whatever the bytes. */
function expectSane(st: DecodeStatus, md: Metadata, len: i32, what: string): void {
  if (st == DecodeStatus.Done) {
    expect(md.frameLength).toBeGreaterThan(0, what + ": Done with an empty frame");
    expect(md.frameLength).toBeLessThanOrEqual(len, what + ": Done beyond the bytes given");
    expect(md.headerSize >= 0 && md.bodySize >= 0).toBe(true, what + ": negative header or body size");
  } else if (st == DecodeStatus.Error) {
    expect(md.error.length).toBeGreaterThan(0, what + ": Error without md.error");
  } else {
    expect(st).toBe(DecodeStatus.WaitForData, what + ": unknown status");
  }
}

// ---- checks ------------------------------------------------------------------------------------

function checkRequest(v: Variant): void {
  const c = v.codec(), b = frame(v, 7, true), md = new Metadata();
  expect(decodeAt(c, b, 0, b.len, md, true, ALL)).toBe(DecodeStatus.Done, v.name);
  expect(md.frameLength).toBe(b.len, v.name + ": frame length");
  expect(md.requestId).toBe(7, v.name + ": request id");
  expect(md.messageType).toBe(MessageType.Request, v.name + ": message type");
  expect(md.isReply).toBe(false, v.name + ": a request is no reply");
  const got = md.getAttribute(v.routeKey);
  expect(got).not.toBeNull(v.name + ": route attribute missing");
  expect(got!).toBe(v.routeValue, v.name + ": route attribute");
  b.free();
}

function checkLazy(v: Variant): void {
  const c = v.codec(), b = frame(v, 8, true), md = new Metadata();
  expect(decodeAt(c, b, 0, b.len, md, true, NONE)).toBe(DecodeStatus.Done, v.name);
  expect(md.attributeCount).toBe(0, v.name + ": attributes parsed though no rule wants them");
  b.free();
}

function checkResponse(v: Variant): void {
  const c = v.codec(), b = frame(v, 0xfffffff0, false), md = new Metadata();
  expect(decodeAt(c, b, 0, b.len, md, false, NONE)).toBe(DecodeStatus.Done, v.name);
  expect(md.frameLength).toBe(b.len, v.name + ": frame length");
  expect(md.requestId).toBe(0xfffffff0, v.name + ": request id");
  expect(md.isReply).toBe(true, v.name + ": isReply");
  expect(md.responseStatus).toBe(ResponseStatus.Ok, v.name + ": status");
  b.free();
}

function checkSplit(v: Variant): void {
  const c = v.codec(), md = new Metadata();
  for (let r = 0; r < 2; r++) {
    const b = frame(v, 3, r == 0);
    for (let k = 0; k < b.len; k++) {
      const st = decodeAt(c, b, 0, k, md, r == 0, ALL);
      expect(st).toBe(DecodeStatus.WaitForData, v.name + ": prefix of " + k.toString() + "/" + b.len.toString());
      if (md.frameSize != 0) expect(md.frameSize).toBe(b.len, v.name + ": announced frameSize");
    }
    expect(decodeAt(c, b, 0, b.len, md, r == 0, ALL)).toBe(DecodeStatus.Done, v.name + ": whole frame");
    const want = md.clone();
    // As the framework feeds it: the same frame growing piece by piece, with `continuing` set
    // after every WaitForData. A codec that resumes a scan must end exactly where a fresh one does.
    for (let step = 1; step <= 7; step += 6) {
      const got = new Metadata();
      let st = DecodeStatus.WaitForData;
      for (let k = step; k <= b.len + step - 1 && st == DecodeStatus.WaitForData; k += step) {
        const n = k < b.len ? k : b.len;
        const continuing = k > step;
        got.reset();
        got.continuing = continuing;
        st = c.decode(b.ptr, n, got, r == 0, ALL);
      }
      expect(st).toBe(DecodeStatus.Done, v.name + ": frame fed " + step.toString() + " byte(s) at a time");
      expect(got.frameLength).toBe(want.frameLength, v.name + ": resumed frame length");
      expect(got.requestId).toBe(want.requestId, v.name + ": resumed request id");
      expect(got.messageType).toBe(want.messageType, v.name + ": resumed message type");
    }
    b.free();
  }
}

function checkMany(v: Variant): void {
  const c = v.codec(), md = new Metadata(), b = new ByteBuf();
  const n = 40;
  for (let i = 0; i < n; i++) v.request(<u32>(1000 + i), b);
  let at = 0;
  for (let i = 0; i < n; i++) {
    expect(decodeAt(c, b, at, b.len - at, md, true, ALL)).toBe(DecodeStatus.Done, v.name + ": frame " + i.toString());
    expect(md.requestId).toBe(1000 + i, v.name + ": id of frame " + i.toString());
    expect(md.getAttribute(v.routeKey)!).toBe(v.routeValue, v.name);
    at += md.frameLength;
  }
  expect(at).toBe(b.len, v.name + ": frames cover the read exactly");
  b.free();
}

function checkInterleaved(v: Variant): void {
  const c = v.codec(), md = new Metadata(), b = new ByteBuf();
  const ids: u32[] = [5, 1, 4, 2, 3, 9, 0, 8, 7, 6];
  for (let i = 0; i < ids.length; i++) v.response(ids[i], b);
  const seen = new Set<u64>();
  let at = 0;
  for (let i = 0; i < ids.length; i++) {
    expect(decodeAt(c, b, at, b.len - at, md, false, NONE)).toBe(DecodeStatus.Done, v.name);
    expect(md.requestId).toBe(<u64>ids[i], v.name + ": response order is kept");
    expect(md.isReply).toBe(true, v.name);
    seen.add(md.requestId);
    at += md.frameLength;
  }
  expect(seen.size).toBe(ids.length, v.name + ": every request answered once");
  b.free();
}

function checkOversize(v: Variant): void {
  const c = v.codec(), md = new Metadata(), b = new ByteBuf();
  c.maxFrameBytes = 256;
  v.bigRequest(11, 4096, b);
  expect(b.len).toBeGreaterThan(4096, v.name + ": sample is big");
  // Given only the first 64 bytes (the framework has not buffered the rest), never Done.
  const st = decodeAt(c, b, 0, 64, md, true, ALL);
  expect(st).toBe(DecodeStatus.WaitForData, v.name + ": oversize prefix");
  if (v.lengthPrefixed) expect(md.frameSize).toBe(b.len, v.name + ": total announced early");
  // Even with every byte present, an oversize frame is not cut (Wait + frameSize, or Wait with
  // more than maxFrameBytes buffered: the framework refuses both as frame_too_large).
  expect(decodeAt(c, b, 0, b.len, md, true, ALL)).not.toBe(DecodeStatus.Done, v.name + ": oversize frame cut");
  c.maxFrameBytes = 8 << 20;
  expect(decodeAt(c, b, 0, b.len, md, true, ALL)).toBe(DecodeStatus.Done, v.name + ": fits a larger cap");
  b.free();
}

function checkGarbage(v: Variant): void {
  const c = v.codec(), md = new Metadata(), b = new ByteBuf(), rng = new Rng(0x9e3779b9);
  for (let round = 0; round < FUZZ_ROUNDS; round++) {
    b.clear();
    const n = rng.below(96);
    for (let i = 0; i < n; i++) b.writeU8(rng.next() & 0xff);
    const down = (round & 1) == 0;
    const st = decodeAt(c, b, 0, b.len, md, down, ALL);
    expectSane(st, md, b.len, v.name + ": garbage round " + round.toString());
    if (st == DecodeStatus.Done) exercise(c, md, b);
  }
  b.free();
}

function checkCorrupted(v: Variant): void {
  const c = v.codec(), md = new Metadata(), good = new ByteBuf(), b = new ByteBuf(), rng = new Rng(12345);
  v.request(77, good);
  v.response(77, good);
  for (let round = 0; round < FUZZ_ROUNDS; round++) {
    b.clear();
    b.writeBytes(good.ptr, good.len);
    const flips = 1 + rng.below(4);
    for (let f = 0; f < flips; f++) {
      const at = rng.below(b.len);
      b.setU8(at, (round & 1) == 0 ? rng.next() & 0xff : load<u8>(b.ptr + <usize>at) ^ (<u32>1 << rng.below(8)));
    }
    const len = (round % 5) == 0 ? rng.below(b.len + 1) : b.len; // some truncated too
    const st = decodeAt(c, b, 0, len, md, (round & 2) == 0, ALL);
    expectSane(st, md, len, v.name + ": corrupted round " + round.toString());
    if (st == DecodeStatus.Done) exercise(c, md, b);
  }
  // Length fields pointing at the very end of the bytes given, or just past it: at every offset,
  // a big-endian u32 and a one-byte length (varint) of (bytes left - k). Reads that are checked
  // against the wrong bound land in the guard bytes there (see decodeGuarded).
  for (let r = 0; r < 2; r++) {
    const one = new ByteBuf();
    if (r == 0) v.request(78, one); else v.response(78, one);
    for (let at = 0; at < one.len; at++) {
      for (let k = 0; k < 8; k++) {
        for (let form = 0; form < 2; form++) {
          b.clear();
          b.writeBytes(one.ptr, one.len);
          const left = one.len - at - (form == 0 ? 4 : 1) - k;
          if (left < 0 || (form == 0 && at + 4 > one.len)) continue;
          if (form == 0) b.setU32BE(at, <u32>left); else b.setU8(at, <u32>(left & 0x7f));
          const st = decodeAt(c, b, 0, b.len, md, r == 0, ALL);
          if (!sane(st, md, b.len)) expectSane(st, md, b.len, v.name + ": length " + left.toString() + " at " + at.toString());
          if (st == DecodeStatus.Done) exercise(c, md, b);
        }
      }
    }
    one.free();
  }
  good.free(); b.free();
}

/** Whatever decode accepted, the write paths must not trap on it either. */
function exercise(c: Codec, md: Metadata, b: ByteBuf): void {
  const out = new ByteBuf();
  const m: KeyValue[] = [new KeyValue("k", "v")];
  c.encode(md, m, b.ptr, md.frameLength, out);
  c.onError(md, ErrorType.Unspecified, "x", out);
  c.probe(md, out);
  out.free();
}

function checkErrorReply(v: Variant): void {
  const c = v.codec(), md = new Metadata(), b = frame(v, 0x01020304, true), rsp = new Metadata();
  expect(decodeAt(c, b, 0, b.len, md, true, ALL)).toBe(DecodeStatus.Done, v.name);
  const kept = md.clone(); // the framework keeps a clone; the frame's bytes are gone by then
  md.reset();
  for (let e = ErrorType.RouteNotFound; e <= ErrorType.Unspecified; e++) {
    const out = new ByteBuf();
    c.onError(kept, e, "no route for this request", out);
    expect(out.len).toBeGreaterThan(0, v.name + ": empty error reply");
    expect(decodeGuarded(c, out.ptr, out.len, rsp, false, ALL)).toBe(DecodeStatus.Done, v.name + ": error reply decodes");
    expect(rsp.frameLength).toBe(out.len, v.name + ": error reply is one frame");
    expect(rsp.requestId).toBe(0x01020304, v.name + ": error reply keeps the request id");
    expect(rsp.isReply).toBe(true, v.name + ": error reply is a reply");
    expect(rsp.codecFlags).toBe(kept.codecFlags, v.name + ": error reply framed like the request");
    const failed = rsp.responseStatus == ResponseStatus.Error || rsp.messageType == MessageType.Error;
    expect(failed).toBe(true, v.name + ": error reply says error");
    out.free();
  }
  b.free();
}

function checkMutation(v: Variant): void {
  const c = v.codec(), md = new Metadata(), out = new ByteBuf(), again = new ByteBuf();
  for (let r = 0; r < 2; r++) {
    const b = frame(v, 21, r == 0);
    const down = r == 0;
    expect(decodeAt(c, b, 0, b.len, md, down, ALL)).toBe(DecodeStatus.Done, v.name);
    out.clear();
    const m: KeyValue[] = [new KeyValue("x-canary", "true"), new KeyValue("x-route", "hello-v2")];
    const ok = c.encode(md, m, b.ptr, b.len, out);
    expect(ok).toBe(v.mutable, v.name + ": encode applies mutations iff the variant has room");
    if (!ok) { expect(out.len).toBe(0, v.name + ": refused encode appended bytes"); b.free(); continue; }
    const md2 = new Metadata();
    expect(decodeGuarded(c, out.ptr, out.len, md2, down, ALL)).toBe(DecodeStatus.Done, v.name + ": mutated frame decodes");
    expect(md2.frameLength).toBe(out.len, v.name + ": length fields fixed");
    expect(md2.requestId).toBe(21, v.name + ": id kept");
    expect(md2.getAttribute("x-canary")!).toBe("true", v.name);
    expect(md2.getAttribute("x-route")!).toBe("hello-v2", v.name);
    if (down) expect(md2.getAttribute(v.routeKey)!).toBe(v.routeValue, v.name + ": route attribute kept");
    // Where mutations live is the protocol's business (THeader headers, Dubbo attachments in the
    // body): what must hold is one frame, same id, keys set, route attribute kept (above).
    // Replacing a key keeps one value, the new one.
    again.clear();
    expect(c.encode(md2, [new KeyValue("x-canary", "false")], out.ptr, out.len, again)).toBe(true, v.name);
    const md3 = new Metadata();
    expect(decodeGuarded(c, again.ptr, again.len, md3, down, ALL)).toBe(DecodeStatus.Done, v.name);
    expect(md3.getAttribute("x-canary")!).toBe("false", v.name + ": replaced value");
    expect(md3.getAttribute("x-route")!).toBe("hello-v2", v.name + ": other keys kept");
    b.free();
  }
  out.free(); again.free();
}

function checkProbe(v: Variant): void {
  const c = v.codec(), md = new Metadata(), b = frame(v, 4242, true), out = new ByteBuf();
  expect(decodeAt(c, b, 0, b.len, md, true, ALL)).toBe(DecodeStatus.Done, v.name);
  const kept = md.clone();
  const ok = c.probe(kept, out);
  expect(ok).toBe(v.probes, v.name + ": probe support");
  if (!ok) { expect(out.len).toBe(0, v.name + ": refused probe appended bytes"); b.free(); out.free(); return; }
  const pm = new Metadata();
  expect(decodeGuarded(c, out.ptr, out.len, pm, true, ALL)).toBe(DecodeStatus.Done, v.name + ": probe decodes");
  expect(pm.frameLength).toBe(out.len, v.name + ": probe is one frame");
  expect(pm.requestId).toBe(4242, v.name + ": probe keeps the request id");
  expect(pm.isReply).toBe(false, v.name + ": probe is a request");
  expect(pm.codecFlags).toBe(kept.codecFlags, v.name + ": probe framed like the request");
  b.free(); out.free();
}

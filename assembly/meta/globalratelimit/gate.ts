// Global rate limit (services[].globalRateLimit): a request that matches the rule is held while
// the rate limit service decides, without blocking the worker.
//
// Envoy offers one way to hold bytes: return PAUSE and leave them in the connection's buffer.
// A later proxy_continue_stream hands EVERY held byte to tcp_proxy without calling the filter
// again, so nothing in the buffer may be undecided when the connection goes on. Hence:
// - the held frame and everything behind it stay in Envoy's buffer (whose limit then stops the
//   client: backpressure); while paused each read is scanned from where the last one stopped;
// - the frames are described by pieces (bytes kept as they are, bytes of our own, checks);
// - at the end of each read the checks it produced are sent: one ShouldRateLimit call carries
//   the descriptors of up to MAX_BATCH requests of the same rule (the service answers a status
//   per descriptor; a call costs Envoy much more than a descriptor), at most MAX_CALLS calls in
//   flight per connection, MAX_HELD_CHECKS held at most (then reading stops until answers come);
// - when every check has its verdict, the buffer is rewritten once (allowed requests as they
//   would have gone, denied ones replaced by the probe whose answer becomes the over-limit
//   reply), the incomplete tail moves into module memory, and the connection continues.
// Answers arrive on the root context (abi/grpc.ts routes them here by token); a failed or
// timed-out call (any on_grpc_close, or a call the host refused) follows denyOnFail. A
// connection that closes cancels its pending calls.
import { ByteBuf } from "../bytes";
import { Metadata } from "../metadata";
import { Verdict, FrameLoop, scratch } from "../frames";
import { HeldAccount } from "../budget";
import { BufferType, Slice, StreamType, closeStream, continueStream, getBuffer, setBuffer, setEffectiveContext } from "../../abi/host";
import { GrpcTarget, GrpcWaiter, grpcCall, grpcCancel, readGrpcResponse } from "../../abi/grpc";
import { GlobalRateLimitConfig } from "../config/global-ratelimit";
import { Route } from "../config";
import { Counters } from "../counters";
import { RequestRecord } from "../telemetry/record";
import { CODE_OVER_LIMIT, RLS_METHOD, RLS_SERVICE, beginRequest, encodeDescriptors, readResponse } from "./rls";
import { HeldLoop } from "./held-loop";
import { MetaConnection } from "../connection";

/** Calls in flight per connection; further checks wait for an answer. */
export const MAX_CALLS = 4;
/** Requests asked in one call. */
export const MAX_BATCH = 64;
/** Checks held per connection; beyond this the held bytes are not read until answers come. */
export const MAX_HELD_CHECKS = 256;

// Counter indices (features.ts defines the names in this order).
export const RL_TOTAL = 0;
export const RL_OK = 1;
export const RL_OVER_LIMIT = 2;
export const RL_ERROR = 3;
export const RL_FAILURE_MODE_ALLOWED = 4;
export const RL_CALLS = 5;
export const RL_COUNTER_NAMES: string[] = [
  "global_ratelimit.total", "global_ratelimit.ok", "global_ratelimit.over_limit", "global_ratelimit.error",
  "global_ratelimit.failure_mode_allowed", "global_ratelimit.calls",
];

const PENDING = 0;
const ALLOWED = 1;
const DENIED = 2;

/** The rate limit service client of one rule. */
export class RateLimitTarget {
  target: GrpcTarget;
  constructor(public rule: GlobalRateLimitConfig) {
    this.target = new GrpcTarget(rule.cluster, RLS_SERVICE, RLS_METHOD);
  }
}

/** One request waiting for (or holding) a verdict. Both outcomes are prepared when it is held. */
export class Check {
  state: i32 = PENDING;
  /** Where the frame lies in Envoy's buffer (pieces refer to it). */
  off: i32 = 0;
  len: i32 = 0;
  /** Heartbeats held before the connection's first request go in front of either outcome. */
  prefix: ByteBuf = new ByteBuf();
  /** The allowed frame when it differs from the original (mutations, trace context); else null. */
  allow: ByteBuf | null = null;
  mutated: bool = false;
  /** The denied outcome: the probe, when the protocol has one. */
  probe: ByteBuf = new ByteBuf();
  hasProbe: bool = false;
  md: Metadata;
  /** This request's descriptors (RateLimitRequest field 2 entries) and how many. */
  descriptors: ByteBuf = new ByteBuf();
  ndesc: i32 = 0;
  route: Route | null = null;
  methodSlot: i32 = -1;
  rec: RequestRecord | null = null;
  failed: bool = false;

  constructor(public rule: RateLimitTarget, md: Metadata) {
    this.md = md.clone();
  }
}

/** One ShouldRateLimit call carrying the descriptors of several checks. */
class Batch extends GrpcWaiter {
  token: u32 = 0;
  checks: Check[] = [];
  constructor(public gate: GlobalGate, public rule: RateLimitTarget) { super(); }

  onGrpcReceive(token: u32, size: u32): void {
    const g = this.gate;
    const codes = g.codes;
    let overall: u32 = 0;
    if (readGrpcResponse(size, g.slice)) { overall = readResponse(g.slice.ptr, g.slice.len, codes); g.slice.free(); }
    else codes.length = 0;
    this.token = 0;
    // A status per descriptor, in order: a request is over the limit when any of its own is.
    let total = 0;
    for (let i = 0; i < this.checks.length; i++) total += unchecked(this.checks[i]).ndesc;
    const perDescriptor = codes.length == total;
    let at = 0;
    for (let i = 0; i < this.checks.length; i++) {
      const c = unchecked(this.checks[i]);
      let over = false;
      if (perDescriptor) { for (let j = 0; j < c.ndesc; j++) if (unchecked(codes[at + j]) == CODE_OVER_LIMIT) over = true; }
      else over = overall == CODE_OVER_LIMIT; // a service without statuses: its overall answer
      at += c.ndesc;
      g.decide(c, !over, false);
    }
    g.answered(this);
  }

  onGrpcClose(token: u32, code: u32): void {
    this.token = 0;
    const g = this.gate;
    for (let i = 0; i < this.checks.length; i++) g.decide(unchecked(this.checks[i]), !this.rule.rule.denyOnFail, true);
    g.answered(this);
  }
}

const PIECE_KEEP = 0;
const PIECE_OWN = 1;
const PIECE_CHECK = 2;

class Piece {
  constructor(public kind: i32, public off: i32, public len: i32, public own: ByteBuf | null, public check: Check | null) {}
}

export class GlobalGate {
  paused: bool = false;
  /** The read loop used while paused (see held-loop.ts). */
  loop!: HeldLoop;
  /** The check being held by the current onRequest, picked up by HeldLoop.apply. */
  current: Check | null = null;
  eos: bool = false;
  slice: Slice = new Slice();
  codes: u32[] = [];
  pieces: Piece[] = [];
  private checks: Check[] = [];
  private calls: Batch[] = [];
  private unresolved: i32 = 0;
  private nextIssue: i32 = 0;
  /** A verdict is scanning unread held bytes: releasing waits for it. */
  private scanning: bool = false;
  private request: ByteBuf = new ByteBuf();

  constructor(public conn: MetaConnection, private counters: Counters, account: HeldAccount) {
    this.loop = new HeldLoop(this, account);
  }

  /** Held checks have room for more (else the held loop leaves new bytes unread). */
  get canHoldMore(): bool { return this.unresolved < MAX_HELD_CHECKS; }

  /**
   * A request matched `rule` (called from MetaConnection.onRequest). Returns Verdict.Hold: it
   * waits for the service, asked at the end of this read; or, when no descriptor applies (its
   * attributes are missing), the request goes on at once.
   */
  hold(loop: FrameLoop, md: Metadata, len: i32, rule: RateLimitTarget, route: Route | null, methodSlot: i32, rec: RequestRecord | null): Verdict {
    const conn = this.conn;
    const c = new Check(rule, md);
    c.ndesc = encodeDescriptors(rule.rule, md, c.descriptors);
    if (c.ndesc == 0) return conn.forward(loop, md, len, route, methodSlot, rec, true);
    c.route = route; c.methodSlot = methodSlot; c.rec = rec;
    conn.takeHeld(c.prefix);
    // The allowed outcome, as forward() would make it now, without its side effects.
    if (conn.forward(loop, md, len, route, methodSlot, rec, false) == Verdict.Replace) {
      const a = new ByteBuf();
      a.writeBytes(loop.repl.ptr, loop.repl.len);
      c.allow = a;
      c.mutated = conn.lastMutated;
    }
    c.hasProbe = conn.probeFor(md, c.probe);
    this.counters.inc(RL_TOTAL);
    this.checks.push(c);
    this.unresolved++;
    this.current = c;
    return Verdict.Hold;
  }

  /**
   * The connection's normal loop met a held frame at loop.pos: everything from there on stays in
   * Envoy's buffer as it is (the frames before it are decided and rewritten as usual), and the
   * connection pauses. Returns the size of Envoy's buffer afterwards, to scan the rest held.
   */
  enter(loop: FrameLoop, len: i32): i32 {
    const c = this.current!;
    this.current = null;
    const before = loop.outputLength();
    const rest = loop.srcLen - loop.pos;
    loop.apply(Verdict.Keep, rest);
    loop.finish();
    const size = before + rest;
    this.paused = true;
    this.eos = false;
    c.off = before; c.len = len;
    if (before > 0) this.pieces.push(new Piece(PIECE_KEEP, 0, before, null, null));
    this.pieces.push(new Piece(PIECE_CHECK, before, len, null, c));
    this.loop.start(before + len, size);
    return size;
  }

  // ---- pieces, written by HeldLoop.apply ----

  keep(off: i32, len: i32): void {
    const n = this.pieces.length;
    if (n > 0) {
      const last = unchecked(this.pieces[n - 1]);
      if (last.kind == PIECE_KEEP && last.off + last.len == off) { last.len += len; return; }
    }
    this.pieces.push(new Piece(PIECE_KEEP, off, len, null, null));
  }

  own(ptr: usize, len: i32): void {
    if (len <= 0) return;
    const b = new ByteBuf();
    b.writeBytes(ptr, len);
    this.pieces.push(new Piece(PIECE_OWN, 0, len, b, null));
  }

  held(off: i32, len: i32): void {
    const c = this.current!;
    this.current = null;
    c.off = off; c.len = len;
    this.pieces.push(new Piece(PIECE_CHECK, off, len, null, c));
  }

  // ---- calls and verdicts ----

  /**
   * The end of a read while paused: the new checks are sent. True when they were all decided at
   * once (the host refused the calls) and the connection was released in this callback, so the
   * data callback returns CONTINUE.
   */
  afterRead(): bool {
    this.issue();
    if (this.scanning || this.unresolved > 0 || !this.paused) return false;
    this.release(false);
    return true;
  }

  /** Sends waiting checks, batched by rule, while there is room in flight. */
  private issue(): void {
    while (this.calls.length < MAX_CALLS && this.nextIssue < this.checks.length) {
      const first = unchecked(this.checks[this.nextIssue]);
      const b = new Batch(this, first.rule);
      const req = this.request;
      beginRequest(first.rule.rule.domain, req);
      while (this.nextIssue < this.checks.length && b.checks.length < MAX_BATCH) {
        const c = unchecked(this.checks[this.nextIssue]);
        if (c.rule !== first.rule) break;
        req.writeBytes(c.descriptors.ptr, c.descriptors.len);
        c.descriptors.free();
        b.checks.push(c);
        this.nextIssue++;
      }
      this.counters.inc(RL_CALLS);
      const token = grpcCall(first.rule.target, req.ptr, req.len, first.rule.rule.timeoutMs, b);
      req.clear();
      if (token == 0) {
        // Refused by the host (unknown cluster name, no gRPC client): a failure, decided now.
        for (let i = 0; i < b.checks.length; i++) this.decide(unchecked(b.checks[i]), !first.rule.rule.denyOnFail, true);
        continue;
      }
      b.token = token;
      this.calls.push(b);
    }
  }

  decide(c: Check, allow: bool, failed: bool): void {
    if (c.state != PENDING) return;
    c.state = allow ? ALLOWED : DENIED;
    c.failed = failed;
    this.unresolved--;
    if (failed) {
      this.counters.inc(RL_ERROR);
      if (allow) this.counters.inc(RL_FAILURE_MODE_ALLOWED);
    } else this.counters.inc(allow ? RL_OK : RL_OVER_LIMIT);
  }

  /** A call was answered (on the root context): when it was the last one, the connection goes on. */
  answered(b: Batch): void {
    const i = this.calls.indexOf(b);
    if (i >= 0) this.calls.splice(i, 1);
    if (this.scanning || !this.paused) return;
    this.issue();
    if (this.unresolved > 0) return;
    // Act on the connection from the root's callback.
    if (setEffectiveContext(this.conn.id) != 0) { this.reset(); return; } // it is gone
    // Bytes left unread (MAX_HELD_CHECKS was reached) are scanned now; they may hold more checks.
    if (this.loop.unread()) {
      this.scanning = true;
      this.conn.onDownstreamData(<u32>this.loop.envoySize, this.eos);
      this.scanning = false;
      this.issue();
    }
    if (this.paused && this.unresolved == 0) this.release(true);
    this.conn.endCallback();
  }

  /**
   * Every check has its verdict: rewrite the held buffer once and let the connection go on
   * (continue_stream from a root callback; inside a data callback the caller returns CONTINUE).
   */
  private release(fromRoot: bool): void {
    const conn = this.conn;
    const loop = this.loop;
    const out = scratch.out;
    out.clear();
    const s = this.slice;
    const decided = loop.base;
    let src: usize = 0;
    if (decided > 0) {
      if (getBuffer(BufferType.DownstreamData, 0, <u32>decided, s) != 0 || s.len < decided) { s.free(); this.reset(); closeStream(StreamType.Downstream); return; }
      src = s.ptr;
    }
    for (let i = 0; i < this.pieces.length; i++) {
      const p = unchecked(this.pieces[i]);
      if (p.kind == PIECE_KEEP) out.writeBytes(src + <usize>p.off, p.len);
      else if (p.kind == PIECE_OWN) out.writeBytes(p.own!.ptr, p.own!.len);
      else {
        const c = p.check!;
        out.writeBytes(c.prefix.ptr, c.prefix.len);
        if (c.state == ALLOWED) {
          conn.commitForward(c);
          const a = c.allow;
          if (a != null) out.writeBytes(a.ptr, a.len);
          else out.writeBytes(src + <usize>p.off, p.len);
        } else if (conn.commitDeny(c)) out.writeBytes(c.probe.ptr, c.probe.len);
      }
    }
    setBuffer(BufferType.DownstreamData, 0, <u32>loop.envoySize, out.ptr, out.len);
    out.clear();
    s.free();
    const eos = this.eos;
    conn.resumeWithTail(loop.tail);
    this.reset();
    conn.resumed(eos);
    if (conn.isClosing) closeStream(StreamType.Downstream);
    else if (fromRoot) continueStream(StreamType.Downstream);
  }

  /** Forgets the pause (after release, or when the connection is gone). */
  private reset(): void {
    for (let i = 0; i < this.calls.length; i++) {
      const b = unchecked(this.calls[i]);
      if (b.token != 0) { grpcCancel(b.token); b.token = 0; }
    }
    this.calls.length = 0;
    this.checks.length = 0;
    this.pieces.length = 0;
    this.unresolved = 0;
    this.nextIssue = 0;
    this.current = null;
    this.paused = false;
    this.eos = false;
    this.loop.clear();
  }

  /** The connection is closing or broken: no answer is wanted any more. */
  cancelAll(): void { this.reset(); }

  /** A broken frame while paused: nothing held may reach the upstream. */
  discardHeld(envoySize: i32): void {
    if (envoySize > 0) setBuffer(BufferType.DownstreamData, 0, <u32>envoySize, 0, 0);
    this.reset();
  }
}

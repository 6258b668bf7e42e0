// One downstream connection: cuts frames in both directions, binds the upstream cluster on the
// first request, applies limits and mutations, correlates responses, and answers rejected
// requests with protocol error replies that ride on the upstream's answer to a probe.
import { Action, NetworkContext } from "../abi/context";
import { BufferType, LogLevel, StreamType, closeStream, getPropertyString, getPropertyU64, log, logEnabled, setFilterState } from "../abi/host";
import { Codec, DecodeStatus, ErrorType, KeyValue, MessageType, ResponseStatus, errorTypeName } from "./codec";
import { Metadata } from "./metadata";
import { InFlight } from "./inflight";
import { ByteBuf } from "./bytes";
import { Begin, FrameLoop, Verdict } from "./frames";
import { HeldAccount, MAX_HELD_HEARTBEAT_BYTES, PENDING_ENTRY_BYTES } from "./budget";
import { PluginConfig, Route, ServiceConfig, ON_MISMATCH_REJECT } from "./config";
import { connectionRoute, ipOf, matchRoute, routeSendsTo, selectService } from "./router";
import { bindingAllowed } from "./binding";
import { Stat } from "./stats";
import { resetRegexBudget } from "./regex/dfa";
import { MetaRoot } from "./root";
import { Check, GlobalGate } from "./globalratelimit/gate";
import { ConnTelemetry } from "./telemetry/connection";
import { RequestRecord } from "./telemetry/record";

const FILTER_STATE_CLUSTER = "envoy.tcp_proxy.cluster";
/** The binding "request" of a connection bound when it opened (bindOn CONNECTION): none. */
const NO_REQUEST = new Metadata();
const LIFESPAN_CONNECTION: u32 = 2;
const NO_MUTATION: KeyValue[] = [];

// A request in flight remembers its route slot and its method-stats slot in one i32.
@inline function packSlots(route: i32, method: i32): i32 { return ((method + 1) << 16) | ((route + 1) & 0xffff); }
@inline function routeSlotOf(packed: i32): i32 { return (packed & 0xffff) - 1; }
@inline function methodSlotOf(packed: i32): i32 { return (packed >>> 16) - 1; }

/** A request answered locally; its error reply replaces the upstream's answer to the probe. */
class Rejection {
  /** Charged to the connection's account while kept (an estimate of the copy's size). */
  bytes: i64 = 0;
  constructor(public md: Metadata, public error: ErrorType, public message: string) {
    let n: i64 = 256 + (<i64>message.length << 1);
    for (let i = 0; i < md.attributeCount; i++) n += 32 + (<i64>(md.attributeKey(i).length + md.attributeValue(i).length) << 1);
    this.bytes = n;
  }
}

/** A request in flight behind an earlier one with the same id (codecs whose replies come in order). */
class Queued {
  constructor(public id: u64, public packed: i32, public rejection: Rejection | null) {}
}

export class MetaConnection extends NetworkContext {
  private cfg: PluginConfig;
  private codec: Codec;
  private down: FrameLoop;
  private up: FrameLoop;
  private reqMd: Metadata = new Metadata();
  private rspMd: Metadata = new Metadata();
  /** Heartbeats seen before the connection is bound; forwarded in front of the first request. */
  private held: ByteBuf = new ByteBuf();
  /** Everything this connection keeps between callbacks is charged here (budget.ts). */
  private account: HeldAccount;
  /** Set inside the frame loop when the connection must close: the stat and the log line. */
  private fatalStat: Stat = Stat.Count;
  private fatalWhy: string = "";

  private bound: bool = false;
  private service: ServiceConfig | null = null;
  private cluster: string = "";
  /** request id -> packed route and method slots (see packSlots) for two-way requests in flight. */
  private pending: InFlight = new InFlight();
  /** Rejected requests awaiting the answer to their probe, by id (made on first use: idle connections stay small). */
  private rejectionsMap: Map<u64, Rejection> | null = null;
  /** Same-id requests waiting for their turn, oldest first (only when codec.repliesInOrder()). */
  private queuedList: Queued[] | null = null;
  private orphansList: Rejection[] | null = null;
  private closing: bool = false;
  /** The last decode in that direction stopped at WaitForData: the next one continues it. */
  private downWaiting: bool = false;
  private upWaiting: bool = false;
  private passthrough: bool = false;
  private requests: i32 = 0;
  private mutationWarned: bool = false;
  /** Bound at connection (bindOn CONNECTION) without a service: the first request may claim one by attributes. */
  private claimByAttributes: bool = false;
  /** Holds requests while the rate limit service decides (only with a globalRateLimit). */
  gate: GlobalGate | null = null;
  /** Spans, access log, latency (only when configured). */
  private tel: ConnTelemetry | null = null;
  /** The telemetry record of the request being decided (for reject()). */
  private rec: RequestRecord | null = null;
  /** The last forward() applied the route's request mutation. */
  lastMutated: bool = false;

  // Rule changes (drain.ts): what the binding was decided on, kept so newer rules can be asked
  // whether they would bind this connection the same way; and the drain state.
  private bindMd: Metadata | null = null;
  private bindDst: string | null = null;
  nextConn: MetaConnection | null = null;
  prevConn: MetaConnection | null = null;
  draining: bool = false;
  /** The drain window ended: new requests get error replies. */
  drainRejecting: bool = false;
  drainDeadlineMs: u64 = 0;
  /** Last bytes either way, tracked while draining only (no clock read per callback otherwise). */
  lastActivityMs: u64 = 0;

  // Waiting for the upstream (upstream-watch.ts): from the first bytes forwarded to tcp_proxy to
  // the first upstream data callback.
  watched: bool = false;
  /** The upstream has sent something: never watched again. */
  private heardUpstream: bool = false;
  watchSinceMs: u64 = 0;
  nextWatch: MetaConnection | null = null;
  prevWatch: MetaConnection | null = null;

  constructor(id: u32, private root: MetaRoot) {
    super(id);
    this.cfg = root.config;
    this.codec = root.codec;
    const account = new HeldAccount(root.stats);
    this.account = account;
    const down = new FrameLoop(BufferType.DownstreamData, account);
    const up = new FrameLoop(BufferType.UpstreamData, account);
    down.softLimit = root.config.maxFrameBytes;
    up.softLimit = root.config.maxFrameBytes;
    this.down = down;
    this.up = up;
    root.stats.inc(Stat.CxTotal);
    root.stats.activeDelta++;
    const f = root.features;
    if (f.hasGlobalRateLimit) this.gate = new GlobalGate(this, f.rateLimitCounters!, account);
    if (f.telemetry != null) this.tel = new ConnTelemetry(f.telemetry!);
    root.drainer.add(this);
  }

  onNewConnection(): Action {
    if (this.root.addressesOnly && !this.dialedOneOfOurs()) {
      // WasmPlugin and EnvoyFilter select listeners by port number, so another TCP service
      // that uses the same port number gets this filter too: leave its bytes alone.
      this.passthrough = true;
      this.root.stats.inc(Stat.Passthrough);
      return Action.Continue;
    }
    if (this.root.bindsAtConnection) { this.bindAtConnection(); return Action.Continue; }
    // Hold tcp_proxy back (ON_DOWNSTREAM_DATA) until the first request has picked the cluster.
    return this.root.needsBinding ? Action.Pause : Action.Continue;
  }

  /**
   * Older Envoy (no upstream_connect_mode) connects at accept and picks its cluster right after
   * this callback: bind by the dialed address and the first route that needs no request
   * attribute (weights apply), else the service's defaultCluster, else tcp_proxy's cluster.
   * Requests are still matched one by one; one whose route sends elsewhere is a route mismatch.
   */
  private bindAtConnection(): void {
    this.bound = true;
    let dst: string | null = null;
    const a = getPropertyString("destination.address");
    if (a != null) dst = ipOf(a);
    this.bindDst = dst;
    const svc = selectService(this.root.bindingConfig(), this.reqMd, dst); // no request yet: claims by address only
    this.service = svc;
    if (svc == null) { this.claimByAttributes = true; return; }
    const route = connectionRoute(svc);
    let cluster = route != null ? route.pickCluster(this.root.random()) : "";
    if (cluster.length == 0) cluster = svc.defaultCluster;
    this.setCluster(cluster);
  }

  private setCluster(cluster: string): void {
    if (cluster.length == 0) return;
    const s = setFilterState(FILTER_STATE_CLUSTER, cluster, LIFESPAN_CONNECTION);
    if (s != 0) log(LogLevel.Warn, "metaprotocol: set_envoy_filter_state failed (" + s.toString() + "); tcp_proxy keeps its own cluster");
    else this.cluster = cluster;
  }

  private dialedOneOfOurs(): bool {
    const a = getPropertyString("destination.address");
    if (a == null) return true; // unknown: treat as ours, as before
    const ip = ipOf(a);
    const services = this.cfg.services;
    for (let i = 0; i < services.length; i++) if (services[i].addresses.includes(ip)) return true;
    return false;
  }

  onDownstreamData(size: u32, eos: bool): Action {
    if (this.passthrough) return Action.Continue;
    resetRegexBudget(); // each read gets the whole regex work budget
    // Closing (close_stream was called): nothing more may reach the upstream.
    if (this.closing) return Action.Pause;
    if (this.draining) this.lastActivityMs = this.root.nowMs();
    // While the rate limit service decides, reads are scanned without moving (see gate.ts).
    const gate = this.gate;
    const paused = gate != null && gate.paused;
    const loop: FrameLoop = paused ? gate!.loop : this.down;
    const b = loop.begin(size);
    if (b == Begin.HostRefused) return Action.Continue;
    if (b == Begin.OverBudget) return this.overBudget(loop, "request");
    const md = this.reqMd;
    const max = this.cfg.maxFrameBytes;
    while (loop.pos < loop.srcLen && !this.closing) {
      md.reset();
      md.continuing = loop.pos == 0 && this.downWaiting;
      const avail = loop.srcLen - loop.pos;
      const st = this.codec.decode(loop.src + <usize>loop.pos, avail, md, true, this.root.wanted);
      this.downWaiting = st == DecodeStatus.WaitForData;
      if (st == DecodeStatus.WaitForData) {
        if (md.frameSize > max || avail > max) return this.broken(loop, Stat.FrameTooLarge, "frame of " + (md.frameSize > 0 ? md.frameSize : avail).toString() + " bytes exceeds maxFrameBytes " + max.toString());
        break;
      }
      const len = md.frameLength;
      if (st == DecodeStatus.Error || len <= 0 || len > avail) {
        return this.broken(loop, Stat.RequestDecodingError, "bad request frame: " + (md.error.length > 0 ? md.error : "invalid frame length"));
      }
      if (len > max) return this.broken(loop, Stat.FrameTooLarge, "frame of " + len.toString() + " bytes exceeds maxFrameBytes " + max.toString());
      const v = this.onRequest(loop, md, len);
      if (this.fatalStat != Stat.Count) return this.broken(loop, this.fatalStat, this.fatalWhy);
      if (v == Verdict.Hold && !paused) {
        // Pause: the frames so far go out as decided later, the rest is scanned as held bytes.
        return this.onDownstreamData(<u32>gate!.enter(loop, len), eos);
      }
      loop.apply(v, len);
    }
    const forwards = loop.forwardsSomething();
    if (!loop.finish()) return this.overBudget(loop, "request");
    if (forwards && !this.heardUpstream && !this.watched && !this.closing) this.root.upstreamWatch.add(this, this.root.nowMs());
    if (eos) { if (paused) gate!.eos = true; else this.onClientEnd(loop); }
    this.root.endCallback();
    if (this.closing) closeStream(StreamType.Downstream);
    // Paused: this read's checks go to the rate limit service (or were decided at once).
    if (gate != null && gate.paused) return gate.afterRead() ? Action.Continue : Action.Pause;
    // Until a request has bound the cluster, tcp_proxy must not see bytes (it would connect).
    return this.bound || forwards || !this.root.needsBinding ? Action.Continue : Action.Pause;
  }

  onUpstreamData(size: u32, eos: bool): Action {
    if (this.passthrough) return Action.Continue;
    if (!this.heardUpstream) { this.heardUpstream = true; this.root.upstreamWatch.remove(this); }
    const loop = this.up;
    const b = loop.begin(size);
    if (b == Begin.HostRefused) return Action.Continue;
    if (b == Begin.OverBudget) return this.overBudget(loop, "response");
    const md = this.rspMd;
    while (loop.pos < loop.srcLen) {
      md.reset();
      md.continuing = loop.pos == 0 && this.upWaiting;
      const avail = loop.srcLen - loop.pos;
      const st = this.codec.decode(loop.src + <usize>loop.pos, avail, md, false, this.root.noKeys);
      this.upWaiting = st == DecodeStatus.WaitForData;
      if (st == DecodeStatus.WaitForData) {
        if (md.frameSize > this.cfg.maxFrameBytes || avail > this.cfg.maxFrameBytes) return this.broken(loop, Stat.FrameTooLarge, "response frame exceeds maxFrameBytes");
        break;
      }
      const len = md.frameLength;
      if (st == DecodeStatus.Error || len <= 0 || len > avail) {
        return this.broken(loop, Stat.ResponseDecodingError, "bad response frame: " + (md.error.length > 0 ? md.error : "invalid frame length"));
      }
      loop.apply(this.onResponse(loop, md, len), len);
    }
    // Error replies that had no probe to ride on go out with whatever the upstream sent.
    const orphans = this.orphansList;
    if (orphans != null && orphans.length > 0) {
      for (let i = 0; i < orphans.length; i++) {
        const r = orphans[i];
        loop.repl.clear();
        this.codec.onError(r.md, r.error, r.message, loop.repl);
        loop.append(loop.repl.ptr, loop.repl.len);
        this.account.give(r.bytes);
      }
      orphans.length = 0;
    }
    // The upstream closed with requests unanswered: each gets an error reply before the close
    // reaches the client (tcp_proxy closes the client's side after these bytes).
    if (eos && this.pending.size > 0 && !this.closing) this.answerPending(loop);
    if (!loop.finish()) return this.overBudget(loop, "response");
    if (this.draining) this.lastActivityMs = this.root.nowMs();
    this.root.endCallback();
    return Action.Continue;
  }

  private onRequest(loop: FrameLoop, md: Metadata, len: i32): Verdict {
    const stats = this.root.stats;
    const frame = loop.src + <usize>loop.pos;
    const type = md.messageType;
    if (type == MessageType.Heartbeat) {
      stats.inc(Stat.Heartbeat);
      if (!this.bound && this.root.needsBinding) { this.hold(frame, len); return Verdict.Drop; }
      return Verdict.Keep;
    }
    if (md.isReply || (type != MessageType.Request && type != MessageType.Oneway)) return Verdict.Keep;
    stats.inc(Stat.RequestTotal);
    if (this.drainRejecting) {
      stats.inc(Stat.DrainRejected);
      return this.reject(loop, md, ErrorType.NoHealthyUpstream, "the rules changed and this connection is being closed: reconnect");
    }
    if (type == MessageType.Oneway) stats.inc(Stat.Oneway);
    const tel = this.tel;
    const rec = tel != null ? tel.begin(md, len, this.root.nowNs()) : null;
    this.rec = rec;
    this.requests++;
    let methodSlot = -1;
    if (this.cfg.methodStats) {
      const m = md.getAttribute("method");
      methodSlot = stats.methodSlot(m != null ? m : "unknown");
      stats.incMethodRequest(methodSlot);
    }

    let route: Route | null = null;
    if (this.claimByAttributes) {
      // Bound at connection to tcp_proxy's cluster; the request's attributes pick the service
      // whose policies (limits, mutations, error replies) apply. The cluster cannot change.
      this.claimByAttributes = false;
      this.service = selectService(this.cfg, md, null);
    }
    if (!this.bound) {
      route = this.bind(md);
    } else if (this.service != null) {
      route = matchRoute(this.service!, md);
      if (route != null && !routeSendsTo(route, this.cluster)) {
        stats.inc(Stat.RouteMismatch);
        if (this.cfg.onRouteMismatch == ON_MISMATCH_REJECT) {
          return this.reject(loop, md, ErrorType.RouteNotFound, "route '" + route.name +
            "' sends this request to another cluster than this connection's (" + this.cluster +
            "); routing is decided per connection by its first request");
        }
      }
    }
    if (this.cfg.services.length > 0) {
      if (route == null) {
        stats.inc(Stat.RouteNotFound);
        return this.reject(loop, md, ErrorType.RouteNotFound, this.service == null
          ? "no service matches this request" : "no route matches this request in service " + this.service!.name);
      }
      const svc = this.service!;
      if (svc.localRateLimit != null && !this.root.limiter.allow(svc, md, this.root.nowMs())) {
        stats.inc(Stat.OverLimit);
        return this.reject(loop, md, ErrorType.OverLimit, "local rate limit exceeded for service " + svc.name);
      }
      const rl = this.root.features.rateLimitOf(svc);
      if (rl != null && rl.rule.match.matches(md)) return this.gate!.hold(loop, md, len, rl, route, methodSlot, rec);
    }
    return this.forward(loop, md, len, route, methodSlot, rec, true);
  }

  /**
   * Sends the request on: with `commit`, counts its route and remembers it for its response;
   * writes the held heartbeats and the mutation (the route's, and the trace context) into
   * loop.repl. Without `commit` it only prepares the bytes (a request held for the rate limit
   * service, committed when the answer comes).
   */
  forward(loop: FrameLoop, md: Metadata, len: i32, route: Route | null, methodSlot: i32, rec: RequestRecord | null, commit: bool): Verdict {
    const frame = loop.src + <usize>loop.pos;
    if (commit) this.commit(md.requestId, md.messageType == MessageType.Request, route, methodSlot, rec);
    loop.repl.clear();
    this.releaseHeld(loop.repl);
    this.lastMutated = false;
    const routeMutation = route != null ? route.requestMutation : NO_MUTATION;
    const tel = this.tel;
    const mutation = tel != null && rec != null ? tel.mutation(rec, routeMutation) : routeMutation;
    if (mutation.length > 0) {
      if (this.codec.encode(md, mutation, frame, len, loop.repl)) {
        if (routeMutation.length > 0) {
          this.lastMutated = true;
          if (commit) this.root.stats.inc(Stat.MutationApplied);
        }
        return Verdict.Replace;
      }
      if (routeMutation.length > 0) this.mutationRefused(route!.name, "request");
      else tel!.propagationRefused();
    }
    if (loop.repl.len == 0) return Verdict.Keep;
    loop.repl.writeBytes(frame, len);
    return Verdict.Replace;
  }

  /** The request goes upstream: count its route, remember a two-way one for its response. */
  private commit(id: u64, twoWay: bool, route: Route | null, methodSlot: i32, rec: RequestRecord | null): void {
    const slot = route != null ? this.root.slotOf(route) : -1;
    this.root.stats.incRoute(slot);
    if (twoWay) this.track(id, packSlots(slot, methodSlot));
    if (rec != null) this.tel!.forwarded(rec, slot, methodSlot, this.root.nowNs(), this.cluster);
  }

  /**
   * A two-way request in flight, charged to the held-bytes budget; behind an earlier one with
   * its id when replies come in order.
   */
  private track(id: u64, packed: i32): void {
    if (!this.account.take(PENDING_ENTRY_BYTES)) {
      this.fatal(Stat.HeldBytesOverflow, "the VM's held-bytes budget (maxHeldBytes) is full: no room for another request in flight");
      return;
    }
    const at = this.pending.find(id);
    if (at >= 0 || this.hasRejection(id)) {
      if (this.codec.repliesInOrder()) { this.queue.push(new Queued(id, packed, null)); return; }
      if (at >= 0) this.account.give(PENDING_ENTRY_BYTES); // replaced, not added
      this.pending.set(id, packed);
      return;
    }
    this.pending.add(id, packed);
  }

  /** The reply for `id` was matched: the next same-id request in flight (if any) is next in line. */
  private promote(id: u64): void {
    const q = this.queuedList;
    if (q == null) return;
    for (let i = 0; i < q.length; i++) {
      const e = unchecked(q[i]);
      if (e.id != id) continue;
      q.splice(i, 1);
      if (e.rejection != null) this.rejections.set(id, e.rejection!); else this.pending.set(id, e.packed);
      return;
    }
  }

  /**
   * First request: pick the service, the route and the cluster for the whole connection. A root
   * that knows newer rules binds by them (the connection would be drained otherwise).
   */
  private bind(md: Metadata): Route | null {
    this.bound = true;
    const cfg = this.root.bindingConfig();
    if (cfg.services.length == 0) return null;
    let dst: string | null = null;
    if (this.root.needsAddresses) {
      const a = getPropertyString("destination.address");
      if (a != null) dst = ipOf(a);
    }
    if (this.cfg.drainOnRuleChange) { this.bindMd = md.clone(); this.bindDst = dst; }
    const svc = selectService(cfg, md, dst);
    this.service = svc;
    if (svc == null) return null;
    const route = matchRoute(svc, md);
    let cluster = route != null ? route.pickCluster(this.root.random()) : "";
    if (cluster.length == 0) cluster = svc.defaultCluster;
    this.setCluster(cluster);
    return route;
  }

  /**
   * Envoy lets us write toward the client only inside on_upstream_data, so a rejected request is
   * replaced by a probe the upstream answers at once with the same id; that answer is then
   * rewritten into the error reply. Oneway requests expect no reply and are only dropped.
   */
  private reject(loop: FrameLoop, md: Metadata, error: ErrorType, message: string): Verdict {
    const rec = this.rec;
    if (rec != null) this.tel!.rejected(rec, error, this.root.nowNs(), this.cluster);
    loop.repl.clear();
    this.releaseHeld(loop.repl);
    if (md.messageType == MessageType.Oneway) return loop.repl.len > 0 ? Verdict.Replace : Verdict.Drop;
    this.root.stats.inc(Stat.LocalReply);
    const inFlight = this.hasRejection(md.requestId) || this.pending.has(md.requestId);
    if (inFlight && !this.codec.repliesInOrder()) {
      // The id is already in flight: a second probe could not be told apart. Close instead.
      log(LogLevel.Warn, "metaprotocol: duplicate request id " + md.requestId.toString() + "; closing connection");
      this.closing = true;
      return Verdict.Drop;
    }
    const r = new Rejection(md.clone(), error, message);
    if (!this.account.take(r.bytes)) {
      this.fatal(Stat.HeldBytesOverflow, "the VM's held-bytes budget (maxHeldBytes) is full: no room to keep a rejected request");
      return Verdict.Drop;
    }
    if (this.codec.probe(md, loop.repl)) {
      // Replies come in order: the probe's answer is told apart by its place in line.
      if (inFlight) this.queue.push(new Queued(md.requestId, 0, r));
      else this.rejections.set(md.requestId, r);
      return Verdict.Replace;
    }
    // No probe in this protocol: the reply waits for the next upstream callback, which only
    // comes if a request is in flight; otherwise close so the client fails fast.
    this.orphans.push(r);
    if (this.pending.size == 0) {
      log(LogLevel.Info, "metaprotocol: " + errorTypeName(error) + " (" + message + "); protocol has no probe, closing connection");
      this.closing = true;
    }
    return loop.repl.len > 0 ? Verdict.Replace : Verdict.Drop;
  }

  private onResponse(loop: FrameLoop, md: Metadata, len: i32): Verdict {
    if (!md.isReply) return Verdict.Keep; // upstream-initiated heartbeat or request
    const id = md.requestId;
    if (this.hasRejection(id)) {
      const r = this.rejections.get(id);
      this.rejections.delete(id);
      this.account.give(r.bytes);
      if (this.queuedList != null) this.promote(id);
      loop.repl.clear();
      this.codec.onError(r.md, r.error, r.message, loop.repl);
      return Verdict.Replace;
    }
    if (md.messageType == MessageType.Heartbeat) return Verdict.Keep;
    const stats = this.root.stats;
    stats.inc(Stat.ResponseTotal);
    const failed = md.responseStatus == ResponseStatus.Error || md.messageType == MessageType.Error;
    if (failed) stats.inc(Stat.ResponseError);
    if (this.tel != null) this.tel!.response(md, len, failed, this.root.nowNs(), this.cluster);
    const at = this.pending.find(id);
    if (at < 0) { stats.inc(Stat.UnmatchedResponse); return Verdict.Keep; }
    const packed = this.pending.valueAt(at);
    this.pending.deleteAt(at);
    this.account.give(PENDING_ENTRY_BYTES);
    if (this.queuedList != null) this.promote(id);
    if (md.responseStatus == ResponseStatus.Error || md.messageType == MessageType.Error) stats.incMethodError(methodSlotOf(packed));
    const slot = routeSlotOf(packed);
    if (slot < 0) return Verdict.Keep;
    const route = this.root.routeAt(slot);
    if (route.responseMutation.length == 0) return Verdict.Keep;
    loop.repl.clear();
    if (this.codec.encode(md, route.responseMutation, loop.src + <usize>loop.pos, len, loop.repl)) {
      stats.inc(Stat.MutationApplied);
      return Verdict.Replace;
    }
    this.mutationRefused(route.name, "response");
    return Verdict.Keep;
  }

  /**
   * Error replies for every request still in flight when the upstream ended. The codec writes
   * them from the connection's last request (a protocol's replies are alike but for the id).
   */
  private answerPending(loop: FrameLoop): void {
    const ids = this.pending.keys();
    const md = this.reqMd;
    md.messageType = MessageType.Request;
    md.isReply = false;
    for (let i = 0; i < ids.length; i++) {
      md.requestId = ids[i];
      loop.repl.clear();
      this.codec.onError(md, ErrorType.NoHealthyUpstream, "the upstream closed the connection before answering", loop.repl);
      loop.append(loop.repl.ptr, loop.repl.len);
      this.root.stats.inc(Stat.UpstreamClosedReply);
    }
    // Same-id requests queued behind those (replies in order) are in flight too.
    const q = this.queue;
    let tracked = ids.length;
    for (let i = 0; i < q.length; i++) {
      const e = unchecked(q[i]);
      loop.repl.clear();
      const r = e.rejection;
      if (r != null) {
        this.codec.onError(r.md, r.error, r.message, loop.repl);
        this.account.give(r.bytes);
      } else {
        md.requestId = e.id;
        tracked++;
        this.codec.onError(md, ErrorType.NoHealthyUpstream, "the upstream closed the connection before answering", loop.repl);
        this.root.stats.inc(Stat.UpstreamClosedReply);
      }
      loop.append(loop.repl.ptr, loop.repl.len);
    }
    this.account.give(<i64>tracked * PENDING_ENTRY_BYTES);
    q.length = 0;
    this.pending.clear();
  }

  /** Counted every time; logged once per connection so a busy connection cannot flood the log. */
  private mutationRefused(route: string, direction: string): void {
    this.root.stats.inc(Stat.MutationUnsupported);
    if (this.mutationWarned) return;
    this.mutationWarned = true;
    log(LogLevel.Warn, "metaprotocol." + this.cfg.statPrefix + ": connection " + this.connectionName() + ": route '" + route +
      "' has a " + direction + " mutation but this " + this.codec.name() + " frame has no place for it; forwarded unchanged (counted in mutation_unsupported)");
  }

  /**
   * Keeps a heartbeat that came before the first request. A connection may keep at most
   * MAX_HELD_HEARTBEAT_BYTES of them (a real client sends one a minute); more is a flood.
   */
  private hold(frame: usize, len: i32): void {
    const held = this.held;
    if (held.len > 0 && held.len + len > MAX_HELD_HEARTBEAT_BYTES) {
      this.fatal(Stat.HeartbeatOverflow, "more than " + MAX_HELD_HEARTBEAT_BYTES.toString() + " bytes of heartbeats before the first request");
      return;
    }
    const need = <i64>held.len + <i64>len;
    if (need > <i64>held.cap) {
      const cap = ByteBuf.grownCapacity(held.cap, need, <i64>MAX_HELD_HEARTBEAT_BYTES);
      if (!this.account.take(cap - <i64>held.cap)) {
        this.fatal(Stat.HeldBytesOverflow, "the VM's held-bytes budget (maxHeldBytes) is full: no room for a held heartbeat");
        return;
      }
      held.resize(<i32>cap);
    }
    held.writeBytes(frame, len);
  }

  /** The held heartbeats go out in front of `repl`; their memory is given back. */
  private releaseHeld(repl: ByteBuf): void {
    const held = this.held;
    if (held.len == 0) return;
    repl.writeBytes(held.ptr, held.len);
    this.account.give(<i64>held.cap);
    held.free();
  }

  private fatal(stat: Stat, why: string): void {
    if (this.fatalStat != Stat.Count) return;
    this.fatalStat = stat;
    this.fatalWhy = why;
  }

  private overBudget(loop: FrameLoop, what: string): Action {
    return this.broken(loop, Stat.HeldBytesOverflow, "the VM's held-bytes budget (maxHeldBytes) is full: no room to hold a partial " + what + " frame");
  }

  /** A broken frame closes this connection only; it is counted and logged, nothing traps. */
  private broken(loop: FrameLoop, stat: Stat, why: string): Action {
    this.root.stats.inc(stat);
    log(LogLevel.Warn, "metaprotocol." + this.cfg.statPrefix + ": connection " + this.connectionName() + ": " + why + "; closing");
    loop.discard();
    this.closing = true;
    this.root.endCallback();
    closeStream(StreamType.Downstream);
    return this.bound || !this.root.needsBinding ? Action.Continue : Action.Pause;
  }

  /**
   * The client half-closed. A held partial frame can never complete, and an unbound connection
   * will never get an upstream: close instead of lingering until tcp_proxy's idle timeout.
   */
  private onClientEnd(loop: FrameLoop): void {
    if (loop.tail.len > 0) {
      this.root.stats.inc(Stat.RequestTruncated);
      if (logEnabled(LogLevel.Debug)) log(LogLevel.Debug, "metaprotocol." + this.cfg.statPrefix + ": connection " + this.connectionName() +
        ": client closed inside a frame (" + loop.tail.len.toString() + " bytes held)");
      loop.tail.clear();
      this.closing = true;
    } else if (!this.bound && this.root.needsBinding) {
      this.closing = true;
    }
  }

  /**
   * The connection as Envoy names it in its own logs ([C<id>]); context ids are per VM, so two
   * workers' connections can share one. Read only when a line is logged.
   */
  private get rejections(): Map<u64, Rejection> {
    let m = this.rejectionsMap;
    if (m == null) { m = new Map<u64, Rejection>(); this.rejectionsMap = m; }
    return m;
  }
  private get orphans(): Rejection[] {
    let l = this.orphansList;
    if (l == null) { l = []; this.orphansList = l; }
    return l;
  }
  private get queue(): Queued[] {
    let l = this.queuedList;
    if (l == null) { l = []; this.queuedList = l; }
    return l;
  }
  private hasRejection(id: u64): bool { const m = this.rejectionsMap; return m != null && m.has(id); }

  private connectionName(): string {
    const id = getPropertyU64("connection.id", 0);
    return id != 0 ? id.toString() : "ctx" + this.id.toString();
  }

  // ---- for the global rate limit gate (globalratelimit/gate.ts) ----

  /** Moves the heartbeats held before the first request into `out` (a held request carries them). */
  takeHeld(out: ByteBuf): void { this.releaseHeld(out); }

  /** The probe that would replace this request if it is denied; false when there is none. */
  probeFor(md: Metadata, out: ByteBuf): bool { return md.messageType == MessageType.Request && this.codec.probe(md, out); }

  /** A held request was allowed: it goes upstream as forward() prepared it. */
  commitForward(c: Check): void {
    const md = c.md;
    this.commit(md.requestId, md.messageType == MessageType.Request, c.route, c.methodSlot, c.rec);
    if (c.mutated) this.root.stats.inc(Stat.MutationApplied);
    if (this.fatalStat != Stat.Count) this.closing = true; // over the held-bytes budget
  }

  /**
   * A held request was denied (over the limit, or the service failed under denyOnFail). True
   * when its probe goes upstream in its place; its error reply then rides on the probe's answer.
   */
  commitDeny(c: Check): bool {
    const md = c.md;
    const stats = this.root.stats;
    stats.inc(Stat.OverLimit);
    if (c.rec != null) this.tel!.rejected(c.rec!, ErrorType.OverLimit, this.root.nowNs(), this.cluster);
    if (md.messageType == MessageType.Oneway) return false;
    stats.inc(Stat.LocalReply);
    const id = md.requestId;
    if (this.hasRejection(id) || this.pending.has(id)) {
      log(LogLevel.Warn, "metaprotocol: duplicate request id " + id.toString() + "; closing connection");
      this.closing = true;
      return false;
    }
    const svc = this.service != null ? this.service!.name : "";
    const r = new Rejection(md, ErrorType.OverLimit, c.failed
      ? "rate limit service unavailable for service " + svc + " (denyOnFail)"
      : "global rate limit exceeded for service " + svc);
    if (!this.account.take(r.bytes)) {
      stats.inc(Stat.HeldBytesOverflow);
      this.closing = true;
      return false;
    }
    if (c.hasProbe) { this.rejections.set(id, r); return true; }
    this.orphans.push(r);
    if (this.pending.size == 0) this.closing = true;
    return false;
  }

  /** The incomplete frame held while paused becomes the read loop's tail again. */
  resumeWithTail(tail: ByteBuf): void {
    if (this.down.restoreTail(tail)) return;
    this.root.stats.inc(Stat.HeldBytesOverflow);
    this.closing = true;
  }

  /** After the held buffer was rewritten (before continue_stream). */
  resumed(eos: bool): void {
    if (eos) this.onClientEnd(this.down);
    this.root.endCallback();
  }

  get isClosing(): bool { return this.closing; }

  /** The end of a callback that was not a data callback (the clock is read anew next time). */
  endCallback(): void { this.root.endCallback(); }

  /** Whether `cfg` would bind this connection as it is bound; true when it is not bound yet. */
  bindingAllowedBy(cfg: PluginConfig, atConnection: bool): bool {
    if (!this.bound || this.closing || this.passthrough) return true;
    const md = this.bindMd;
    if (md == null && !atConnection) return true; // bound without routing rules to compare
    return bindingAllowed(cfg, md != null ? md : NO_REQUEST, this.bindDst, atConnection, this.cluster);
  }

  /** Nothing in flight in either direction, no partial frame held, not waiting for the rate limit service. */
  idle(): bool {
    const r = this.rejectionsMap;
    const gate = this.gate;
    return this.pending.size == 0 && (r == null || r.size == 0) && (this.queuedList == null || this.queuedList!.length == 0) &&
      this.down.tail.len == 0 && this.up.tail.len == 0 && (gate == null || !gate.paused);
  }

  /** The root closed this connection: Envoy gave it no upstream connection in time (upstream-watch.ts). */
  upstreamTimedOut(): void {
    this.closing = true;
    this.root.stats.inc(Stat.UpstreamConnectTimeout);
  }

  /** The root closed this connection (drain): no more bytes reach the upstream. */
  drainClosed(): void {
    this.closing = true;
    this.root.stats.inc(Stat.DrainClose);
  }

  onDownstreamClose(peer: u32): void {
    // Envoy does not cancel a callout when its connection closes: its answer would find nobody.
    if (this.gate != null) this.gate!.cancelAll();
  }
  onUpstreamClose(peer: u32): void {}

  /**
   * Closing allocates nothing unless debug logging is on: thousands of connections closing at
   * once must not pile up garbage faster than the collector (it runs between callbacks) frees
   * it: the allocator would double the memory, which a Wasm VM never gives back. The tables go
   * with the connection object.
   */
  onDone(): void {
    this.root.stats.activeDelta--;
    this.root.drainer.remove(this);
    this.root.upstreamWatch.remove(this);
    if (logEnabled(LogLevel.Debug)) {
      log(LogLevel.Debug, "metaprotocol." + this.cfg.statPrefix + ": connection " + this.connectionName() +
        " closed: requests=" + this.requests.toString() + " cluster=" + (this.cluster.length > 0 ? this.cluster : "(tcp_proxy default)") +
        " in_flight=" + this.pending.size.toString());
    }
    if (this.gate != null) { this.gate!.cancelAll(); this.gate!.loop.free(); }
    if (this.tel != null) this.tel!.close(this.root.nowNs(), this.cluster);
    this.root.endCallback();
    this.down.free(); this.up.free(); this.held.free();
    const q = this.queuedList;
    if (q != null) q.length = 0;
    this.account.releaseAll();
  }
}

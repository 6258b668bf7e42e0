// Rule changes that reach open connections. A root that learns of newer rules (rules-update.ts)
// reviews each of its bound connections: one the newer rules would bind to another cluster is
// drained, that is closed at a request boundary with nothing in flight (its client reconnects
// and the newest root binds it by the new rules): once nothing is in flight and neither the
// client nor the server has sent a byte for QUIET_MS. Like any server-side close, it can meet a
// request the client writes at that very instant; waiting for a silence keeps that rare for
// clients that pause between calls. A connection that finds no silence within the drain window
// (a client that always has calls in flight) answers its new requests with error replies until
// nothing is in flight, then closes: no request it sent goes unanswered.
// Counted: downstream_cx_drain_close, drain_rejected.
import { PluginConfig, parsePluginConfig } from "./config";
import { LogLevel, StreamType, closeStream, log, setEffectiveContext } from "../abi/host";
import { MetaConnection } from "./connection";

/** How long a draining connection must have been silent (both ways) before it is closed. */
export const QUIET_MS: u64 = 20;
/** A root with draining connections ticks this often (then its own period again). */
export const DRAIN_TICK_MS: u32 = 5;

export class Drainer {
  private first: MetaConnection | null = null;
  /** Connections now draining. */
  active: i32 = 0;
  /** Newer rules than the root's own (null when the root's are the newest). */
  newest: PluginConfig | null = null;
  newestText: string = "";
  closed: i64 = 0;

  add(c: MetaConnection): void {
    c.nextConn = this.first;
    if (this.first != null) this.first!.prevConn = c;
    this.first = c;
  }

  remove(c: MetaConnection): void {
    if (c.draining) { c.draining = false; this.active--; }
    const p = c.prevConn, n = c.nextConn;
    if (p != null) p.nextConn = n; else if (this.first === c) this.first = n;
    if (n != null) n.prevConn = p;
    c.prevConn = null; c.nextConn = null;
  }

  /**
   * Newer rules were published. `own` is the root's own config text: rules equal to it (a
   * rollback to this root's rules) review the connections against `ownConfig`, so those bound by
   * the rules in between drain and the others' drains are cancelled. Returns false when the
   * rules do not parse here (another module version may accept more): the root keeps its own then.
   */
  learn(json: string, own: string, ownConfig: PluginConfig, protocol: string, atConnection: bool, nowMs: u64): bool {
    if (json == own) {
      // The root's own rules are the newest again: connections bound by the rules it had
      // learned meanwhile are reviewed against its own (the others' drains are cancelled).
      this.newest = null;
      this.newestText = "";
      this.review(ownConfig, atConnection, nowMs);
      return true;
    }
    if (json == this.newestText) return true;
    const r = parsePluginConfig(json, protocol);
    if (r.config == null) {
      log(LogLevel.Warn, "metaprotocol: newer rules for this plugin do not parse here (" + r.error + "); open connections keep theirs");
      return false;
    }
    this.newest = r.config;
    this.newestText = json;
    this.review(r.config!, atConnection, nowMs);
    return true;
  }

  private review(cfg: PluginConfig, atConnection: bool, nowMs: u64): void {
    const drain = cfg.drainOnRuleChange;
    let c = this.first;
    while (c != null) {
      const wanted = drain && !c.bindingAllowedBy(cfg, atConnection);
      if (wanted && !c.draining) {
        c.draining = true;
        c.drainRejecting = false;
        c.drainDeadlineMs = nowMs + <u64>cfg.drainWindowMs;
        c.lastActivityMs = nowMs; // silence is measured from now on
        this.active++;
      } else if (!wanted && c.draining) {
        c.draining = false;
        c.drainRejecting = false;
        this.active--;
      }
      c = c.nextConn;
    }
  }

  /** On the root's tick: close the draining connections that are quiet; start rejecting past the window. */
  step(nowMs: u64, rootId: u32): void {
    if (this.active == 0) return;
    let c = this.first;
    let acted = false;
    while (c != null) {
      const next = c.nextConn;
      if (c.draining) {
        if (c.idle() && nowMs >= c.lastActivityMs + QUIET_MS) {
          // Envoy closes after this callback returns (FlushWrite): nothing is in flight.
          setEffectiveContext(c.id);
          closeStream(StreamType.Downstream);
          acted = true;
          c.draining = false;
          this.active--;
          this.closed++;
          c.drainClosed();
        } else if (!c.drainRejecting && nowMs >= c.drainDeadlineMs) {
          c.drainRejecting = true;
        }
      }
      c = next;
    }
    if (acted) setEffectiveContext(rootId);
  }
}

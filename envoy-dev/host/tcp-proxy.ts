// Envoy's tcp_proxy, as the terminal read filter: picks its cluster when it connects
// (filter state envoy.tcp_proxy.cluster overrides `cluster`), connects IMMEDIATE or
// ON_DOWNSTREAM_DATA (buffering up to max_early_data_bytes), and relays both directions
// with end_stream passed through.
import { connect, type Socket } from "node:net";
import { ByteQueue } from "./byte-queue.ts";
import type { ClusterManager, Cluster } from "./cluster.ts";
import type { TcpProxyConfig } from "./config.ts";
import { CONTINUE, STOP, type Connection, type FilterStatus, type ReadFilter } from "./connection.ts";
import type { StatsStore } from "./stats.ts";

export const CLUSTER_FILTER_STATE = "envoy.tcp_proxy.cluster";

export class TcpProxy implements ReadFilter {
  private upstream: Socket | null = null;
  private cluster: Cluster | null = null;
  private connected = false;
  private done = false;
  /** The cluster tcp_proxy routes to, picked in onNewConnection (pickRoute). */
  private routeName = "";
  private early = new ByteQueue();
  private earlyEnd = false;
  private initialData = false;
  private earlyReadDisabled = false;
  private initReadDisabled = false;
  /** The upstream connection's read buffer: bytes the write filters have not let through. */
  private upstreamRead = new ByteQueue();
  private upstreamPausedForLimit = false;
  /** Cancels a connection request queued by the per-host circuit breaker (Cluster.waitForHost). */
  private cancelWait: (() => void) | null = null;

  constructor(private conn: Connection, private cfg: TcpProxyConfig, private clusters: ClusterManager, private stats: StatsStore,
    private log: (level: number, line: string) => void = () => {}) {
    for (const s of ["downstream_cx_total", "downstream_cx_no_route", "downstream_cx_rx_bytes_total", "downstream_cx_tx_bytes_total"]) {
      stats.ensureCounter(this.stat(s));
    }
    // Envoy's initialize(): counted when the filter is added, and without early data allowed
    // reading is disabled at once, before any filter's onNewConnection. A filter in front that
    // pauses onNewConnection therefore never sees a byte with IMMEDIATE and no early data.
    stats.inc(this.stat("downstream_cx_total"));
    if (cfg.maxEarlyDataBytes === null) { this.initReadDisabled = true; conn.readDisable(true); }
    conn.onClose(() => this.onDownstreamClose());
    conn.onWriteWatermark((above) => {
      if (!this.upstream) return;
      if (above) this.upstream.pause(); else if (!this.upstreamPausedForLimit) this.upstream.resume();
    });
  }

  private stat(s: string): string { return `tcp.${this.cfg.statPrefix}.${s}`; }

  onNewConnection(): FilterStatus {
    // pickRoute() runs here in both modes: filter state set later (after a filter in front let
    // onNewConnection through) does not change the cluster, as in Envoy.
    const state = this.conn.filterState.get(CLUSTER_FILTER_STATE);
    this.routeName = typeof state === "string" ? state : state ? Buffer.from(state).toString("utf8") : this.cfg.cluster;
    if (this.cfg.connectMode === "IMMEDIATE") this.establish();
    return this.cfg.maxEarlyDataBytes !== null ? CONTINUE : STOP;
  }

  onData(buf: ByteQueue, endStream: boolean): FilterStatus {
    this.stats.inc(this.stat("downstream_cx_rx_bytes_total"), buf.length);
    if (this.connected && this.upstream) {
      this.sendUpstream(buf.take(), endStream);
      return STOP;
    }
    if (this.done) { buf.take(); return STOP; }
    this.early.append(buf.take());
    this.earlyEnd ||= endStream;
    // ON_DOWNSTREAM_DATA connects on the first byte (not on a bare end of stream).
    if (!this.initialData && !(endStream && this.early.length === 0)) {
      this.initialData = true;
      if (this.cfg.connectMode === "ON_DOWNSTREAM_DATA") this.establish();
    }
    const max = this.cfg.maxEarlyDataBytes ?? 0;
    if (!this.earlyReadDisabled && this.early.length >= max) {
      this.earlyReadDisabled = true;
      this.conn.readDisable(true);
    }
    return STOP;
  }

  private sendUpstream(data: Buffer, end: boolean): void {
    const up = this.upstream!;
    if (data.length) {
      this.stats.inc(this.cluster!.stat("upstream_cx_tx_bytes_total"), data.length);
      if (!up.write(data)) {
        this.conn.readDisable(true);
        up.once("drain", () => this.conn.readDisable(false));
      }
    }
    if (end) up.end();
  }

  private establish(): void {
    const name = this.routeName;
    const cluster = this.clusters.get(name);
    if (!cluster) {
      this.stats.inc(this.stat("downstream_cx_no_route"));
      this.log(3, `[warning] [tcp_proxy ${this.cfg.statPrefix}] connection ${this.conn.id}: no cluster named ${name}; closing`);
      this.fail();
      return;
    }
    this.cluster = cluster;
    this.conn.clusterName = name;
    // Envoy checks the cluster's max_connections here, before the pool, and closes at once.
    if (!cluster.canCreate()) {
      this.stats.inc(cluster.stat("upstream_cx_overflow"));
      this.log(3, `[warning] [tcp_proxy ${this.cfg.statPrefix}] connection ${this.conn.id}: cluster ${name} is at circuit_breakers max_connections; closing`);
      this.fail();
      return;
    }
    cluster.pick().then((ep) => {
      if (this.done || this.conn.state !== "open") return;
      if (!ep) {
        this.stats.inc(cluster.stat("upstream_cx_none_healthy"));
        this.log(3, `[warning] [tcp_proxy ${this.cfg.statPrefix}] connection ${this.conn.id}: cluster ${name} has no endpoint that resolves; closing`);
        this.fail();
        return;
      }
      const go = () => {
        this.cancelWait = null;
        if (!this.done && this.conn.state === "open") this.connectTo(cluster, ep.host, ep.port);
        else cluster.hostReleased(ep.host, ep.port); // gone meanwhile: the next in line may have it
      };
      this.cancelWait = cluster.waitForHost(ep.host, ep.port, go);
      if (!this.cancelWait) go();
    }, () => this.fail());
  }

  private connectTo(cluster: Cluster, host: string, port: number): void {
    cluster.active++;
    this.stats.inc(cluster.stat("upstream_cx_total"));
    this.stats.gaugeAdd(cluster.stat("upstream_cx_active"), 1);
    const hs = cluster.hostStats(host, port);
    hs.cx_total++;
    hs.cx_active++;
    const up = connect({ host, port, allowHalfOpen: true });
    this.upstream = up;
    const timer = setTimeout(() => {
      this.stats.inc(cluster.stat("upstream_cx_connect_timeout"));
      up.destroy(new Error("connect timeout"));
    }, cluster.config.connectTimeoutMs);
    timer.unref();
    up.once("connect", () => {
      clearTimeout(timer);
      this.connected = true;
      this.conn.upstreamAddress = up.remoteAddress ?? host;
      this.conn.upstreamPort = up.remotePort ?? port;
      const early = this.early.take();
      if (early.length || this.earlyEnd) this.sendUpstream(early, this.earlyEnd);
      if (this.earlyReadDisabled) { this.earlyReadDisabled = false; this.conn.readDisable(false); }
      if (this.initReadDisabled) { this.initReadDisabled = false; this.conn.readDisable(false); }
    });
    up.on("data", (chunk: Buffer) => {
      this.stats.inc(cluster.stat("upstream_cx_rx_bytes_total"), chunk.length);
      this.upstreamRead.append(chunk);
      this.toDownstream(false);
    });
    up.on("end", () => this.toDownstream(true));
    up.on("error", (e) => {
      if (this.connected) return;
      clearTimeout(timer);
      this.stats.inc(cluster.stat("upstream_cx_connect_fail"));
      hs.cx_connect_fail++;
      // Envoy logs this at debug only; the host says it plainly, a dead upstream being the usual
      // reason a local run "hangs up" at once.
      this.log(3, `[warning] [tcp_proxy ${this.cfg.statPrefix}] connection ${this.conn.id}: cannot reach ${cluster.name} at ${host}:${port}: ${(e as Error).message}; closing`);
    });
    up.on("close", () => {
      clearTimeout(timer);
      this.stats.gaugeAdd(cluster.stat("upstream_cx_active"), -1);
      hs.cx_active--;
      cluster.active--;
      cluster.hostReleased(host, port);
      this.stats.inc(cluster.stat("upstream_cx_destroy"));
      this.upstream = null;
      this.done = true;
      // Upstream gone (or never connected): close the client after what is queued is written.
      this.conn.close("flush");
    });
  }

  /** Upstream bytes go through the write filters; what they hold back stays queued here. */
  private toDownstream(end: boolean): void {
    const before = this.upstreamRead.length;
    this.conn.write(this.upstreamRead, end);
    this.stats.inc(this.stat("downstream_cx_tx_bytes_total"), Math.max(0, before - this.upstreamRead.length));
    const up = this.upstream;
    if (!up) return;
    const limit = this.conn.bufferLimit;
    if (!this.upstreamPausedForLimit && this.upstreamRead.length > limit) { this.upstreamPausedForLimit = true; up.pause(); }
    else if (this.upstreamPausedForLimit && this.upstreamRead.length <= limit / 2) { this.upstreamPausedForLimit = false; up.resume(); }
  }

  private fail(): void {
    this.done = true;
    this.conn.close("noflush");
  }

  private onDownstreamClose(): void {
    this.done = true;
    this.cancelWait?.();
    this.cancelWait = null;
    const up = this.upstream;
    if (!up) return;
    if (!this.connected) { up.destroy(); return; }
    // Envoy closes the upstream with FlushWrite.
    const t = setTimeout(() => up.destroy(), 1000);
    t.unref();
    up.once("finish", () => { clearTimeout(t); up.destroy(); });
    if (!up.writableEnded) up.end(); else if (up.writableFinished) up.destroy();
  }
}

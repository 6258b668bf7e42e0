// Runs a built module (build/<protocol>.wasm) in-process, without sockets: the local host's VM
// layer (envoy-dev/host: VM, plugin, ABI imports, shared data, stats) with a minimal network
// filter chain in front of an imaginary tcp_proxy. Bytes go in as calls; what the filter lets
// through comes back as bytes. For the fuzzer, memory measurements and budget tests: every
// callback is timed, memory is read from the instance, and a trap is reported, never thrown.
//
// The chain follows Envoy (see envoy-dev/host/wasm-filter.ts, which does the same over sockets):
// CONTINUE hands the whole buffer on, PAUSE leaves it in place and the next read appends to it,
// close_stream takes effect after the callback, done/log/delete run at close.
import { readFileSync } from "node:fs";
import { BufferType, PeerType, Status, StreamType } from "../host/abi.ts";
import { ByteQueue, NO_DATA, mutableBuffer } from "../host/byte-queue.ts";
import { withMemoryCap } from "../host/memory-cap.ts";
import { Plugin, VmSlot } from "../host/plugin.ts";
import { SharedData } from "../host/shared-data.ts";
import { StatsStore } from "../host/stats.ts";
import { CLUSTER_FILTER_STATE } from "../host/tcp-proxy.ts";
import type { DataBuffer, StreamHost, VmContext, VmEnv, WasmVm } from "../host/vm.ts";
import { checkSignatures } from "../host/wasm-signatures.ts";

const enc = new TextEncoder();
const CONTINUE = 0;
/** Envoy's default per-connection buffer limit: above it a paused connection stops reading. */
export const CONNECTION_BUFFER_LIMIT = 1 << 20;

export interface DriverOptions {
  /** Path of the .wasm file. */
  wasm: string;
  /** Plugin configuration (JSON text). */
  config: string;
  vmId?: string;
  rootId?: string;
  pluginName?: string;
  /** Module log lines at or above this level are kept (default 3 = warn). */
  logLevel?: number;
  /** Shared with other drivers: several VMs of one vm_id (Envoy's workers). */
  shared?: SharedData;
  stats?: StatsStore;
}

/** One callback's cost, for the fuzzer's "no callback over 100 ms" rule. */
export interface CallTiming { name: string; ms: number }

const compiled = new Map<string, WebAssembly.Module>();

function moduleOf(path: string): WebAssembly.Module {
  let m = compiled.get(path);
  if (!m) {
    const code = readFileSync(path);
    checkSignatures(code);
    m = new WebAssembly.Module(withMemoryCap(code) as Uint8Array<ArrayBuffer>);
    compiled.set(path, m);
  }
  return m;
}

export class InProcessProxy {
  readonly env: VmEnv;
  readonly logs: string[] = [];
  readonly slot: VmSlot;
  readonly plugin: Plugin;
  /** The slowest callback so far. */
  slowest: CallTiming = { name: "", ms: 0 };
  private nextConnectionId = 1;
  readonly open = new Set<InProcessConnection>();

  private constructor(readonly opts: DriverOptions) {
    const logs = this.logs;
    this.env = {
      stats: opts.stats ?? new StatsStore(), shared: opts.shared ?? new SharedData(), logLevel: opts.logLevel ?? 3,
      log(_level, line) { logs.push(line); if (logs.length > 2000) logs.splice(0, logs.length - 2000); },
    };
    const vmId = opts.vmId ?? "inprocess";
    this.slot = new VmSlot(moduleOf(opts.wasm), vmId, "", this.env);
    this.plugin = new Plugin(this.slot, {
      pluginName: opts.pluginName ?? "inprocess", rootId: opts.rootId ?? "inprocess", vmId, runtime: "envoy.wasm.runtime.v8",
      filename: opts.wasm, configuration: opts.config, vmConfiguration: "", failurePolicy: "FAIL_CLOSED", reloadBaseMs: 1000,
    }, "FAIL_CLOSED", this.env);
  }

  /** Starts a VM and configures the plugin; throws with the module's log when refused. */
  static start(opts: DriverOptions): InProcessProxy {
    const p = new InProcessProxy(opts);
    const why = p.plugin.startRoot(opts.config);
    if (why) { p.dispose(); throw new Error(`configuration refused: ${why}\n${p.logs.join("\n")}`); }
    return p;
  }

  get vm(): WasmVm { return this.slot.vm; }
  get failed(): boolean { return this.vm.failed; }
  get failReason(): string { return this.vm.failReason; }
  /** The VM's linear memory in bytes (only ever grows). */
  memoryBytes(): number { return (this.vm.exports.memory as WebAssembly.Memory).buffer.byteLength; }

  /** A config update: a new root context on the same VM (as Envoy does on ECDS). Null when accepted. */
  reconfigure(json: string): string | null { return this.plugin.startRoot(json); }

  /** Runs every root's on_tick once (the host's timers are not relied on: runs stay deterministic). */
  tick(): void {
    for (const c of [...this.vm.contexts.values()]) if (c.isRoot) this.call(c, "proxy_on_tick", [c.id]);
    for (const c of [...this.open]) c.settle();
  }

  connect(opts: { destination?: string; source?: string } = {}): InProcessConnection {
    return new InProcessConnection(this, this.nextConnectionId++, opts.destination ?? "10.0.0.1:20880", opts.source ?? "10.1.0.1:40000");
  }

  /** A module callback, timed. Null when the VM failed (trap). */
  call(ctx: VmContext, name: string, args: number[]): number | null {
    const t0 = performance.now();
    const r = this.vm.call(ctx, name, args);
    const ms = performance.now() - t0;
    if (ms > this.slowest.ms) this.slowest = { name, ms };
    return r;
  }

  /** A counter or gauge as the module named it (metaprotocol.<prefix>.<name>), 0 if absent. */
  stat(name: string): number {
    const full = "wasmcustom." + name;
    return this.env.stats.counters.get(full) ?? this.env.stats.gauges.get(full) ?? 0;
  }

  dispose(): void {
    for (const c of [...this.open]) c.close();
    this.plugin.shutdown();
    this.slot.vm.dispose();
  }
}

export class InProcessConnection implements StreamHost {
  private ctx: VmContext | null = null;
  private root: VmContext | null = null;
  private readBuf = new ByteQueue();
  private writeBuf = new ByteQueue();
  private reading: ByteQueue | null = null;
  private writing: ByteQueue | null = null;
  /** Bytes tcp_proxy received (toward the upstream) and the client received. */
  readonly toUpstream: Buffer[] = [];
  readonly toClient: Buffer[] = [];
  cluster: string | null = null;
  closed = false;
  closedByModule = false;
  /** The connection's read side was paused with more than the buffer limit held: Envoy stops reading. */
  stalled = false;
  private closeAfterCall = false;

  constructor(private proxy: InProcessProxy, readonly id: number, private destination: string, private source: string) {
    const a = proxy.plugin.admit();
    if (a.kind !== "filter") { this.closed = true; return; }
    this.root = a.root;
    this.ctx = a.vm.createStream(a.root, this);
    proxy.open.add(this);
    proxy.call(this.ctx, "proxy_on_context_create", [this.ctx.id, a.root.id]);
    this.callback("proxy_on_new_connection", [this.ctx.id]);
  }

  /** Client bytes arrive. Returns false when the connection is (or just got) closed. */
  downstream(bytes: Uint8Array, endOfStream = false): boolean {
    if (this.closed || !this.ctx) return false;
    if (this.stalled) return true; // Envoy stopped reading: the bytes wait in the socket
    this.readBuf.append(bytes);
    this.reading = this.readBuf;
    const r = this.callback("proxy_on_downstream_data", [this.ctx.id, this.readBuf.length, endOfStream ? 1 : 0]);
    if (this.closed) return false;
    if (r === CONTINUE) {
      this.reading = null;
      const out = this.readBuf.take();
      if (out.length) this.toUpstream.push(out);
    } else if (this.readBuf.length > CONNECTION_BUFFER_LIMIT) {
      this.stalled = true;
    }
    return !this.closed;
  }

  /** Upstream bytes arrive (toward the client). */
  upstream(bytes: Uint8Array, endOfStream = false): boolean {
    if (this.closed || !this.ctx) return false;
    this.writeBuf.append(bytes);
    this.writing = this.writeBuf;
    const r = this.callback("proxy_on_upstream_data", [this.ctx.id, this.writeBuf.length, endOfStream ? 1 : 0]);
    if (this.closed) return false;
    if (r === CONTINUE) {
      this.writing = null;
      const out = this.writeBuf.take();
      if (out.length) this.toClient.push(out);
    }
    return !this.closed;
  }

  /** Everything sent upstream so far, as one buffer (and forgets it). */
  takeUpstream(): Buffer { const b = Buffer.concat(this.toUpstream); this.toUpstream.length = 0; return b; }
  takeClient(): Buffer { const b = Buffer.concat(this.toClient); this.toClient.length = 0; return b; }

  /** The client (or the test) closes: close callbacks, then done/log/delete. */
  close(): void {
    if (this.closed) return;
    this.finish(PeerType.REMOTE);
  }

  private callback(name: string, args: number[]): number | null {
    const r = this.proxy.call(this.ctx!, name, args);
    if (this.proxy.failed) { this.finish(PeerType.LOCAL); return null; }
    this.settle();
    return r;
  }

  /** A close_stream the module asked for (in this connection's callback or from its root's tick) takes effect. */
  settle(): void {
    if (this.closeAfterCall && !this.closed) { this.closedByModule = true; this.finish(PeerType.LOCAL); }
  }

  private finish(peer: number): void {
    if (this.closed) return;
    this.closed = true;
    this.proxy.open.delete(this);
    const ctx = this.ctx, root = this.root, vm = this.proxy.vm;
    if (!ctx || !root) return;
    if (!vm.failed) {
      this.proxy.call(ctx, "proxy_on_downstream_connection_close", [ctx.id, peer]);
      this.proxy.call(ctx, "proxy_on_done", [ctx.id]);
      this.proxy.call(ctx, "proxy_on_log", [ctx.id]);
      this.proxy.call(ctx, "proxy_on_delete", [ctx.id]);
    }
    vm.contexts.delete(ctx.id);
    this.proxy.plugin.release(vm, root);
  }

  // ---- StreamHost ----
  getBuffer(type: number): DataBuffer | null {
    if (type === BufferType.DOWNSTREAM_DATA) return this.reading ? mutableBuffer(this.reading) : NO_DATA;
    if (type === BufferType.UPSTREAM_DATA) return this.writing ? mutableBuffer(this.writing) : NO_DATA;
    return null;
  }
  property(path: string[]): Uint8Array | null {
    switch (path.join("\0")) {
      case "source\0address": return enc.encode(this.source);
      case "destination\0address": return enc.encode(this.destination);
      case "connection\0id": { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(this.id), true); return b; }
    }
    return null;
  }
  setProperty(): number { return Status.OK; }
  setFilterState(key: string, value: string): number {
    if (key !== CLUSTER_FILTER_STATE) return Status.NOT_FOUND;
    this.cluster = value;
    return Status.OK;
  }
  continueStream(type: number): number { return type === StreamType.DOWNSTREAM ? Status.OK : Status.UNIMPLEMENTED; }
  closeStream(): number { this.closeAfterCall = true; return Status.OK; }
}

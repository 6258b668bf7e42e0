// Envoy's Wasm network filter for one connection: a stream context in the plugin's VM,
// read side (on_new_connection, on_downstream_data) and write side (on_upstream_data),
// close events, and the failure policy when the VM traps (cpp-host's CHECK_FAIL).
import { BufferType, PeerType, Status, StreamType } from "./abi.ts";
import { ByteQueue, mutableBuffer } from "./byte-queue.ts";
import { CONTINUE, STOP, type CloseEvent, type Connection, type FilterStatus, type ReadFilter, type WriteFilter } from "./connection.ts";
import type { Plugin } from "./plugin.ts";
import { CLUSTER_FILTER_STATE } from "./tcp-proxy.ts";
import type { DataBuffer, StreamHost, VmContext, WasmVm } from "./vm.ts";

const enc = new TextEncoder();

export class WasmNetworkFilter implements ReadFilter, WriteFilter, StreamHost {
  private vm: WasmVm | null = null;
  private root: VmContext | null = null;
  private ctx: VmContext | null = null;
  private passThrough = false;
  private downstreamData: ByteQueue | null = null;
  private upstreamData: ByteQueue | null = null;
  private destroyed = false;

  constructor(private plugin: Plugin, private conn: Connection) {
    conn.onClose((e) => this.onEvent(e));
    conn.onDestroy(() => this.onDestroy());
  }

  onNewConnection(): FilterStatus {
    const a = this.plugin.admit();
    if (a.kind === "closed") { this.conn.close("noflush"); return STOP; }
    if (a.kind === "open") { this.passThrough = true; return CONTINUE; }
    this.vm = a.vm;
    this.root = a.root;
    this.ctx = a.vm.createStream(a.root, this);
    if (a.vm.call(this.ctx, "proxy_on_context_create", [this.ctx.id, a.root.id]) === null) return this.failStream();
    const r = a.vm.call(this.ctx, "proxy_on_new_connection", [this.ctx.id]);
    return r === null ? this.failStream() : r === 0 ? CONTINUE : STOP;
  }

  onData(buf: ByteQueue, endStream: boolean): FilterStatus {
    if (this.passThrough) return CONTINUE;
    if (!this.vm || !this.ctx) return STOP;
    if (this.vm.failed) return this.failStream();
    this.downstreamData = buf;
    const r = this.vm.call(this.ctx, "proxy_on_downstream_data", [this.ctx.id, buf.length, endStream ? 1 : 0]);
    this.downstreamData = null;
    return r === null ? this.failStream() : r === 0 ? CONTINUE : STOP;
  }

  onWrite(buf: ByteQueue, endStream: boolean): FilterStatus {
    if (this.passThrough) return CONTINUE;
    if (!this.vm || !this.ctx) return STOP;
    if (this.vm.failed) return this.failStream();
    this.upstreamData = buf;
    let r = this.vm.call(this.ctx, "proxy_on_upstream_data", [this.ctx.id, buf.length, endStream ? 1 : 0]);
    this.upstreamData = null;
    // Envoy reports the upstream close when it sees end_stream on the write path.
    if (endStream && r !== null) {
      if (this.vm.call(this.ctx, "proxy_on_upstream_connection_close", [this.ctx.id, PeerType.UNKNOWN]) === null) r = null;
    }
    return r === null ? this.failStream() : r === 0 ? CONTINUE : STOP;
  }

  /** FAIL_OPEN lets the bytes through without the filter; otherwise the connection closes. */
  private failStream(): FilterStatus {
    if (this.plugin.policy === "FAIL_OPEN") { this.passThrough = true; return CONTINUE; }
    this.conn.close("noflush");
    return STOP;
  }

  private onEvent(e: CloseEvent): void {
    if (!this.vm || !this.ctx || this.vm.failed) return;
    this.vm.call(this.ctx, "proxy_on_downstream_connection_close", [this.ctx.id, e === "local" ? PeerType.LOCAL : PeerType.REMOTE]);
  }

  private onDestroy(): void {
    if (this.destroyed || !this.vm || !this.ctx || !this.root) return;
    this.destroyed = true;
    const { vm, ctx } = this;
    if (!vm.failed) {
      vm.call(ctx, "proxy_on_done", [ctx.id], 1);
      vm.call(ctx, "proxy_on_log", [ctx.id]);
      vm.call(ctx, "proxy_on_delete", [ctx.id]);
    }
    vm.contexts.delete(ctx.id);
    this.plugin.release(vm, this.root);
  }

  // ---- StreamHost: what the ABI may do on this connection ----
  getBuffer(type: number): DataBuffer | null {
    if (type === BufferType.DOWNSTREAM_DATA) return this.downstreamData ? mutableBuffer(this.downstreamData) : null;
    if (type === BufferType.UPSTREAM_DATA) return this.upstreamData ? mutableBuffer(this.upstreamData) : null;
    return null;
  }

  property(path: string[]): Uint8Array | null {
    const c = this.conn, s = c.socket;
    const key = path.join(".");
    switch (key) {
      case "source.address": return enc.encode(hostPort(s.remoteAddress, s.remotePort));
      case "source.port": return u64(s.remotePort ?? 0);
      case "destination.address": return enc.encode(hostPort(s.localAddress, s.localPort));
      case "destination.port": return u64(s.localPort ?? 0);
      case "connection.id": return u64(c.id);
      case "connection.mtls": return Uint8Array.of(0);
      case "connection.requested_server_name": return new Uint8Array(0);
      case "upstream.address": return c.upstreamAddress ? enc.encode(hostPort(c.upstreamAddress, c.upstreamPort)) : null;
      case "upstream.port": return c.upstreamAddress ? u64(c.upstreamPort) : null;
      case "xds.cluster_name": return c.clusterName !== null ? enc.encode(c.clusterName) : null;
    }
    const fs = c.filterState.get(key);
    if (fs === undefined) return null;
    return typeof fs === "string" ? enc.encode(fs) : fs;
  }

  setProperty(path: string, value: Uint8Array): number {
    // Envoy keeps module-set properties in filter state under the "wasm." prefix.
    this.conn.filterState.set(`wasm.${path.split("\0").join(".")}`, value.slice());
    return Status.OK;
  }

  setFilterState(key: string, value: string): number {
    if (key !== CLUSTER_FILTER_STATE) return Status.NOT_FOUND;
    this.conn.filterState.set(key, value);
    return Status.OK;
  }

  continueStream(type: number): number {
    if (type !== StreamType.DOWNSTREAM) return Status.UNIMPLEMENTED;
    this.vm?.addAfterCall(() => this.conn.continueReading(this));
    return Status.OK;
  }

  closeStream(_type: number): number {
    this.conn.close("flush");
    return Status.OK;
  }
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

function hostPort(addr: string | undefined, port: number | undefined): string {
  let a = addr ?? "";
  if (a.startsWith("::ffff:")) a = a.slice(7);
  return a.includes(":") ? `[${a}]:${port ?? 0}` : `${a}:${port ?? 0}`;
}

// Envoy's Wasm network filter for one connection: a stream context in the plugin's VM,
// read side (on_new_connection, on_downstream_data) and write side (on_upstream_data),
// close events, and the failure policy when the VM traps (cpp-host's CHECK_FAIL).
import { BufferType, PeerType, Status, StreamType } from "./abi.ts";
import { ByteQueue, NO_DATA, mutableBuffer } from "./byte-queue.ts";
import { CONTINUE, STOP, type CloseEvent, type Connection, type FilterStatus, type ReadFilter, type WriteFilter } from "./connection.ts";
import type { Plugin } from "./plugin.ts";
import { CLUSTER_FILTER_STATE } from "./tcp-proxy.ts";
import type { DataBuffer, StreamHost, VmContext, WasmVm } from "./vm.ts";

const enc = new TextEncoder();
const WASM_PROPERTY_PREFIX = "wasm.";

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
    if (a.kind === "closed") return this.failStream();
    if (a.kind === "open") { this.passThrough = true; return CONTINUE; }
    this.vm = a.vm;
    this.root = a.root;
    this.ctx = a.vm.createStream(a.root, this);
    a.vm.call(this.ctx, "proxy_on_context_create", [this.ctx.id, a.root.id]);
    if (a.vm.failed) return this.failStream(); // CHECK_FAIL before on_new_connection
    return this.status(a.vm.call(this.ctx, "proxy_on_new_connection", [this.ctx.id]));
  }

  onData(buf: ByteQueue, endStream: boolean): FilterStatus {
    if (this.passThrough) return CONTINUE;
    if (!this.vm || !this.ctx) return STOP;
    if (this.vm.failed) return this.failStream();
    this.downstreamData = buf;
    const r = this.status(this.vm.call(this.ctx, "proxy_on_downstream_data", [this.ctx.id, buf.length, endStream ? 1 : 0]));
    // Envoy forgets the buffer only on CONTINUE: after a PAUSE the module can still reach the
    // connection's read buffer (DOWNSTREAM_DATA) from its other callbacks.
    if (r === CONTINUE) this.downstreamData = null;
    return r;
  }

  onWrite(buf: ByteQueue, endStream: boolean): FilterStatus {
    if (this.passThrough) return CONTINUE;
    if (!this.vm || !this.ctx) return STOP;
    if (this.vm.failed) return this.failStream();
    this.upstreamData = buf;
    const r = this.status(this.vm.call(this.ctx, "proxy_on_upstream_data", [this.ctx.id, buf.length, endStream ? 1 : 0]));
    if (r === CONTINUE) this.upstreamData = null;
    // Envoy reports the upstream close when it sees end_stream on the write path.
    if (endStream) this.vm.call(this.ctx, "proxy_on_upstream_connection_close", [this.ctx.id, PeerType.UNKNOWN]);
    return r;
  }

  /**
   * A callback's answer. cpp-host checks for a failed VM again after the call (the second
   * CHECK_FAIL_NET in ContextBase::onDownstreamData/onUpstreamData): a trapping callback fails
   * its stream at once, so FAIL_CLOSED forwards none of that callback's bytes.
   */
  private status(r: number | null): FilterStatus {
    if (this.vm?.failed) return this.failStream();
    return r === 0 ? CONTINUE : STOP;
  }

  /**
   * cpp-host CHECK_FAIL on a failed VM: close (FlushWrite) and stop. Its fail-open branch reads
   * the legacy `fail_open` flag only, which Envoy 1.40 leaves false under failure_policy, so
   * even FAIL_OPEN closes the connections that were already on the VM (seen in Envoy 1.40);
   * FAIL_OPEN only lets new connections pass without the filter (Plugin.admit).
   */
  private failStream(): FilterStatus {
    this.conn.close("flush");
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
    if (type === BufferType.DOWNSTREAM_DATA) return this.downstreamData ? mutableBuffer(this.downstreamData) : NO_DATA;
    if (type === BufferType.UPSTREAM_DATA) return this.upstreamData ? mutableBuffer(this.upstreamData) : NO_DATA;
    return null;
  }

  property(path: string[]): Uint8Array | null {
    const c = this.conn, s = c.socket;
    // Segments, not dots: "source.address" as one segment is not source/address in Envoy.
    switch (path.join("\0")) {
      case "source\0address": return enc.encode(hostPort(s.remoteAddress, s.remotePort));
      case "source\0port": return u64(s.remotePort ?? 0);
      case "destination\0address": return enc.encode(hostPort(s.localAddress, s.localPort));
      case "destination\0port": return u64(s.localPort ?? 0);
      case "connection\0id": return u64(c.id);
      case "connection\0mtls": return Uint8Array.of(0);
      case "connection\0requested_server_name": return new Uint8Array(0);
      case "upstream\0address": return c.upstreamAddress ? enc.encode(hostPort(c.upstreamAddress, c.upstreamPort)) : null;
      case "upstream\0port": return c.upstreamAddress ? u64(c.upstreamPort) : null;
      case "xds\0cluster_name": return c.clusterName !== null ? enc.encode(c.clusterName) : null;
    }
    // Any other top-level name is looked up as filter state "wasm.<name>" (what
    // proxy_set_property stored); a value set that way has no sub-fields.
    if (path.length !== 1) return null;
    const v = c.filterState.get(WASM_PROPERTY_PREFIX + path[0]);
    return v instanceof Uint8Array ? v : null;
  }

  setProperty(path: string, value: Uint8Array): number {
    // Envoy keeps module-set properties in filter state under "wasm." + the raw path.
    this.conn.filterState.set(WASM_PROPERTY_PREFIX + path, value.slice());
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
    // Envoy defers the close to after the VM call (Context::closeStream, addAfterVmCallAction).
    this.vm?.addAfterCall(() => this.conn.close("flush"));
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

// A lean proxy-wasm host for the in-process benchmark: one VM, one root, one connection, and
// the host calls a network filter makes, each doing what Envoy's does (proxy_get_buffer_bytes
// copies the bytes into module memory through the module's malloc; proxy_set_buffer_bytes
// drains and prepends; filter state, metrics, shared data, properties) with as little work on
// the JavaScript side as possible, so the time measured is the module's. The local host
// (envoy-dev/host) is the full double of Envoy used by the tests; this one only feeds a
// connection's bytes in and checks what comes out (see bench.ts: every scenario's output is
// verified before it is timed).
import { readFileSync } from "node:fs";
import { BufferType, Status } from "../../host/abi.ts";
import { parseFilterStateArgs } from "../../host/filter-state.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const ROOT_ID = 1;
const CONN_ID = 2;

type Fn = (...a: any[]) => unknown;

const compiled = new Map<string, WebAssembly.Module>();
/** One compilation per file (as Envoy shares a module's code between its VMs). */
function compile(wasm: string | Uint8Array): WebAssembly.Module {
  if (typeof wasm !== "string") return new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  let m = compiled.get(wasm);
  if (!m) { m = new WebAssembly.Module(readFileSync(wasm)); compiled.set(wasm, m); }
  return m;
}

export interface BenchVmOptions {
  wasm: string | Uint8Array;
  config?: string;
  destination?: string;
  /** Hooks of a tracing build (ASC_RTRACE): allocator and collector events. */
  rtrace?: Record<string, Fn>;
}

export class BenchVm {
  readonly exports: Record<string, any>;
  private memory: WebAssembly.Memory;
  private u8: Uint8Array;
  private dv: DataView;
  /** The connection's current data buffer (what proxy_get_buffer_bytes reads), per direction. */
  private buf: [Uint8Array | null, Uint8Array | null] = [null, null];
  /** Set when the module rewrote the buffer in this callback. */
  rewritten: [Uint8Array | null, Uint8Array | null] = [null, null];
  private configuring = false;
  private config: Uint8Array;
  readonly logs: string[] = [];
  readonly counters = new Map<string, number>();
  private metricNames = new Map<number, string>();
  private nextMetric = 1;
  private shared = new Map<string, { value: Uint8Array; cas: number }>();
  cluster: string | null = null;
  closed = false;
  hostCalls = 0;
  /** Module memory the host asked for (buffer copies, properties): not the module's own allocations. */
  hostMallocs = 0;
  private malloc: (n: number) => number;

  constructor(private opts: BenchVmOptions) {
    this.config = enc.encode(opts.config ?? "");
    const mod = compile(opts.wasm);
    const env: Record<string, Fn> = this.imports();
    const imports: WebAssembly.Imports = { env: {}, rtrace: {}, wasi_snapshot_preview1: {} };
    for (const imp of WebAssembly.Module.imports(mod)) {
      if (imp.module === "rtrace" && opts.rtrace) { imports.rtrace[imp.name] = opts.rtrace[imp.name] ?? ((p: number) => p); continue; } // onstore returns the address
      if (imp.module === "wasi_snapshot_preview1" && imp.name === "random_get") { imports.wasi_snapshot_preview1.random_get = this.randomGet; continue; }
      if (imp.module !== "env" || !(imp.name in env)) throw new Error(`bench host: import ${imp.module}.${imp.name} is not provided`);
      (imports.env as Record<string, unknown>)[imp.name] = env[imp.name];
    }
    const inst = new WebAssembly.Instance(mod, imports);
    this.exports = inst.exports as Record<string, any>;
    this.memory = this.exports.memory as WebAssembly.Memory;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
    this.malloc = (this.exports.malloc ?? this.exports.proxy_on_memory_allocate) as (n: number) => number;
    (this.exports._initialize ?? this.exports._start)?.();
  }

  /** Root context, vm start, configure, then one connection. Throws when the config is refused. */
  start(): void {
    const ex = this.exports;
    ex.proxy_on_context_create(ROOT_ID, 0);
    ex.proxy_on_vm_start(ROOT_ID, 0);
    this.configuring = true;
    const ok = ex.proxy_on_configure(ROOT_ID, this.config.length);
    this.configuring = false;
    if (!ok) throw new Error(`configuration refused:\n${this.logs.join("\n")}`);
    ex.proxy_on_context_create(CONN_ID, ROOT_ID);
    ex.proxy_on_new_connection(CONN_ID);
  }

  private views(): void {
    if (this.u8.buffer !== this.memory.buffer) { this.u8 = new Uint8Array(this.memory.buffer); this.dv = new DataView(this.memory.buffer); }
  }

  /** Client bytes: the module's verdict (0 continue, 1 pause); rewritten[0] holds its rewrite, if any. */
  downstream(bytes: Uint8Array): number {
    this.buf[0] = bytes; this.rewritten[0] = null;
    const r = this.exports.proxy_on_downstream_data(CONN_ID, bytes.length, 0);
    this.buf[0] = null;
    return r;
  }

  upstream(bytes: Uint8Array): number {
    this.buf[1] = bytes; this.rewritten[1] = null;
    const r = this.exports.proxy_on_upstream_data(CONN_ID, bytes.length, 0);
    this.buf[1] = null;
    return r;
  }

  /** Runs the root's tick (counters are flushed to the host there). */
  tick(): void { this.exports.proxy_on_tick?.(ROOT_ID); }

  counter(suffix: string): number {
    for (const [k, v] of this.counters) if (k.endsWith(suffix)) return v;
    return 0;
  }

  close(): void {
    const ex = this.exports;
    ex.proxy_on_downstream_connection_close(CONN_ID, 2);
    ex.proxy_on_done(CONN_ID); ex.proxy_on_log(CONN_ID); ex.proxy_on_delete(CONN_ID);
  }

  /** wasi random_get (trace and span ids): Envoy's V8 host fills it from its random generator. */
  private randomGet = (ptr: number, len: number): number => {
    this.views();
    for (let i = 0; i < len; i++) this.u8[ptr + i] = (Math.random() * 256) | 0;
    return 0;
  };

  private str(ptr: number, len: number): string { this.views(); return dec.decode(this.u8.subarray(ptr, ptr + len)); }

  /** Copies bytes into fresh module memory (the module's malloc), as Envoy does. */
  private copyOut(bytes: Uint8Array, ptrPtr: number, lenPtr: number): number {
    const n = bytes.length;
    if (n > 0) this.hostMallocs++;
    const p = n > 0 ? this.malloc(n) >>> 0 : 0;
    this.views();
    if (n > 0) this.u8.set(bytes, p);
    this.dv.setUint32(ptrPtr, p, true);
    this.dv.setUint32(lenPtr, n, true);
    return Status.OK;
  }

  private imports(): Record<string, Fn> {
    const self = this;
    const data = (type: number): Uint8Array | null | undefined =>
      type === BufferType.DOWNSTREAM_DATA ? self.buf[0] : type === BufferType.UPSTREAM_DATA ? self.buf[1]
        : type === BufferType.PLUGIN_CONFIGURATION && self.configuring ? self.config : undefined;
    return {
      proxy_log(level: number, ptr: number, len: number) {
        if (level >= 3) { self.logs.push(self.str(ptr, len)); if (self.logs.length > 200) self.logs.shift(); }
        return Status.OK;
      },
      proxy_get_log_level(out: number) { self.views(); self.dv.setUint32(out, 3, true); return Status.OK; },
      proxy_get_buffer_bytes(type: number, start: number, max: number, ptrPtr: number, lenPtr: number) {
        self.hostCalls++;
        const b = data(type);
        if (b === undefined) return Status.NOT_FOUND;
        if (b === null) { self.views(); self.dv.setUint32(ptrPtr, 0, true); self.dv.setUint32(lenPtr, 0, true); return Status.OK; }
        const len = start >= b.length ? 0 : Math.min(max >>> 0, b.length - start);
        return self.copyOut(len === b.length ? b : b.subarray(start, start + len), ptrPtr, lenPtr);
      },
      proxy_set_buffer_bytes(type: number, start: number, length: number, ptr: number, len: number) {
        self.hostCalls++;
        if (type !== BufferType.DOWNSTREAM_DATA && type !== BufferType.UPSTREAM_DATA) return Status.BAD_ARGUMENT;
        const i = type === BufferType.DOWNSTREAM_DATA ? 0 : 1;
        const cur = self.rewritten[i] ?? self.buf[i];
        if (!cur) return Status.BAD_ARGUMENT;
        self.views();
        const add = self.u8.slice(ptr, ptr + len);
        if (start !== 0) return Status.BAD_ARGUMENT; // the framework only ever replaces from 0
        const rest = cur.subarray(Math.min(length, cur.length));
        const out = new Uint8Array(add.length + rest.length);
        out.set(add, 0); out.set(rest, add.length);
        self.rewritten[i] = out;
        return Status.OK;
      },
      proxy_get_current_time_nanoseconds(out: number) {
        self.views(); self.dv.setBigUint64(out, process.hrtime.bigint(), true); return Status.OK;
      },
      proxy_set_tick_period_milliseconds() { return Status.OK; },
      proxy_get_property(pathPtr: number, pathLen: number, ptrPtr: number, lenPtr: number) {
        const path = self.str(pathPtr, pathLen).split("\0").filter(Boolean).join(".");
        let v: Uint8Array | null = null;
        if (path === "destination.address") v = enc.encode(self.opts.destination ?? "10.0.0.1:20880");
        else if (path === "source.address") v = enc.encode("10.1.0.1:40000");
        else if (path === "plugin_root_id" || path === "plugin_name") v = enc.encode("bench");
        else if (path === "connection.id") { v = new Uint8Array(8); v[0] = CONN_ID; }
        return v ? self.copyOut(v, ptrPtr, lenPtr) : Status.NOT_FOUND;
      },
      proxy_set_property() { return Status.OK; },
      proxy_call_foreign_function(namePtr: number, nameLen: number, argsPtr: number, argsLen: number, retPtrPtr: number, retLenPtr: number) {
        const name = self.str(namePtr, nameLen);
        if (name !== "set_envoy_filter_state") return Status.NOT_FOUND;
        self.views();
        const a = parseFilterStateArgs(self.u8.slice(argsPtr, argsPtr + argsLen));
        if (!a) return Status.BAD_ARGUMENT;
        if (a.path === "envoy.tcp_proxy.cluster") self.cluster = a.value;
        self.dv.setUint32(retPtrPtr, 0, true); self.dv.setUint32(retLenPtr, 0, true);
        return Status.OK;
      },
      proxy_define_metric(type: number, namePtr: number, nameLen: number, idPtr: number) {
        const id = (self.nextMetric++ << 2) | type;
        const name = self.str(namePtr, nameLen);
        self.metricNames.set(id, name);
        if (!self.counters.has(name)) self.counters.set(name, 0);
        self.views(); self.dv.setUint32(idPtr, id, true);
        return Status.OK;
      },
      proxy_increment_metric(id: number, delta: bigint) {
        const name = self.metricNames.get(id >>> 0);
        if (name === undefined) return Status.NOT_FOUND;
        self.counters.set(name, (self.counters.get(name) ?? 0) + Number(delta));
        return Status.OK;
      },
      proxy_record_metric(id: number, value: bigint) {
        const name = self.metricNames.get(id >>> 0);
        if (name === undefined) return Status.NOT_FOUND;
        self.counters.set(name, Number(value));
        return Status.OK;
      },
      proxy_get_metric() { return Status.NOT_FOUND; },
      proxy_get_shared_data(keyPtr: number, keyLen: number, ptrPtr: number, lenPtr: number, casPtr: number) {
        const e = self.shared.get(self.str(keyPtr, keyLen));
        if (!e) return Status.NOT_FOUND;
        self.copyOut(e.value, ptrPtr, lenPtr);
        self.dv.setUint32(casPtr, e.cas, true);
        return Status.OK;
      },
      proxy_set_shared_data(keyPtr: number, keyLen: number, valPtr: number, valLen: number, cas: number) {
        const key = self.str(keyPtr, keyLen);
        const e = self.shared.get(key);
        if (cas !== 0 && e && e.cas !== cas) return Status.CAS_MISMATCH;
        self.views();
        self.shared.set(key, { value: self.u8.slice(valPtr, valPtr + valLen), cas: (e?.cas ?? 0) + 1 });
        return Status.OK;
      },
      proxy_continue_stream() { return Status.OK; },
      proxy_close_stream() { self.closed = true; return Status.OK; },
      proxy_set_effective_context() { return Status.OK; },
      proxy_done() { return Status.NOT_FOUND; },
      // gRPC callouts (global rate limit, trace and log export): no benchmark rule set makes one,
      // so a call is refused (the module counts it as failed) and shows up in the logs.
      proxy_grpc_call() { self.logs.push("bench host: proxy_grpc_call refused"); return Status.BAD_ARGUMENT; },
      proxy_grpc_cancel() { return Status.NOT_FOUND; },
    };
  }
}

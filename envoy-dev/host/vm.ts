// One Wasm VM (one instance of a module), the contexts living in it, and the rules for
// calling into it: start-up restriction, effective context, after-call actions, and
// "a trap fails the whole VM" as in proxy-wasm-cpp-host.
import { PROXY_IMPORTS, WASI_IMPORTS, WASI_MODULES, STARTUP_ALLOWED, LOG_LEVEL_NAMES, Status } from "./abi.ts";
import { proxyImports } from "./imports.ts";
import { wasiImports } from "./wasi.ts";
import type { StatsStore } from "./stats.ts";
import type { SharedData } from "./shared-data.ts";
import type { GrpcClient } from "./grpc.ts";

/** A byte buffer the module may read and (when mutable) rewrite with Envoy's rules. */
export interface DataBuffer {
  bytes(): Uint8Array;
  /** Envoy Buffer::copyFrom semantics; returns a Status. */
  set(start: number, length: number, data: Uint8Array): number;
}

/** What a stream (connection) context needs from the Envoy side. */
export interface StreamHost {
  getBuffer(type: number): DataBuffer | null;
  property(path: string[]): Uint8Array | null;
  setProperty(path: string, value: Uint8Array): number;
  setFilterState(key: string, value: string): number;
  continueStream(type: number): number;
  closeStream(type: number): number;
}

export interface PluginInfo {
  name: string;
  rootId: string;
  vmId: string;
  configuration: string;
}

export class VmContext {
  tickPeriodMs = 0;
  tickTimer: NodeJS.Timeout | null = null;
  /** Plugin configuration is readable only while on_configure runs. */
  configuring = false;
  pendingDone = false;
  constructor(
    readonly id: number,
    readonly root: VmContext | null,
    readonly plugin: PluginInfo,
    public host: StreamHost | null,
  ) {}
  get isRoot(): boolean { return this.root === null; }
  get rootContext(): VmContext { return this.root ?? this; }
}

export interface VmEnv {
  stats: StatsStore;
  shared: SharedData;
  logLevel: number;
  /** A formatted module log line. */
  log(level: number, line: string): void;
  /** How often each ABI function (host import or module callback) was called: for benchmarks. */
  abiCalls?: Map<string, number>;
  /** HTTP/2 client of gRPC callouts to the host's clusters (absent: no cluster to call). */
  grpc?: GrpcClient;
}

/** Thrown by a host function to abort the VM (Envoy fails the VM on these). */
export class VmAbort extends Error {}

export class WasmVm {
  instance!: WebAssembly.Instance;
  exports!: Record<string, unknown>;
  failed = false;
  failReason = "";
  starting = false;
  readonly contexts = new Map<number, VmContext>();
  current: VmContext | null = null;
  effective: VmContext | null = null;
  /** Metric ids as Envoy encodes them: the low 2 bits carry the type. */
  readonly metrics = new Map<number, { name: string; type: number }>();
  nextMetric = [0, 0, 0];
  private nextContextId = 1;
  private depth = 0;
  private afterCall: (() => void)[] = [];
  onFail: ((reason: string) => void)[] = [];

  constructor(readonly module: WebAssembly.Module, readonly vmId: string, readonly vmConfiguration: string, readonly env: VmEnv) {}

  /** Checks imports and the ABI version like Envoy does, then instantiates and starts the module. */
  static create(module: WebAssembly.Module, vmId: string, vmConfiguration: string, env: VmEnv): WasmVm {
    checkModule(module);
    const vm = new WasmVm(module, vmId, vmConfiguration, env);
    vm.instantiate();
    return vm;
  }

  private instantiate(): void {
    const imports: WebAssembly.Imports = { env: {}, wasi_snapshot_preview1: {}, wasi_unstable: {} };
    const proxy = proxyImports(this);
    const wasi = wasiImports(this);
    for (const imp of WebAssembly.Module.imports(this.module)) {
      const impl = imp.module === "env" ? proxy[imp.name] : wasi[imp.name];
      (imports[imp.module] as Record<string, unknown>)[imp.name] = this.guard(imp.name, impl);
    }
    this.starting = true;
    try {
      this.instance = new WebAssembly.Instance(this.module, imports);
      this.exports = this.instance.exports as Record<string, unknown>;
      const init = (this.exports._initialize ?? this.exports._start) as (() => void) | undefined;
      if (typeof init === "function") init();
    } catch (e) {
      throw new Error(`Wasm VM ${this.vmId} failed to start: ${errText(e)}`);
    } finally {
      this.starting = false;
    }
    if (!(this.exports.memory instanceof WebAssembly.Memory)) throw new Error("Wasm module does not export memory");
    if (typeof this.exports.malloc !== "function" && typeof this.exports.proxy_on_memory_allocate !== "function") {
      throw new Error("Wasm module exports neither malloc nor proxy_on_memory_allocate");
    }
  }

  /** Enforces the start-up restriction and turns host bugs into a VM failure, not a crash. */
  private guard(name: string, impl: (...a: any[]) => unknown) {
    return (...args: any[]) => {
      if (this.starting && !STARTUP_ALLOWED.has(name)) {
        throw new VmAbort(`Function: ${name} is prohibited during VM start-up (only proxy_log and WASI fd_write, args, environ, clock, random are allowed)`);
      }
      const counts = this.env.abiCalls;
      if (counts) counts.set(name, (counts.get(name) ?? 0) + 1);
      return impl(...args);
    };
  }

  newContextId(): number { return this.nextContextId++; }

  createRoot(plugin: PluginInfo): VmContext {
    const ctx = new VmContext(this.newContextId(), null, plugin, null);
    this.contexts.set(ctx.id, ctx);
    return ctx;
  }

  createStream(root: VmContext, host: StreamHost): VmContext {
    const ctx = new VmContext(this.newContextId(), root, root.plugin, host);
    this.contexts.set(ctx.id, ctx);
    return ctx;
  }

  has(name: string): boolean { return typeof this.exports[name] === "function"; }

  /**
   * Calls an exported callback with `ctx` as the current context. Returns the result, `dflt`
   * when the module does not export it, or null when the VM is (or just became) failed.
   */
  call(ctx: VmContext | null, name: string, args: number[], dflt = 0): number | null {
    if (this.failed) return null;
    const fn = this.exports[name] as ((...a: number[]) => unknown) | undefined;
    if (typeof fn !== "function") return dflt;
    const counts = this.env.abiCalls;
    if (counts) counts.set(name, (counts.get(name) ?? 0) + 1);
    const prev = this.current, prevEff = this.effective;
    this.current = ctx; this.effective = ctx;
    this.depth++;
    let result: number | null;
    try {
      const r = fn(...args);
      result = typeof r === "bigint" ? Number(r) : typeof r === "number" ? r : 0;
    } catch (e) {
      this.fail(`${name}: ${errText(e)}`);
      result = null;
    } finally {
      this.current = prev; this.effective = prevEff;
      this.depth--;
    }
    if (this.depth === 0) this.runAfterCall();
    return result;
  }

  /** Deferred Envoy actions (continueReading) run once the VM call stack is unwound. */
  addAfterCall(fn: () => void): void { this.afterCall.push(fn); }

  private runAfterCall(): void {
    while (this.afterCall.length) {
      const fn = this.afterCall.shift()!;
      try { fn(); } catch (e) { this.logVm(4, `after-call action failed: ${errText(e)}`); }
    }
  }

  fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.failReason = reason;
    for (const c of this.contexts.values()) if (c.tickTimer) { clearInterval(c.tickTimer); c.tickTimer = null; }
    this.logVm(5, `Wasm VM failed: ${reason}`);
    for (const cb of this.onFail) cb(reason);
  }

  /** Logs with the plugin of the effective context (or the vm_id) as the label. */
  logVm(level: number, message: string, ctx: VmContext | null = this.effective): void {
    if (level < this.env.logLevel) return;
    const label = ctx ? ctx.plugin.name || ctx.plugin.rootId : this.vmId;
    this.env.log(level, `[${LOG_LEVEL_NAMES[level] ?? level}] [${label}] ${message}`);
  }

  // ---- guest memory ----
  mem(): Uint8Array { return new Uint8Array((this.exports.memory as WebAssembly.Memory).buffer); }
  view(): DataView { return new DataView((this.exports.memory as WebAssembly.Memory).buffer); }
  inRange(ptr: number, len: number): boolean {
    return ptr >>> 0 === ptr && len >= 0 && ptr + len <= (this.exports.memory as WebAssembly.Memory).buffer.byteLength;
  }
  read(ptr: number, len: number): Uint8Array | null {
    ptr >>>= 0; len >>>= 0;
    if (!this.inRange(ptr, len)) return null;
    return this.mem().slice(ptr, ptr + len);
  }
  readString(ptr: number, len: number): string | null {
    const b = this.read(ptr, len);
    return b === null ? null : Buffer.from(b).toString("utf8");
  }
  writeU32(ptr: number, v: number): boolean {
    ptr >>>= 0;
    if (!this.inRange(ptr, 4)) return false;
    this.view().setUint32(ptr, v >>> 0, true);
    return true;
  }
  writeU64(ptr: number, v: bigint): boolean {
    ptr >>>= 0;
    if (!this.inRange(ptr, 8)) return false;
    this.view().setBigUint64(ptr, BigInt.asUintN(64, v), true);
    return true;
  }
  /** Allocates through the module's allocator (a trap there propagates: the VM fails). */
  alloc(size: number): number {
    const f = (this.exports.malloc ?? this.exports.proxy_on_memory_allocate) as (n: number) => number;
    return f(size) >>> 0;
  }
  /** Copies bytes into fresh guest memory and stores pointer and size, as copyToPointerSize. */
  copyOut(bytes: Uint8Array, ptrPtr: number, sizePtr: number): number {
    let ptr = 0;
    if (bytes.length > 0) {
      ptr = this.alloc(bytes.length);
      if (ptr === 0 || !this.inRange(ptr, bytes.length)) return Status.INVALID_MEMORY_ACCESS;
      this.mem().set(bytes, ptr);
    }
    if (!this.writeU32(ptrPtr, ptr) || !this.writeU32(sizePtr, bytes.length)) return Status.INVALID_MEMORY_ACCESS;
    return Status.OK;
  }

  /** Stops timers; the instance is dropped with the object. */
  dispose(): void {
    for (const c of this.contexts.values()) if (c.tickTimer) { clearInterval(c.tickTimer); c.tickTimer = null; }
  }
}

/** Envoy refuses a module importing anything it does not register, naming the import. */
export function checkModule(module: WebAssembly.Module): void {
  for (const imp of WebAssembly.Module.imports(module)) {
    const ok = imp.kind === "function" && (
      (imp.module === "env" && PROXY_IMPORTS.has(imp.name)) ||
      (WASI_MODULES.has(imp.module) && WASI_IMPORTS.has(imp.name)));
    if (!ok) throw new Error(`Failed to load Wasm module due to a missing import: ${imp.module}.${imp.name}`);
  }
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  if (!names.has("proxy_abi_version_0_2_1") && !names.has("proxy_abi_version_0_2_0")) {
    const other = [...names].find((n) => n.startsWith("proxy_abi_version_"));
    throw new Error(other
      ? `Wasm module ABI ${other} is not supported by the local host (0.2.0 or 0.2.1 is required)`
      : "Wasm module is missing the ABI version export (proxy_abi_version_0_2_1)");
  }
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// A Wasm plugin (one filter config): its VM slot (one VM per vm_id + code hash, shared),
// its root context (vm_start then configure), config updates with Envoy's semantics, and
// the failure policy applied to new connections once the VM has failed (Envoy's
// PluginConfig::createContext and maybeReloadHandleIfNeeded, with their stats).
import { checkSignatures } from "./wasm-signatures.ts";
import { withMemoryCap } from "./memory-cap.ts";
import { createHash } from "node:crypto";
import type { FailurePolicy, WasmFilterConfig } from "./config.ts";
import { WasmVm, errText, type PluginInfo, type VmContext, type VmEnv } from "./vm.ts";

const RUNTIME_STAT = "wasm.envoy.wasm.runtime.v8";

/** Holds the current VM of one (vm_id, code) pair; FAIL_RELOAD swaps in a fresh one. */
export class VmSlot {
  vm: WasmVm;
  constructor(readonly module: WebAssembly.Module, readonly vmId: string, readonly vmConfiguration: string, readonly env: VmEnv) {
    this.vm = this.create();
  }
  create(): WasmVm {
    const vm = WasmVm.create(this.module, this.vmId, this.vmConfiguration, this.env);
    this.env.stats.inc(`${RUNTIME_STAT}.created`);
    this.env.stats.gaugeAdd(`${RUNTIME_STAT}.active`, 1);
    return vm;
  }
  reload(): WasmVm {
    const fresh = this.create(); // throws if the module cannot start: the failed VM stays
    this.retire(this.vm);
    this.vm = fresh;
    return fresh;
  }
  retire(vm: WasmVm): void {
    vm.dispose();
    this.env.stats.gaugeAdd(`${RUNTIME_STAT}.active`, -1);
  }
}

export class VmRegistry {
  private slots = new Map<string, VmSlot>();
  private modules = new Map<string, WebAssembly.Module>();
  constructor(private env: VmEnv) {}
  async slot(code: Uint8Array, vmId: string, vmConfiguration: string): Promise<VmSlot> {
    const hash = createHash("sha256").update(code).digest("hex");
    const key = `${vmId}\0${hash}\0${vmConfiguration}`;
    let s = this.slots.get(key);
    if (!s) {
      let mod = this.modules.get(hash);
      if (!mod) {
        try { mod = await WebAssembly.compile(withMemoryCap(code) as Uint8Array<ArrayBuffer>); } catch (e) { throw new Error(`Wasm module is not valid: ${errText(e)}`); }
        checkSignatures(code);
        this.modules.set(hash, mod);
      }
      s = new VmSlot(mod, vmId, vmConfiguration, this.env);
      this.slots.set(key, s);
    }
    return s;
  }
  dispose(): void { for (const s of this.slots.values()) s.vm.dispose(); }
}

export type Admission = { kind: "filter"; vm: WasmVm; root: VmContext } | { kind: "closed" } | { kind: "open" };

export class Plugin {
  info: PluginInfo;
  root: VmContext | null = null;
  rootVm: WasmVm | null = null;
  private streams = new Map<VmContext, number>();
  /** When the VM in use was loaded: FAIL_RELOAD backs off from here. */
  private lastLoad = Date.now();
  private readonly reloadBaseMs: number;
  constructor(readonly slot: VmSlot, cfg: WasmFilterConfig, readonly policy: FailurePolicy, private env: VmEnv) {
    this.info = { name: cfg.pluginName, rootId: cfg.rootId, vmId: cfg.vmId, configuration: cfg.configuration };
    this.reloadBaseMs = cfg.reloadBaseMs;
    // Envoy's StatsHandler for a plugin config: wasm.<config name>.*
    for (const s of ["vm_reload", "vm_reload_backoff", "vm_reload_failure", "vm_reload_success"]) env.stats.ensureCounter(this.stat(s));
  }

  stat(s: string): string { return `wasm.${this.info.name}.${s}`; }

  /**
   * Creates a root context with `configuration` on the slot's VM: on_context_create,
   * on_vm_start, on_configure. Returns null when accepted, else the reason.
   */
  startRoot(configuration: string): string | null {
    const vm = this.slot.vm;
    const info: PluginInfo = { ...this.info, configuration };
    const root = vm.createRoot(info);
    const enc = new TextEncoder();
    const refuse = (why: string) => { this.deleteRoot(vm, root); return why; };
    if (vm.call(root, "proxy_on_context_create", [root.id, 0]) === null) return refuse(`proxy_on_context_create trapped: ${vm.failReason}`);
    const started = vm.call(root, "proxy_on_vm_start", [root.id, enc.encode(vm.vmConfiguration).length], 1);
    if (started === null) return refuse(`proxy_on_vm_start trapped: ${vm.failReason}`);
    if (started === 0) return refuse("proxy_on_vm_start returned false");
    root.configuring = true;
    const ok = vm.call(root, "proxy_on_configure", [root.id, enc.encode(configuration).length], 1);
    root.configuring = false;
    if (ok === null) return refuse(`proxy_on_configure trapped: ${vm.failReason}`);
    if (ok === 0) return refuse("proxy_on_configure returned false (configuration refused)");
    const old = this.root, oldVm = this.rootVm;
    this.info = info;
    this.root = root;
    this.rootVm = vm;
    if (old && oldVm) this.maybeRetireRoot(oldVm, old);
    return null;
  }

  /**
   * Decides what a new connection gets, applying the failure policy. FAIL_RELOAD loads a fresh
   * VM once the jittered backoff (base..1.5 x base since the last load) has passed; before
   * that, new connections meet the failed VM and are closed.
   */
  admit(): Admission {
    let vm = this.slot.vm;
    if (vm.failed && this.policy === "FAIL_RELOAD") {
      const interval = this.reloadBaseMs + Math.floor(Math.random() * (this.reloadBaseMs >> 1));
      const now = Date.now();
      if (now - this.lastLoad < interval) {
        this.env.stats.inc(this.stat("vm_reload_backoff"));
      } else {
        this.lastLoad = now;
        try {
          vm = this.slot.reload();
          this.env.stats.inc(this.stat("vm_reload_success"));
        } catch (e) {
          this.env.stats.inc(this.stat("vm_reload_failure"));
          vm.logVm(5, `VM reload failed: ${errText(e)}`, null);
        }
      }
    }
    if (!vm.failed && this.rootVm !== vm) {
      // The VM was reloaded (by this or another plugin on it): start this plugin's root again.
      const why = this.startRoot(this.info.configuration);
      if (why) vm.logVm(4, `plugin restart on the reloaded VM failed: ${why}`, null);
    }
    if (vm.failed || !this.root || this.rootVm !== vm) {
      // FAIL_OPEN leaves the filter out of new connections; the others get a failed context.
      return this.policy === "FAIL_OPEN" ? { kind: "open" } : { kind: "closed" };
    }
    this.streams.set(this.root, (this.streams.get(this.root) ?? 0) + 1);
    return { kind: "filter", vm, root: this.root };
  }

  /** A connection of `root` ended; an old root with no connections left is deleted. */
  release(vm: WasmVm, root: VmContext): void {
    const n = (this.streams.get(root) ?? 1) - 1;
    if (n > 0) { this.streams.set(root, n); return; }
    this.streams.delete(root);
    if (root !== this.root) this.deleteRoot(vm, root);
  }

  private maybeRetireRoot(vm: WasmVm, root: VmContext): void {
    if (!this.streams.get(root)) this.deleteRoot(vm, root);
  }

  private deleteRoot(vm: WasmVm, root: VmContext): void {
    if (root.tickTimer) { clearInterval(root.tickTimer); root.tickTimer = null; }
    if (!vm.failed && vm.contexts.has(root.id)) {
      vm.call(root, "proxy_on_done", [root.id], 1);
      vm.call(root, "proxy_on_delete", [root.id]);
    }
    vm.contexts.delete(root.id);
  }

  shutdown(): void {
    if (this.root && this.rootVm) this.deleteRoot(this.rootVm, this.root);
    this.root = null;
  }
}

// proxy-wasm ABI 0.2.1 callbacks. Envoy calls these; each is routed to its context object.
// A protocol module's entry file re-exports everything here (`export * from "../../abi/exports"`).
import { Action, NetworkContext, RootContext, rootFactory } from "./context";
import { deliverClose, deliverReceive } from "./grpc";
// Parsed so that asconfig's `--use abort=assembly/abi/abort/onAbort` finds it.
import "./abort";

const roots = new Map<u32, RootContext>();
const conns = new Map<u32, NetworkContext>();

export function proxy_abi_version_0_2_1(): void {}

/** The host allocates the memory it hands us (buffers, properties) through this. */
export function malloc(size: usize): usize { return heap.alloc(size > 0 ? size : 1); }
export function proxy_on_memory_allocate(size: usize): usize { return heap.alloc(size > 0 ? size : 1); }

export function proxy_on_context_create(id: u32, parent: u32): void {
  if (parent == 0) {
    const f = rootFactory;
    if (f != null) roots.set(id, f(id));
    return;
  }
  if (!roots.has(parent)) return;
  conns.set(id, roots.get(parent).newConnection(id));
}

export function proxy_on_vm_start(root: u32, size: u32): u32 {
  return roots.has(root) && roots.get(root).onVmStart(size) ? 1 : 0;
}

export function proxy_on_configure(root: u32, size: u32): u32 {
  return roots.has(root) && roots.get(root).onConfigure(size) ? 1 : 0;
}

export function proxy_on_tick(root: u32): void {
  if (roots.has(root)) roots.get(root).onTick();
}

export function proxy_on_new_connection(id: u32): u32 {
  return conns.has(id) ? <u32>conns.get(id).onNewConnection() : <u32>Action.Continue;
}

export function proxy_on_downstream_data(id: u32, size: u32, eos: u32): u32 {
  return conns.has(id) ? <u32>conns.get(id).onDownstreamData(size, eos != 0) : <u32>Action.Continue;
}

export function proxy_on_upstream_data(id: u32, size: u32, eos: u32): u32 {
  return conns.has(id) ? <u32>conns.get(id).onUpstreamData(size, eos != 0) : <u32>Action.Continue;
}

export function proxy_on_downstream_connection_close(id: u32, peer: u32): void {
  if (conns.has(id)) conns.get(id).onDownstreamClose(peer);
}

export function proxy_on_upstream_connection_close(id: u32, peer: u32): void {
  if (conns.has(id)) conns.get(id).onUpstreamClose(peer);
}

// Answers to gRPC callouts arrive on the root context; grpc.ts routes them by token.
export function proxy_on_grpc_receive(root: u32, token: u32, size: u32): void { deliverReceive(token, size); }
export function proxy_on_grpc_close(root: u32, token: u32, code: u32): void { deliverClose(token, code); }

export function proxy_on_done(id: u32): u32 {
  if (roots.has(id)) roots.get(id).onDone();
  return 1;
}

export function proxy_on_log(id: u32): void {}

export function proxy_on_delete(id: u32): void {
  if (conns.has(id)) { conns.get(id).onDone(); conns.delete(id); return; }
  if (roots.has(id)) roots.delete(id);
}

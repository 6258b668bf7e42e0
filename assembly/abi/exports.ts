// proxy-wasm ABI 0.2.1 callbacks. Envoy calls these; each is routed to its context object.
// A protocol module's entry file re-exports everything here (`export * from "../../abi/exports"`).
import { Action, NetworkContext, RootContext, rootFactory } from "./context";
import { deliverClose, deliverReceive } from "./grpc";
// Parsed so that asconfig's `--use abort=assembly/abi/abort/onAbort` finds it.
import "./abort";
import { collectDue, collectNow } from "./gc";
import { hostAlloc, releaseLanding } from "./host-memory";

const roots = new Map<u32, RootContext>();
// Garbage is collected between callbacks (gc.ts says when): only at the end of the outermost
// callback, where no managed reference lives on the Wasm stack. Envoy never re-enters a module
// within a call; `depth` keeps this safe anyway if a host ever did. Memory growth also triggers
// it: the allocator doubles memory when it is full (garbage included).
let depth: i32 = 0;
let pagesAtCollect: i32 = 0;
@inline function enter(): void { depth++; }
function leave(): void {
  if (--depth != 0) return;
  releaseLanding();
  if (!collectDue() && memory.size() == pagesAtCollect) return;
  collectNow();
  pagesAtCollect = memory.size();
}
@inline function leaveU32(v: u32): u32 { leave(); return v; }
const conns = new Map<u32, NetworkContext>();

export function proxy_abi_version_0_2_1(): void {}

/** The host allocates the memory it hands us (buffers, properties) through this. */
export function malloc(size: usize): usize { return hostAlloc(size); }
export function proxy_on_memory_allocate(size: usize): usize { return hostAlloc(size); }

export function proxy_on_context_create(id: u32, parent: u32): void {
  enter();
  if (parent == 0) {
    const f = rootFactory;
    if (f != null) roots.set(id, f(id));
  } else if (roots.has(parent)) {
    conns.set(id, roots.get(parent).newConnection(id));
  }
  leave();
}

export function proxy_on_vm_start(root: u32, size: u32): u32 {
  enter();
  return leaveU32(roots.has(root) && roots.get(root).onVmStart(size) ? 1 : 0);
}

export function proxy_on_configure(root: u32, size: u32): u32 {
  enter();
  return leaveU32(roots.has(root) && roots.get(root).onConfigure(size) ? 1 : 0);
}

export function proxy_on_tick(root: u32): void {
  enter();
  if (roots.has(root)) roots.get(root).onTick();
  leave();
}

export function proxy_on_new_connection(id: u32): u32 {
  enter();
  return leaveU32(conns.has(id) ? <u32>conns.get(id).onNewConnection() : <u32>Action.Continue);
}

export function proxy_on_downstream_data(id: u32, size: u32, eos: u32): u32 {
  enter();
  return leaveU32(conns.has(id) ? <u32>conns.get(id).onDownstreamData(size, eos != 0) : <u32>Action.Continue);
}

export function proxy_on_upstream_data(id: u32, size: u32, eos: u32): u32 {
  enter();
  return leaveU32(conns.has(id) ? <u32>conns.get(id).onUpstreamData(size, eos != 0) : <u32>Action.Continue);
}

export function proxy_on_downstream_connection_close(id: u32, peer: u32): void {
  enter();
  if (conns.has(id)) conns.get(id).onDownstreamClose(peer);
  leave();
}

export function proxy_on_upstream_connection_close(id: u32, peer: u32): void {
  enter();
  if (conns.has(id)) conns.get(id).onUpstreamClose(peer);
  leave();
}

// Answers to gRPC callouts arrive on the root context; grpc.ts routes them by token.
export function proxy_on_grpc_receive(root: u32, token: u32, size: u32): void { enter(); deliverReceive(token, size); leave(); }
export function proxy_on_grpc_close(root: u32, token: u32, code: u32): void { enter(); deliverClose(token, code); leave(); }

export function proxy_on_done(id: u32): u32 {
  enter();
  if (roots.has(id)) roots.get(id).onDone();
  return leaveU32(1);
}

export function proxy_on_log(id: u32): void {}

export function proxy_on_delete(id: u32): void {
  enter();
  if (conns.has(id)) { conns.get(id).onDone(); conns.delete(id); }
  else if (roots.has(id)) roots.delete(id);
  leave();
}

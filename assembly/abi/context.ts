// The two context kinds of a network filter, as the framework implements them. The ABI layer
// owns the context table and turns proxy-wasm callbacks into these virtual calls.

export const enum Action { Continue = 0, Pause = 1 }

export abstract class NetworkContext {
  constructor(public id: u32) {}
  abstract onNewConnection(): Action;
  abstract onDownstreamData(size: u32, endOfStream: bool): Action;
  abstract onUpstreamData(size: u32, endOfStream: bool): Action;
  abstract onDownstreamClose(peer: u32): void;
  abstract onUpstreamClose(peer: u32): void;
  /** Done + log + delete collapse here: Envoy calls them in a row after the close. */
  abstract onDone(): void;
}

export abstract class RootContext {
  constructor(public id: u32) {}
  abstract onVmStart(vmConfigSize: u32): bool;
  abstract onConfigure(configSize: u32): bool;
  abstract onTick(): void;
  abstract newConnection(id: u32): NetworkContext;
  abstract onDone(): void;
}

/** Set once by the protocol module's entry file (through meta/plugin.ts). */
export let rootFactory: ((id: u32) => RootContext) | null = null;
export function setRootFactory(f: (id: u32) => RootContext): void { rootFactory = f; }

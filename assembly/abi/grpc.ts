// Unary gRPC callouts (proxy_grpc_call / proxy_grpc_cancel) and the routing of their answers.
// Envoy delivers every answer on the root context whichever context made the call, and tokens
// are unique per VM, so one VM-wide table maps a token to whoever waits for it. A unary call gets
// exactly one callback: on_grpc_receive (the message is readable only inside it) or
// on_grpc_close with a status (docs/local-host.md, "Callouts, proven in Envoy 1.40").
import * as raw from "./imports";
import { BufferType, Slice, getBuffer } from "./host";

/** proxy_grpc_call results other than OK: the call was not made (no callback follows for a token we know). */
export const enum CallStatus { Ok = 0, ParseFailure = 4, InternalFailure = 10 }

/** Whoever waits for a call's answer. */
export abstract class GrpcWaiter {
  /** The response message: read it with readGrpcResponse inside this callback only. */
  abstract onGrpcReceive(token: u32, size: u32): void;
  /** A failed call: any gRPC status (a timeout arrives as 14, UNAVAILABLE). */
  abstract onGrpcClose(token: u32, code: u32): void;
}

const waiting = new Map<u32, GrpcWaiter>();
const TOKEN: usize = memory.data(8);
let lastStatus: u32 = 0;

/** Encoded once per distinct string (service and method names, cluster names). */
export class GrpcTarget {
  cluster: ArrayBuffer;
  service: ArrayBuffer;
  method: ArrayBuffer;
  constructor(cluster: string, service: string, method: string) {
    this.cluster = String.UTF8.encode(cluster);
    this.service = String.UTF8.encode(service);
    this.method = String.UTF8.encode(method);
  }
}

/**
 * Starts a unary call whose answer goes to `waiter`. Returns the token, or 0 when the host
 * refused the call (the status is in lastCallStatus(): 4 for an unknown cluster name, 10 when
 * no gRPC client could be made). `timeoutMs` 0 would mean no deadline: callers always pass one.
 */
export function grpcCall(t: GrpcTarget, message: usize, len: i32, timeoutMs: u32, waiter: GrpcWaiter): u32 {
  store<u32>(TOKEN, 0);
  const s = raw.proxy_grpc_call(changetype<usize>(t.cluster), <usize>t.cluster.byteLength,
    changetype<usize>(t.service), <usize>t.service.byteLength, changetype<usize>(t.method), <usize>t.method.byteLength,
    0, 0, message, <usize>len, timeoutMs, TOKEN);
  lastStatus = s;
  if (s != CallStatus.Ok) return 0;
  const token = load<u32>(TOKEN);
  waiting.set(token, waiter);
  return token;
}

export function lastCallStatus(): u32 { return lastStatus; }

/** Cancels a pending call: no callback follows, the service sees the stream reset. */
export function grpcCancel(token: u32): void {
  if (!waiting.has(token)) return;
  waiting.delete(token);
  raw.proxy_grpc_cancel(token);
}

/** Calls waiting for an answer in this VM (for tests and bounds). */
export function pendingCalls(): i32 { return waiting.size; }

/** Copies the message of the answer being delivered into `out` (inside onGrpcReceive only). */
export function readGrpcResponse(size: u32, out: Slice): bool {
  return getBuffer(BufferType.GrpcReceive, 0, size, out) == 0;
}

// Called by exports.ts. Tokens nobody waits for (cancelled, or the close Envoy sends for a call
// that returned INTERNAL_FAILURE) are ignored.
export function deliverReceive(token: u32, size: u32): void {
  if (!waiting.has(token)) return;
  const w = waiting.get(token);
  waiting.delete(token);
  w.onGrpcReceive(token, size);
}

export function deliverClose(token: u32, code: u32): void {
  if (!waiting.has(token)) return;
  const w = waiting.get(token);
  waiting.delete(token);
  w.onGrpcClose(token, code);
}

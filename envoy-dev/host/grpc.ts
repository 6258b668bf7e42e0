// gRPC callouts of the local host: proxy_grpc_call / _cancel / _close, proxy_get_status and the
// callbacks proxy_on_grpc_receive / _close, over real HTTP/2 (node:http2) to the clusters of
// envoy.yaml, with what Envoy 1.40 was seen doing (docs/local-host.md, "Callouts, proven in
// Envoy 1.40"; tests/services/grpc-callouts.test.ts runs the same probe in both):
// - the call belongs to the ROOT context of whichever context made it, and its answer arrives on
//   the root id; tokens count per VM from 5 in steps of 4 (the low bits say "gRPC call");
// - a unary call gets exactly one callback: on_grpc_receive with the response message, or
//   on_grpc_close with a gRPC status (no receive-metadata callbacks, no close after a receive);
// - get_status answers the root's last close (code and message) and its message is cleared
//   after that callback: a module must read the status inside on_grpc_close;
// - closing a connection does not cancel its call; proxy_grpc_cancel resets the HTTP/2 stream.
import { connect as http2Connect, constants as h2, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { Status } from "./abi.ts";
import type { ClusterManager } from "./cluster.ts";
import type { DataBuffer, VmContext, WasmVm } from "./vm.ts";

type Fn = (...a: any[]) => unknown;

const CALL_ID = 1, STREAM_ID = 2, ID_MASK = 3, ID_STEP = 4; // proxy-wasm-cpp-host CalloutType
const UNAVAILABLE = 14, INTERNAL = 13;
/** Envoy resets a cancelled or timed-out call's stream with this code (as the server sees it). */
const RESET_CODE = h2.NGHTTP2_INTERNAL_ERROR;
const HEADER_MAP_MAX = 7; // WasmHeaderMapType::HttpCallResponseTrailers

/** The HTTP/2 connections of one host: one per endpoint, reused by every call, like Envoy's pool. */
export class GrpcClient {
  private sessions = new Map<string, ClientHttp2Session>();
  constructor(readonly clusters: ClusterManager) {}

  session(host: string, port: number, connectTimeoutMs: number): ClientHttp2Session {
    const key = `${host}:${port}`;
    const open = this.sessions.get(key);
    if (open && !open.closed && !open.destroyed) return open;
    const s = http2Connect(`http://${host.includes(":") ? `[${host}]` : host}:${port}`);
    this.sessions.set(key, s);
    const forget = () => { if (this.sessions.get(key) === s) this.sessions.delete(key); };
    const timer = setTimeout(() => s.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })), connectTimeoutMs);
    s.once("connect", () => clearTimeout(timer));
    s.on("error", (e) => { (s as any).lastError = e; forget(); });
    s.on("close", () => { clearTimeout(timer); forget(); });
    s.on("goaway", forget);
    return s;
  }

  close(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

interface Call {
  token: number;
  root: VmContext;
  stream: ClientHttp2Stream | null;
  timer: NodeJS.Timeout | null;
  /** Answered, failed or cancelled: nothing more is delivered. */
  done: boolean;
}
interface VmState { nextCall: number; calls: Map<number, Call> }
interface RootState { code: number; message: string; receive: Uint8Array | null }

const vmStates = new WeakMap<WasmVm, VmState>();
const rootStates = new WeakMap<VmContext, RootState>();

function vmState(vm: WasmVm): VmState {
  let s = vmStates.get(vm);
  if (!s) vmStates.set(vm, s = { nextCall: CALL_ID, calls: new Map() });
  return s;
}
function rootState(root: VmContext): RootState {
  let s = rootStates.get(root);
  if (!s) rootStates.set(root, s = { code: 0, message: "", receive: null });
  return s;
}

/** GRPC_RECEIVE_BUFFER: the response message, readable inside on_grpc_receive only. */
export function grpcReceiveBuffer(vm: WasmVm): DataBuffer | null {
  const root = vm.effective?.rootContext;
  const b = root ? rootStates.get(root)?.receive : null;
  return b ? { bytes: () => b, set: () => Status.BAD_ARGUMENT } : null;
}

export function grpcImports(vm: WasmVm): Record<string, Fn> {
  const client = () => vm.env.grpc ?? null;
  return {
    proxy_grpc_call(svcPtr: number, svcLen: number, namePtr: number, nameLen: number, methodPtr: number, methodLen: number,
      metaPtr: number, metaLen: number, reqPtr: number, reqLen: number, timeoutMs: number, tokenPtr: number): number {
      const root = vm.effective?.rootContext;
      const svc = vm.read(svcPtr, svcLen), name = vm.readString(namePtr, nameLen), method = vm.readString(methodPtr, methodLen);
      const meta = vm.read(metaPtr, metaLen), req = vm.read(reqPtr, reqLen);
      if (!root || svc === null || name === null || method === null || meta === null || req === null) return Status.INVALID_MEMORY_ACCESS;
      const clusters = client()?.clusters;
      // Envoy first tries the bytes as a serialized GrpcService, then as a plain cluster name.
      const parsed = parseGrpcService(svc);
      let clusterName: string, authority: string;
      if (parsed === null) {
        clusterName = Buffer.from(svc).toString("utf8");
        if (!clusters?.get(clusterName)) return Status.PARSE_FAILURE;
        authority = clusterName;
      } else {
        clusterName = parsed.cluster ?? "";
        authority = parsed.authority || clusterName;
      }
      const state = vmState(vm);
      const token = (state.nextCall += ID_STEP);
      if (parsed !== null && parsed.cluster === undefined) {
        if (parsed.google) vm.logVm(3, "proxy_grpc_call: google_grpc services are not supported by the local host");
        return Status.BAD_ARGUMENT; // no Envoy gRPC client can be made for it
      }
      const call: Call = { token, root, stream: null, timer: null, done: false };
      const cluster = clusters?.get(clusterName);
      if (!cluster || !client()) {
        // Envoy: sendRaw fails at once, so the call returns INTERNAL_FAILURE, and the failure
        // still reaches the module as on_grpc_close of a token it was never given.
        call.done = true;
        vm.addAfterCall(() => deliverClose(vm, call, UNAVAILABLE, "Cluster not available"));
        return Status.INTERNAL_FAILURE;
      }
      state.calls.set(token, call);
      start(vm, client()!, call, cluster, authority, `/${name}/${method}`, parsePairs(meta), req, timeoutMs >>> 0);
      return vm.writeU32(tokenPtr, token) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
    proxy_grpc_cancel: (token: number) => cancel(vm, token >>> 0),
    // For a unary call Envoy's grpcClose is grpcCancel.
    proxy_grpc_close: (token: number) => cancel(vm, token >>> 0),
    proxy_get_status(codePtr: number, msgPtrPtr: number, msgLenPtr: number): number {
      const root = vm.effective?.rootContext;
      const s = root ? rootState(root) : { code: 0, message: "" };
      if (!vm.writeU32(codePtr, s.code)) return Status.INVALID_MEMORY_ACCESS;
      return vm.copyOut(new TextEncoder().encode(s.message), msgPtrPtr, msgLenPtr);
    },
    // A network filter has no HTTP header maps, and a unary call's metadata maps are never
    // set during a callback: Envoy answers every map type with OK and no pairs.
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      if (type >>> 0 > HEADER_MAP_MAX) return Status.BAD_ARGUMENT;
      return vm.copyOut(new Uint8Array(0), ptrPtr, sizePtr);
    },
  };
}

function cancel(vm: WasmVm, token: number): number {
  const kind = token & ID_MASK;
  if (kind === STREAM_ID) return Status.NOT_FOUND; // gRPC streams are never opened here
  if (kind !== CALL_ID) return Status.BAD_ARGUMENT;
  const state = vmState(vm);
  const call = state.calls.get(token);
  if (!call) return Status.NOT_FOUND;
  state.calls.delete(token);
  finish(call);
  call.stream?.close(RESET_CODE);
  return Status.OK;
}

function finish(call: Call): void {
  call.done = true;
  if (call.timer) { clearTimeout(call.timer); call.timer = null; }
}

function start(vm: WasmVm, client: GrpcClient, call: Call, cluster: import("./cluster.ts").Cluster, authority: string,
  path: string, metadata: [string, string][], message: Uint8Array, timeoutMs: number): void {
  if (timeoutMs > 0) {
    call.timer = setTimeout(() => {
      if (call.done) return;
      finish(call);
      call.stream?.close(RESET_CODE);
      deliverClose(vm, call, UNAVAILABLE, "upstream request timeout{response_timeout}");
    }, timeoutMs);
  }
  if (!cluster.config.http2) {
    // Envoy's gRPC client speaks the cluster's protocol, HTTP/1.1 by default, which no gRPC
    // server answers: Envoy 1.40 fails such a call with UNAVAILABLE (protocol error).
    vm.logVm(3, `proxy_grpc_call: cluster ${cluster.name} has no HTTP/2 protocol options (explicit_http_config.http2_protocol_options); the call fails as in Envoy`);
    setImmediate(() => fail(vm, call, UNAVAILABLE, resetMessage("protocol error")));
    return;
  }
  cluster.pick().then((ep) => {
    if (call.done) return;
    if (!ep) { fail(vm, call, UNAVAILABLE, "no healthy upstream"); return; }
    const session = client.session(ep.host, ep.port, cluster.config.connectTimeoutMs);
    const headers: Record<string, string> = {
      ":method": "POST", ":path": path, ":authority": authority, ":scheme": "http", te: "trailers",
      "grpc-timeout": `${timeoutMs}m`, "content-type": "application/grpc",
    };
    for (const [k, v] of metadata) headers[k.toLowerCase()] = v;
    headers["x-envoy-internal"] = "true";
    if (timeoutMs > 0) headers["x-envoy-expected-rq-timeout-ms"] = String(timeoutMs);
    let stream: ClientHttp2Stream;
    try { stream = session.request(headers); } catch (e) { fail(vm, call, INTERNAL, String((e as Error).message)); return; }
    call.stream = stream;
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(message.length, 1);
    stream.end(Buffer.concat([frame, message]));
    let response: IncomingHttpHeaders | null = null, trailers: IncomingHttpHeaders | null = null, error: any = null;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => { response = h; });
    stream.on("trailers", (t) => { trailers = t; });
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("error", (e) => { error = e; });
    stream.on("close", () => {
      if (call.done) return;
      if (!response) {
        const e = (session as any).lastError ?? error;
        fail(vm, call, UNAVAILABLE, connectFailure(e, stream.rstCode));
        return;
      }
      const r = response as IncomingHttpHeaders;
      const http = Number(r[":status"]);
      if (http !== 200) { fail(vm, call, httpToGrpc(http), "via_upstream"); return; }
      const t = (trailers ?? r) as IncomingHttpHeaders;
      const code = t["grpc-status"] === undefined ? null : Number(t["grpc-status"]);
      if (code === null) { fail(vm, call, INTERNAL, ""); return; }
      if (code !== 0) { fail(vm, call, code, withDetails(String(t["grpc-message"] ?? ""), "via_upstream")); return; }
      const body = Buffer.concat(chunks);
      if (body.length < 5 || body.length < 5 + body.readUInt32BE(1)) { fail(vm, call, INTERNAL, ""); return; }
      receive(vm, call, new Uint8Array(body.subarray(5, 5 + body.readUInt32BE(1))));
    });
  }, () => fail(vm, call, UNAVAILABLE, "no healthy upstream"));
}

function fail(vm: WasmVm, call: Call, code: number, message: string): void {
  if (call.done) return;
  finish(call);
  deliverClose(vm, call, code, message);
}

function receive(vm: WasmVm, call: Call, message: Uint8Array): void {
  finish(call);
  const root = call.root;
  const calls = vmState(vm).calls;
  if (vm.failed || !vm.contexts.has(root.id) || !vm.has("proxy_on_grpc_receive")) { calls.delete(call.token); return; }
  const rs = rootState(root);
  rs.receive = message;
  vm.call(root, "proxy_on_grpc_receive", [root.id, call.token, message.length]);
  rs.receive = null;
  calls.delete(call.token); // after the callback, as Envoy's after-call cleanup
}

function deliverClose(vm: WasmVm, call: Call, code: number, message: string): void {
  const root = call.root;
  const calls = vmState(vm).calls;
  if (vm.failed || !vm.contexts.has(root.id) || !vm.has("proxy_on_grpc_close")) { calls.delete(call.token); return; }
  const rs = rootState(root);
  rs.code = code;
  rs.message = message;
  vm.call(root, "proxy_on_grpc_close", [root.id, call.token, code]);
  rs.message = ""; // the code stays: get_status in a later on_grpc_receive reads it
  calls.delete(call.token);
}

/** Envoy's message for a call that got no response headers. */
function connectFailure(e: any, rstCode: number | undefined): string {
  const code = e?.cause?.code ?? e?.code;
  if (code === "ECONNREFUSED") return resetMessage("remote connection failure", "delayed_connect_error:_Connection_refused");
  if (code === "ETIMEDOUT") return resetMessage("connection timeout");
  if (rstCode && rstCode !== h2.NGHTTP2_NO_ERROR && !e) return resetMessage("remote reset");
  return resetMessage("connection termination");
}

function resetMessage(reason: string, extra = ""): string {
  const detail = reason.replaceAll(" ", "_");
  return `upstream connect error or disconnect/reset before headers. reset reason: ${reason}` +
    `{upstream_reset_before_response_started{${detail}${extra ? "|" + extra : ""}}}`;
}

/** Envoy appends the response code details to a gRPC failure message as "{details}". */
function withDetails(message: string, details: string): string {
  return message ? `${message}{${details}}` : details;
}

/** Envoy's Grpc::Utility::httpToGrpcStatus. */
function httpToGrpc(http: number): number {
  switch (http) {
    case 400: return INTERNAL;
    case 401: return 16;
    case 403: return 7;
    case 404: return 12;
    case 429: case 502: case 503: case 504: return UNAVAILABLE;
    default: return 2;
  }
}

/** proxy-wasm pairs: u32 count, (u32 key len, u32 value len) each, then "key\0value\0" each. */
function parsePairs(b: Uint8Array): [string, string][] {
  if (b.length < 4) return [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(0, true);
  let p = 4 + n * 8;
  if (p > b.length) return [];
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const kl = dv.getUint32(4 + i * 8, true), vl = dv.getUint32(8 + i * 8, true);
    if (p + kl + 1 + vl + 1 > b.length) return [];
    const k = Buffer.from(b.subarray(p, p + kl)).toString("utf8"); p += kl + 1;
    const v = Buffer.from(b.subarray(p, p + vl)).toString("utf8"); p += vl + 1;
    out.push([k, v]);
  }
  return out;
}

/**
 * GrpcService as protobuf's ParseFromString sees it: null when the bytes are not valid wire
 * format (Envoy then takes them as a cluster name), else envoy_grpc's cluster and authority.
 */
export function parseGrpcService(b: Uint8Array): { cluster?: string; authority?: string; google: boolean } | null {
  const out: { cluster?: string; authority?: string; google: boolean } = { google: false };
  const ok = walk(b, (field, wire, value) => {
    if (field === 1) {
      if (wire !== 2) return false;
      out.cluster = "";
      return walk(value!, (f, w, v) => {
        if (f === 1 || f === 2) {
          if (w !== 2) return false;
          const s = utf8(v!);
          if (s === null) return false;
          if (f === 1) out.cluster = s; else out.authority = s;
        }
        return true;
      });
    }
    if (field === 2) { if (wire !== 2) return false; out.google = true; return walk(value!, () => true); }
    if (field === 3 || field === 5 || field === 6) return wire === 2 && walk(value!, () => true);
    return true;
  });
  return ok ? out : null;
}

function utf8(b: Uint8Array): string | null {
  try { return new TextDecoder("utf-8", { fatal: true }).decode(b); } catch { return null; }
}

/** Walks protobuf wire format; false when it is not valid (groups are not accepted). */
function walk(b: Uint8Array, onField: (field: number, wire: number, value: Uint8Array | null) => boolean): boolean {
  let p = 0;
  const varint = (): number | null => {
    let r = 0, s = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= b.length) return null;
      const x = b[p++];
      if (s < 53) r += (x & 0x7f) * 2 ** s;
      s += 7;
      if (!(x & 0x80)) return r;
    }
    return null;
  };
  while (p < b.length) {
    const key = varint();
    if (key === null) return false;
    const field = Math.floor(key / 8), wire = key % 8;
    if (field === 0) return false;
    let value: Uint8Array | null = null;
    if (wire === 0) { if (varint() === null) return false; }
    else if (wire === 1) { if ((p += 8) > b.length) return false; }
    else if (wire === 5) { if ((p += 4) > b.length) return false; }
    else if (wire === 2) {
      const n = varint();
      if (n === null || p + n > b.length) return false;
      value = b.subarray(p, p + n);
      p += n;
    } else return false;
    if (!onField(field, wire, value)) return false;
  }
  return true;
}

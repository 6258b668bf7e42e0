// Envoy's proxy-wasm host links each ABI function with its exact type and refuses a module
// whose import or exported callback has another one ("Bad function signature"). JavaScript
// imports accept any type, so without this check such a module would run here and fail to load
// in Envoy. Types from the proxy-wasm ABI 0.2.1 spec: every host function takes and returns
// i32, except the two that carry a 64-bit metric value.

type Sig = string; // "(i32, i64) -> i32"

const I32 = (n: number) => Array.from({ length: n }, () => "i32");
const sig = (params: string[], result: string | null): Sig => `(${params.join(", ")}) -> ${result ?? "nothing"}`;
const host = (n: number): Sig => sig(I32(n), "i32");

/** env.* host functions: parameter counts from the spec; all i32 unless noted. */
const HOST_FUNCTIONS: Record<string, Sig> = {
  proxy_log: host(3), proxy_get_log_level: host(1), proxy_get_current_time_nanoseconds: host(1),
  proxy_set_tick_period_milliseconds: host(1), proxy_get_buffer_bytes: host(5), proxy_set_buffer_bytes: host(5),
  proxy_get_buffer_status: host(3), proxy_get_header_map_size: host(2), proxy_get_header_map_pairs: host(3),
  proxy_set_header_map_pairs: host(3), proxy_get_header_map_value: host(5), proxy_add_header_map_value: host(5),
  proxy_replace_header_map_value: host(5), proxy_remove_header_map_value: host(3), proxy_continue_stream: host(1),
  proxy_close_stream: host(1), proxy_get_status: host(3), proxy_send_local_response: host(8),
  proxy_set_effective_context: host(1), proxy_done: host(0), proxy_call_foreign_function: host(6),
  proxy_define_metric: host(4), proxy_get_metric: host(2), proxy_get_property: host(4), proxy_set_property: host(4),
  proxy_get_shared_data: host(5), proxy_set_shared_data: host(5), proxy_register_shared_queue: host(3),
  proxy_resolve_shared_queue: host(5), proxy_enqueue_shared_queue: host(3), proxy_dequeue_shared_queue: host(3),
  proxy_http_call: host(10), proxy_grpc_call: host(12), proxy_grpc_stream: host(9), proxy_grpc_send: host(4),
  proxy_grpc_cancel: host(1), proxy_grpc_close: host(1),
  proxy_increment_metric: sig(["i32", "i64"], "i32"),
  proxy_record_metric: sig(["i32", "i64"], "i32"),
};

/** Exported callbacks Envoy looks up by name and calls with these types. */
const CALLBACKS: Record<string, Sig> = {
  proxy_abi_version_0_2_1: sig([], null), proxy_abi_version_0_2_0: sig([], null),
  _initialize: sig([], null), _start: sig([], null),
  malloc: sig(I32(1), "i32"), proxy_on_memory_allocate: sig(I32(1), "i32"),
  proxy_on_context_create: sig(I32(2), null), proxy_on_vm_start: sig(I32(2), "i32"),
  proxy_on_configure: sig(I32(2), "i32"), proxy_on_tick: sig(I32(1), null),
  proxy_on_done: sig(I32(1), "i32"), proxy_on_log: sig(I32(1), null), proxy_on_delete: sig(I32(1), null),
  proxy_on_new_connection: sig(I32(1), "i32"),
  proxy_on_downstream_data: sig(I32(3), "i32"), proxy_on_upstream_data: sig(I32(3), "i32"),
  proxy_on_downstream_connection_close: sig(I32(2), null), proxy_on_upstream_connection_close: sig(I32(2), null),
  proxy_on_request_headers: sig(I32(3), "i32"), proxy_on_request_body: sig(I32(3), "i32"),
  proxy_on_request_trailers: sig(I32(2), "i32"), proxy_on_response_headers: sig(I32(3), "i32"),
  proxy_on_response_body: sig(I32(3), "i32"), proxy_on_response_trailers: sig(I32(2), "i32"),
  proxy_on_queue_ready: sig(I32(2), null), proxy_on_foreign_function: sig(I32(3), null),
  proxy_on_http_call_response: sig(I32(5), null),
  proxy_on_grpc_receive: sig(I32(3), null), proxy_on_grpc_close: sig(I32(3), null),
  proxy_on_grpc_receive_initial_metadata: sig(I32(3), null), proxy_on_grpc_receive_trailing_metadata: sig(I32(3), null),
};

const VALTYPES: Record<number, string> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };

/** The types of a module's function imports and function exports, read from its binary. */
export function functionSignatures(bytes: Uint8Array): { imports: Map<string, Sig>; exports: Map<string, Sig> } {
  let p = 8; // magic + version
  const u8 = () => bytes[p++];
  const leb = () => { let r = 0, s = 0, b = 0; do { b = bytes[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return r >>> 0; };
  const name = () => { const n = leb(); const s = new TextDecoder().decode(bytes.subarray(p, p + n)); p += n; return s; };
  const types: Sig[] = [];
  const funcTypes: number[] = []; // imported functions first, then defined ones
  const imports = new Map<string, Sig>();
  const exportIdx = new Map<string, number>();
  while (p < bytes.length) {
    const id = u8(), size = leb(), end = p + size;
    if (id === 1) {
      for (let n = leb(); n > 0; n--) {
        if (u8() !== 0x60) throw new Error("unexpected type form");
        const params = Array.from({ length: leb() }, () => VALTYPES[u8()] ?? "?");
        const results = Array.from({ length: leb() }, () => VALTYPES[u8()] ?? "?");
        types.push(sig(params, results.length ? results.join(", ") : null));
      }
    } else if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        const mod = name(), field = name(), kind = u8();
        if (kind === 0) { const t = leb(); funcTypes.push(t); imports.set(`${mod}.${field}`, types[t]); }
        else if (kind === 1) { u8(); const f = u8(); leb(); if (f & 1) leb(); }       // table: reftype, limits
        else if (kind === 2) { const f = u8(); leb(); if (f & 1) leb(); }             // memory: limits
        else if (kind === 3) { u8(); u8(); }                                           // global: type, mut
        else if (kind === 4) { u8(); leb(); }                                          // tag
      }
    } else if (id === 3) {
      for (let n = leb(); n > 0; n--) funcTypes.push(leb());
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) { const nm = name(), kind = u8(), idx = leb(); if (kind === 0) exportIdx.set(nm, idx); }
    }
    p = end;
  }
  const exports = new Map<string, Sig>();
  for (const [nm, idx] of exportIdx) exports.set(nm, types[funcTypes[idx]]);
  return { imports, exports };
}

/** Throws, naming the function, when an ABI import or callback has a type Envoy would refuse. */
export function checkSignatures(bytes: Uint8Array): void {
  const { imports, exports } = functionSignatures(bytes);
  for (const [full, got] of imports) {
    const [mod, fn] = full.split(".");
    const want = mod === "env" ? HOST_FUNCTIONS[fn] : undefined;
    if (want && got !== want) throw new Error(`Failed to load Wasm module due to a bad signature: import ${full} is ${got}, ABI 0.2.1 says ${want}`);
  }
  for (const [fn, got] of exports) {
    const want = CALLBACKS[fn];
    if (want && got !== want) throw new Error(`Failed to load Wasm module due to a bad signature: export ${fn} is ${got}, ABI 0.2.1 says ${want}`);
  }
}

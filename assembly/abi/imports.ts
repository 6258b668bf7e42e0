// Raw proxy-wasm ABI 0.2.1 imports. Only assembly/abi/ may use these.
// Pointers are wasm32 addresses; every call returns a WasmResult status (0 = OK).

@external("env", "proxy_log")
export declare function proxy_log(level: u32, msg: usize, len: usize): u32;
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(level: usize): u32;
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(type: u32, start: u32, max: u32, ptr: usize, size: usize): u32;
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(type: u32, start: u32, length: u32, data: usize, size: usize): u32;
@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(name: usize, nameLen: usize, args: usize, argsLen: usize, ret: usize, retLen: usize): u32;
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(type: u32, name: usize, nameLen: usize, id: usize): u32;
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(id: u32, offset: i64): u32;
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(id: u32, value: u64): u32;
@external("env", "proxy_get_property")
export declare function proxy_get_property(path: usize, pathLen: usize, ret: usize, retLen: usize): u32;
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(ms: u32): u32;
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(ret: usize): u32;
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(key: usize, keyLen: usize, ret: usize, retLen: usize, cas: usize): u32;
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(key: usize, keyLen: usize, value: usize, valueLen: usize, cas: u32): u32;
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(stream: u32): u32;
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(stream: u32): u32;
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(ctx: u32): u32;
@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(service: usize, serviceLen: usize, serviceName: usize, serviceNameLen: usize,
  method: usize, methodLen: usize, initialMetadata: usize, initialMetadataLen: usize, message: usize, messageLen: usize,
  timeoutMs: u32, tokenPtr: usize): u32;
@external("env", "proxy_grpc_cancel")
export declare function proxy_grpc_cancel(token: u32): u32;
// WASI's random source (Envoy registers it; callable after start-up): seeds trace and span ids.
@external("wasi_snapshot_preview1", "random_get")
export declare function random_get(buf: usize, len: usize): u32;

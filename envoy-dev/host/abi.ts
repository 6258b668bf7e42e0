// proxy-wasm ABI 0.2.1 constants, with the values Envoy uses.
export const Status = {
  OK: 0, NOT_FOUND: 1, BAD_ARGUMENT: 2, SERIALIZATION_FAILURE: 3, PARSE_FAILURE: 4,
  INVALID_MEMORY_ACCESS: 6, EMPTY: 7, CAS_MISMATCH: 8, INTERNAL_FAILURE: 10, UNIMPLEMENTED: 12,
} as const;

export const BufferType = {
  HTTP_REQUEST_BODY: 0, HTTP_RESPONSE_BODY: 1, DOWNSTREAM_DATA: 2, UPSTREAM_DATA: 3,
  HTTP_CALL_RESPONSE_BODY: 4, GRPC_RECEIVE_BUFFER: 5, VM_CONFIGURATION: 6,
  PLUGIN_CONFIGURATION: 7, FOREIGN_FUNCTION_ARGUMENTS: 8, MAX: 8,
} as const;

export const StreamType = { REQUEST: 0, RESPONSE: 1, DOWNSTREAM: 2, UPSTREAM: 3 } as const;
export const Action = { CONTINUE: 0, PAUSE: 1 } as const;
export const PeerType = { UNKNOWN: 0, LOCAL: 1, REMOTE: 2 } as const;
export const MetricType = { COUNTER: 0, GAUGE: 1, HISTOGRAM: 2 } as const;
export const LOG_LEVEL_NAMES = ["trace", "debug", "info", "warn", "error", "critical"];

/** Host functions Envoy registers for a 0.2.x module (HTTP ones included). */
export const PROXY_IMPORTS = new Set([
  "proxy_log", "proxy_get_log_level", "proxy_get_status", "proxy_set_effective_context",
  "proxy_set_tick_period_milliseconds", "proxy_get_current_time_nanoseconds",
  "proxy_get_property", "proxy_set_property", "proxy_get_buffer_bytes", "proxy_set_buffer_bytes",
  "proxy_get_buffer_status",
  "proxy_get_header_map_pairs", "proxy_set_header_map_pairs", "proxy_get_header_map_size",
  "proxy_get_header_map_value", "proxy_add_header_map_value", "proxy_replace_header_map_value",
  "proxy_remove_header_map_value",
  "proxy_continue_stream", "proxy_close_stream", "proxy_send_local_response",
  "proxy_http_call", "proxy_grpc_call", "proxy_grpc_stream", "proxy_grpc_send", "proxy_grpc_cancel",
  "proxy_grpc_close",
  "proxy_get_shared_data", "proxy_set_shared_data", "proxy_register_shared_queue",
  "proxy_resolve_shared_queue", "proxy_enqueue_shared_queue", "proxy_dequeue_shared_queue",
  "proxy_done", "proxy_call_foreign_function",
  "proxy_define_metric", "proxy_increment_metric", "proxy_record_metric", "proxy_get_metric",
]);

export const WASI_MODULES = new Set(["wasi_snapshot_preview1", "wasi_unstable"]);
export const WASI_IMPORTS = new Set([
  "fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "fd_prestat_get",
  "fd_prestat_dir_name", "environ_get", "environ_sizes_get", "args_get", "args_sizes_get",
  "proc_exit", "clock_time_get", "random_get", "sched_yield", "poll_oneoff",
]);

/** The only host calls allowed while the module starts (start section, _initialize, _start). */
export const STARTUP_ALLOWED = new Set([
  "proxy_log", "fd_write", "environ_get", "environ_sizes_get", "args_get", "args_sizes_get",
  "clock_time_get", "random_get",
]);

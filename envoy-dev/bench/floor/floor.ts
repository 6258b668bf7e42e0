// The benchmark's floor: a proxy-wasm network filter that only reads what passes. Each data
// callback makes the one host call every filter needs (proxy_get_buffer_bytes: the host copies
// the bytes into module memory), reads every byte once (eight at a time), frees the copy and
// lets the bytes through. Nothing is parsed or routed. `bench_copy` times memory.copy of a
// batch inside the module. Built with the stub runtime (no GC); see envoy-dev/bench/inprocess.
@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(type: u32, start: u32, max: u32, ptr: usize, size: usize): u32;

const RET_PTR: usize = memory.data(8);
const RET_LEN: usize = memory.data(8);
/** What was read: kept so the reading loop cannot be optimized away. */
export let checksum: u64 = 0;

export function proxy_abi_version_0_2_1(): void {}
export function malloc(size: usize): usize { return heap.alloc(size > 0 ? size : 1); }
export function proxy_on_memory_allocate(size: usize): usize { return heap.alloc(size > 0 ? size : 1); }
export function proxy_on_context_create(id: u32, parent: u32): void {}
export function proxy_on_vm_start(root: u32, size: u32): u32 { return 1; }
export function proxy_on_configure(root: u32, size: u32): u32 { return 1; }
export function proxy_on_new_connection(id: u32): u32 { return 0; }
export function proxy_on_downstream_data(id: u32, size: u32, eos: u32): u32 { return read(2, size); }
export function proxy_on_upstream_data(id: u32, size: u32, eos: u32): u32 { return read(3, size); }
export function proxy_on_downstream_connection_close(id: u32, peer: u32): void {}
export function proxy_on_upstream_connection_close(id: u32, peer: u32): void {}
export function proxy_on_done(id: u32): u32 { return 1; }
export function proxy_on_log(id: u32): void {}
export function proxy_on_delete(id: u32): void {}

function read(type: u32, size: u32): u32 {
  if (size == 0) return 0;
  if (proxy_get_buffer_bytes(type, 0, size, RET_PTR, RET_LEN) != 0) return 0;
  const p = load<usize>(RET_PTR);
  const n = load<usize>(RET_LEN);
  let x: u64 = 0;
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) x ^= load<u64>(p + i);
  for (; i < n; i++) x ^= <u64>load<u8>(p + i);
  checksum ^= x;
  heap.free(p);
  return 0;
}

let copySrc: usize = 0;
let copyDst: usize = 0;
/** memory.copy of `len` bytes, `reps` times (the same two buffers): memory speed inside the module. */
export function bench_copy(len: u32, reps: u32): void {
  // Destination offset by a cache line and a half from a 4 KiB multiple: no 4K aliasing with the source.
  if (copySrc == 0) { copySrc = heap.alloc(1 << 20); copyDst = heap.alloc((1 << 20) + 4096) + 2048 + 96; }
  for (let i: u32 = 0; i < reps; i++) memory.copy(copyDst, copySrc, <usize>len);
}

// Envoy's V8 lets a Wasm VM's memory grow to 1 GiB at most (proxy-wasm-cpp-host limits.h:
// PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES, set as V8's wasm_max_mem_pages); past it
// memory.grow fails and most allocators trap. Node lets memory grow to 4 GiB, so the host gives
// the module's own memory the same maximum by rewriting its memory section before compiling.

export const MAX_WASM_MEMORY_PAGES = (1024 * 1024 * 1024) / 65536;

/** `code` with its defined memory capped at `maxPages` (unchanged when it has none or a lower max). */
export function withMemoryCap(code: Uint8Array, maxPages = MAX_WASM_MEMORY_PAGES): Uint8Array {
  if (code.length < 8) return code;
  let p = 8; // magic + version
  while (p < code.length) {
    const id = code[p];
    const [size, sizeLen] = leb(code, p + 1);
    const body = p + 1 + sizeLen;
    if (id === 5) return rewriteMemory(code, p, body, size, maxPages);
    p = body + size;
  }
  return code;
}

function rewriteMemory(code: Uint8Array, start: number, body: number, size: number, maxPages: number): Uint8Array {
  const [count, countLen] = leb(code, body);
  if (count !== 1) return code; // multi-memory: not produced by the toolchains used here
  let q = body + countLen;
  const flags = code[q];
  if (flags !== 0 && flags !== 1) return code; // shared or memory64: leave alone
  q++;
  const [min, minLen] = leb(code, q);
  q += minLen;
  let max = Infinity;
  if (flags === 1) { const [m, mLen] = leb(code, q); max = m; q += mLen; }
  if (max <= maxPages) return code;
  const limits = [...encodeLeb(1), 1, ...encodeLeb(min), ...encodeLeb(maxPages)];
  const newBody = Uint8Array.from([...limits, ...code.subarray(q, body + size)]);
  const header = Uint8Array.from([5, ...encodeLeb(newBody.length)]);
  const out = new Uint8Array(start + header.length + newBody.length + (code.length - body - size));
  out.set(code.subarray(0, start), 0);
  out.set(header, start);
  out.set(newBody, start + header.length);
  out.set(code.subarray(body + size), start + header.length + newBody.length);
  return out;
}

function leb(b: Uint8Array, at: number): [number, number] {
  let v = 0, shift = 0, i = at;
  for (;;) {
    const c = b[i++];
    v += (c & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(c & 0x80)) return [v, i - at];
  }
}

function encodeLeb(v: number): number[] {
  const out: number[] = [];
  do {
    let c = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) c |= 0x80;
    out.push(c);
  } while (v > 0);
  return out;
}

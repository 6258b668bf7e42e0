// Parses the wire bytes of Envoy's SetEnvoyFilterStateArguments
// { string path = 1; string value = 2; LifeSpan span = 3; } without a protobuf library.
export interface FilterStateArgs { path: string; value: string; span: number }

export function parseFilterStateArgs(buf: Uint8Array): FilterStateArgs | null {
  const out: FilterStateArgs = { path: "", value: "", span: 0 };
  let i = 0;
  const varint = (): number | null => {
    let v = 0, mul = 1;
    for (let n = 0; n < 10; n++) {
      if (i >= buf.length) return null;
      const b = buf[i++];
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) return v;
      mul *= 128;
    }
    return null;
  };
  while (i < buf.length) {
    const key = varint();
    if (key === null) return null;
    const field = Math.floor(key / 8), wire = key & 7;
    if (wire === 2) {
      const len = varint();
      if (len === null || i + len > buf.length) return null;
      const s = Buffer.from(buf.subarray(i, i + len)).toString("utf8");
      i += len;
      if (field === 1) out.path = s;
      else if (field === 2) out.value = s;
    } else if (wire === 0) {
      const v = varint();
      if (v === null) return null;
      if (field === 3) out.span = v;
    } else if (wire === 5) { i += 4; } else if (wire === 1) { i += 8; } else return null;
    if (i > buf.length) return null;
  }
  return out;
}

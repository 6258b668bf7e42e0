// The Hessian 2 skipper against bytes written by real encoders (hessian.js and Java's hessian-lite:
// tests/spec/vectors/hessian2.*.json), tag by tag. Each vector is a sequence of values whose last
// value starts with the tag under test. Every vector is also sent as a Dubbo argument in front of
// an attachments map, which must be read and rewritten as if the argument were not there.
import { HessianReader } from "../../assembly/protocols/dubbo/hessian";
import { DubboCodec, writeHessianString } from "../../assembly/protocols/dubbo/codec";
import { Metadata } from "../../assembly/meta/metadata";
import { ByteBuf, u32be } from "../../assembly/meta/bytes";
import { DecodeStatus, KeyValue, WantedKeys } from "../../assembly/meta/codec";
import { HEX, NAMES, VALUES, WRITERS, WRITER_OF } from "./generated/hessian-vectors";

function bytes(hex: string): ByteBuf {
  const b = new ByteBuf();
  for (let i = 0; i < hex.length; i += 2) b.writeU8(<u32>I32.parseInt(hex.substr(i, 2), 16));
  return b;
}

/** The tag of the last value of vector i (skips the ones before it); -1 if that fails. */
function lastTag(r: HessianReader, i: i32, f: ByteBuf): i32 {
  r.reset(f.ptr, f.ptr + <usize>f.len);
  for (let k = 0; k < VALUES[i] - 1; k++) if (!r.skipValue()) return -1;
  return r.peek();
}

/** A Dubbo request whose arguments are the vector's values, then attachments {x-tag: "seen"}. */
function request(f: ByteBuf, nargs: i32): ByteBuf {
  const b = new ByteBuf();
  b.writeU16BE(0xdabb); b.writeU8(0xc2); b.writeU8(0); b.writeU64BE(9); b.writeU32BE(0);
  writeHessianString(b, "2.0.2");
  writeHessianString(b, "peers.Vectors");
  writeHessianString(b, "1.0.0");
  writeHessianString(b, "take");
  let desc = "";
  for (let k = 0; k < nargs; k++) desc += "Ljava/lang/Object;";
  writeHessianString(b, desc);
  b.writeBytes(f.ptr, f.len);
  b.writeU8(0x48);
  writeHessianString(b, "path"); writeHessianString(b, "peers.Vectors");
  writeHessianString(b, "x-tag"); writeHessianString(b, "seen");
  b.writeU8(0x5a);
  b.setU32BE(12, <u32>(b.len - 16));
  return b;
}

// Reserved in Hessian 2 (and 'Z', which only ends a list or map): never the start of a value.
const RESERVED: i32[] = [0x40, 0x45, 0x47, 0x50, 0x5a];

describe("hessian 2 tag table", () => {
  it("has a vector from a real encoder for every tag that can start a value", () => {
    const r = new HessianReader();
    const covered = new StaticArray<bool>(256);
    for (let i = 0; i < HEX.length; i++) {
      const f = bytes(HEX[i]);
      const t = lastTag(r, i, f);
      if (t >= 0) covered[t] = true;
      f.free();
    }
    let missing = "";
    for (let t = 0; t < 256; t++) {
      if (covered[t] == RESERVED.includes(t)) missing += " 0x" + t.toString(16);
    }
    expect(missing).toBe(""); // lists tags without a vector, or reserved tags some writer produced
  });

  it("names its writers", () => {
    expect(WRITERS.length).toBeGreaterThanOrEqual(1);
    log(WRITERS.join(", "));
  });

  it("skips every vector exactly, value by value", () => {
    const r = new HessianReader();
    let bad = "";
    for (let i = 0; i < HEX.length; i++) {
      const f = bytes(HEX[i]);
      r.reset(f.ptr, f.ptr + <usize>f.len);
      let ok = true;
      for (let k = 0; k < VALUES[i]; k++) ok = ok && r.skipValue();
      if (!ok || r.p != f.ptr + <usize>f.len) bad += "\n" + WRITERS[WRITER_OF[i]] + ": " + NAMES[i] + " " + r.error;
      f.free();
    }
    expect(bad).toBe("");
  });

  it("refuses reserved tags and every truncation with an error, never a trap", () => {
    const r = new HessianReader();
    for (let k = 0; k < RESERVED.length; k++) {
      const f = new ByteBuf();
      f.writeU8(<u32>RESERVED[k]); f.writeU8(0x90);
      r.reset(f.ptr, f.ptr + <usize>f.len);
      expect(r.skipValue()).toBe(false);
      expect(r.error.length).toBeGreaterThan(0);
      f.free();
    }
    let silent = "";
    for (let i = 0; i < HEX.length; i++) {
      const f = bytes(HEX[i]);
      // Cut the sequence at a few places inside its last value: never a success, never a trap.
      r.reset(f.ptr, f.ptr + <usize>f.len);
      for (let k = 0; k < VALUES[i] - 1; k++) r.skipValue();
      const start = <i32>(r.p - f.ptr);
      const step = max(1, (f.len - start) / 7);
      for (let n = start; n < f.len; n += step) {
        r.reset(f.ptr, f.ptr + <usize>n);
        let ok = true;
        for (let k = 0; k < VALUES[i]; k++) ok = ok && r.skipValue();
        if (ok || r.error.length == 0) silent += "\n" + NAMES[i] + " cut at " + n.toString();
      }
      f.free();
    }
    expect(silent).toBe("");
  });

  it("reads the attachments behind every vector sent as Dubbo arguments, and rewrites them", () => {
    const c = new DubboCodec();
    const wanted = WantedKeys.none();
    wanted.add("x-tag");
    let bad = "";
    for (let i = 0; i < HEX.length; i++) {
      const f = bytes(HEX[i]);
      const req = request(f, VALUES[i]);
      const md = new Metadata();
      const st = c.decode(req.ptr, req.len, md, true, wanted);
      if (st != DecodeStatus.Done || md.getAttribute("x-tag") != "seen") {
        bad += "\ndecode " + WRITERS[WRITER_OF[i]] + ": " + NAMES[i] + " " + md.error;
      } else {
        const out = new ByteBuf();
        const m: KeyValue[] = [new KeyValue("x-canary", "true")];
        const md2 = new Metadata();
        if (!c.encode(md, m, req.ptr, req.len, out) || <i32>u32be(out.ptr + 12) != out.len - 16 ||
            c.decode(out.ptr, out.len, md2, true, WantedKeys.everything()) != DecodeStatus.Done ||
            md2.getAttribute("x-canary") != "true" || md2.getAttribute("x-tag") != "seen") {
          bad += "\nencode " + WRITERS[WRITER_OF[i]] + ": " + NAMES[i] + " " + md2.error;
        }
        out.free();
      }
      req.free();
      f.free();
    }
    expect(bad).toBe("");
  });
});

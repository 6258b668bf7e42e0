// Unframed Thrift: the message end is found by walking the struct. The walk resumes where it
// stopped when more bytes arrive (Metadata.continuing), so a dripped message is scanned once.
// Vectors: deeply nested calls written by the npm thrift library (scripts/gen-thrift-vectors.mjs).
import { ThriftCodec } from "../../assembly/protocols/thrift/codec";
import { Metadata } from "../../assembly/meta/metadata";
import { ByteBuf } from "../../assembly/meta/bytes";
import { DecodeStatus, MessageType, WantedKeys } from "../../assembly/meta/codec";
import * as v from "./generated/thrift-vectors";

function bytes(hex: string): ByteBuf {
  const b = new ByteBuf();
  for (let i = 0; i < hex.length; i += 2) b.writeU8(<u32>I32.parseInt(hex.substr(i, 2), 16));
  return b;
}

/** Feed [0, len) in pieces ending at each of `cuts`, continuing after every WaitForData. */
function feed(c: ThriftCodec, b: ByteBuf, md: Metadata, cuts: i32[]): DecodeStatus {
  let st = DecodeStatus.WaitForData;
  for (let i = 0; i < cuts.length && st == DecodeStatus.WaitForData; i++) {
    md.reset();
    md.continuing = i > 0;
    st = c.decode(b.ptr, cuts[i], md, true, WantedKeys.everything());
  }
  return st;
}

function checkVector(hex: string, seqid: u64): void {
  const c = new ThriftCodec();
  const b = bytes(hex);
  const fresh = new Metadata();
  expect(c.decode(b.ptr, b.len, fresh, true, WantedKeys.everything())).toBe(DecodeStatus.Done);
  expect(fresh.frameLength).toBe(b.len);
  expect(fresh.requestId).toBe(seqid);
  expect(fresh.messageType).toBe(MessageType.Request);
  expect(fresh.getAttribute("method")).toBe("deepCall");
  // One byte at a time: every prefix continues the previous scan.
  const cuts: i32[] = [];
  for (let k = 1; k <= b.len; k++) cuts.push(k);
  const md = new Metadata();
  expect(feed(c, b, md, cuts)).toBe(DecodeStatus.Done);
  expect(md.frameLength).toBe(b.len);
  expect(md.requestId).toBe(seqid);
  // Two pieces, split at every byte: the same answer wherever the scan paused.
  for (let k = 1; k < b.len; k++) {
    const m2 = new Metadata();
    expect(feed(c, b, m2, [k, b.len])).toBe(DecodeStatus.Done, "split at " + k.toString());
    expect(m2.frameLength).toBe(b.len, "split at " + k.toString());
  }
}

describe("thrift unframed: resumable struct scan", () => {
  it("binary: deep nesting resumes at every byte", () => { checkVector(v.deepBinary, 41); });
  it("compact: deep nesting, bools in headers and lists, long field ids resume at every byte", () => { checkVector(v.deepCompact, 42); });
  it("a fresh call after a paused scan starts over (the framework moved to another frame)", () => {
    const c = new ThriftCodec();
    const b = bytes(v.deepBinary);
    const md = new Metadata();
    md.reset();
    expect(c.decode(b.ptr, 40, md, true, WantedKeys.none())).toBe(DecodeStatus.WaitForData);
    md.reset();
    md.continuing = false; // not a continuation: the scan state must not be used
    expect(c.decode(b.ptr, b.len, md, true, WantedKeys.none())).toBe(DecodeStatus.Done);
    expect(md.frameLength).toBe(b.len);
  });
  it("a truncated struct stays incomplete and a corrupted one is refused, resumed or not", () => {
    const c = new ThriftCodec();
    const b = bytes(v.deepCompact);
    const md = new Metadata();
    expect(feed(c, b, md, [10, 20, b.len - 1])).toBe(DecodeStatus.WaitForData);
    store<u8>(b.ptr + 30, 0x0e); // an element type that does not exist in the middle of the args
    const m2 = new Metadata();
    expect(feed(c, b, m2, [20, b.len])).toBe(DecodeStatus.Error);
  });
});

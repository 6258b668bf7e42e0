import { ByteBuf, u32be, u16be } from "../../assembly/meta/bytes";

describe("ByteBuf", () => {
  it("writes big-endian fields and grows", () => {
    const b = new ByteBuf();
    b.writeU16BE(0xdabb);
    b.writeU32BE(0x01020304);
    for (let i = 0; i < 1000; i++) b.writeU8(i & 0xff);
    expect(b.len).toBe(1006);
    expect(u16be(b.ptr)).toBe(0xdabb);
    expect(u32be(b.ptr + 2)).toBe(0x01020304);
    b.consume(6);
    expect(b.len).toBe(1000);
    expect(load<u8>(b.ptr + 5)).toBe(5);
    b.free();
  });
  it("writes UTF-8", () => {
    const b = new ByteBuf();
    expect(b.writeUtf8("héllo")).toBe(6);
    b.free();
  });
});

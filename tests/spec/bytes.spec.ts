import { ByteBuf, u32be, u16be, utf8Equals } from "../../assembly/meta/bytes";

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

describe("utf8Equals", () => {
  it("compares UTF-8 bytes with a string without decoding", () => {
    const words: string[] = ["", "group", "x-tenant", "héllo", "日本", "ü😀x"];
    for (let i = 0; i < words.length; i++) {
      for (let j = 0; j < words.length; j++) {
        const b = new ByteBuf();
        b.writeUtf8(words[i]);
        expect(utf8Equals(b.ptr, b.len, words[j])).toBe(i == j, words[i] + " vs " + words[j]);
        b.free();
      }
    }
    const p = new ByteBuf();
    p.writeUtf8("groupX");
    expect(utf8Equals(p.ptr, 5, "group")).toBe(true);
    expect(utf8Equals(p.ptr, 6, "group")).toBe(false);
    expect(utf8Equals(p.ptr, 4, "group")).toBe(false);
  });
});

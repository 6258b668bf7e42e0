import { InFlight } from "../../assembly/meta/inflight";
import { Utf8Cache } from "../../assembly/meta/utf8-cache";

/** A tiny deterministic generator (xorshift) for the model check. */
let seed: u64 = 0x9e3779b97f4a7c15;
function next(): u64 { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed; }

describe("InFlight", () => {
  it("sets, gets, replaces and deletes ids", () => {
    const t = new InFlight();
    expect(t.has(1)).toBe(false);
    t.set(1, 10); t.set(2, 20); t.set(1, 11);
    expect(t.size).toBe(2);
    expect(t.get(1)).toBe(11);
    expect(t.delete(1)).toBe(true);
    expect(t.delete(1)).toBe(false);
    expect(t.has(2)).toBe(true);
    expect(t.size).toBe(1);
  });

  it("agrees with a Map over random sets and deletes (probe runs that wrap, growth, shrink)", () => {
    const t = new InFlight();
    const m = new Map<u64, i32>();
    for (let step = 0; step < 20000; step++) {
      const r = next();
      // Ids from a small range collide often; every few thousand steps a burst of sequential ids.
      const id: u64 = (step % 5000) < 200 ? <u64>step : (r >> 8) % 97;
      if ((r & 3) == 0) { expect(t.delete(id)).toBe(m.has(id)); m.delete(id); }
      else { t.set(id, <i32>step); m.set(id, <i32>step); }
      if ((step & 255) == 0) {
        const keys = m.keys();
        for (let i = 0; i < keys.length; i++) expect(t.get(keys[i])).toBe(m.get(keys[i]));
        expect(t.size).toBe(m.size);
        expect(t.keys().length).toBe(m.size);
      }
    }
    t.clear();
    expect(t.size).toBe(0);
    expect(t.has(3)).toBe(false);
  });
});

describe("Utf8Cache", () => {
  it("returns the same string for the same bytes, and decodes new ones", () => {
    const c = new Utf8Cache();
    const a = String.UTF8.encode("sayHello");
    const b = String.UTF8.encode("héllo");
    const s1 = c.get(changetype<usize>(a), a.byteLength);
    const s2 = c.get(changetype<usize>(a), a.byteLength);
    expect(s1).toBe("sayHello");
    expect(changetype<usize>(s1)).toBe(changetype<usize>(s2));
    expect(c.get(changetype<usize>(b), b.byteLength)).toBe("héllo");
    for (let i = 0; i < 40; i++) { const x = String.UTF8.encode("m" + i.toString()); expect(c.get(changetype<usize>(x), x.byteLength)).toBe("m" + i.toString()); }
    expect(c.get(changetype<usize>(a), a.byteLength)).toBe("sayHello");
  });
});

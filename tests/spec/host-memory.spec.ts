import { hostAlloc, hostFree, landingInUse, releaseLanding } from "../../assembly/abi/host-memory";

describe("host memory (the landing buffer for the host's copies)", () => {
  it("gives every read's copy the same landing, freed by the callback", () => {
    const a = hostAlloc(500);
    expect(landingInUse()).toBe(true);
    hostFree(a);
    expect(landingInUse()).toBe(false);
    const b = hostAlloc(16000);
    expect(b).toBe(a, "the same buffer again: no allocator call");
    hostFree(b);
    releaseLanding();
  });

  it("serves a second copy while the landing is taken, and one larger than it, from the heap", () => {
    const a = hostAlloc(100);
    const b = hostAlloc(100);
    expect(b).not.toBe(a);
    store<u8>(b + 99, 7); // usable memory of its own
    hostFree(b);
    expect(landingInUse()).toBe(true, "freeing the heap copy leaves the landing taken");
    hostFree(a);
    const big = hostAlloc(64 << 10);
    expect(big).not.toBe(a);
    expect(landingInUse()).toBe(false, "too large for the landing");
    store<u8>(big + (64 << 10) - 1, 1);
    hostFree(big);
  });

  it("a landing still held after the callback becomes an ordinary heap block", () => {
    const held = hostAlloc(64);
    releaseLanding(); // the end of the outermost callback
    expect(landingInUse()).toBe(false);
    const next = hostAlloc(64);
    expect(next).not.toBe(held, "a new landing: the held copy stays intact");
    store<u8>(held, 1);
    hostFree(held); // to the heap, as any block
    hostFree(next);
    expect(hostAlloc(64)).toBe(next);
    hostFree(next);
    releaseLanding();
  });
});

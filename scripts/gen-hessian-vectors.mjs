#!/usr/bin/env node
// Writes tests/spec/vectors/hessian2.hessian-js.json: Hessian 2 values written by hessian.js (the
// encoder Node Dubbo clients use), one or more per tag of the Hessian 2 table (0x00-0xff, the
// reserved tags aside). Each vector is a sequence of values whose LAST value starts with its tag;
// the values before it set up what the tag refers to (class definitions, the object a 'Q' reuses).
// The Java twin (hessian-lite) is peers/java-dubbo VectorGen. Committed; `npm run check:vectors`
// regenerates both and diffs. `--check` prints the differences instead of writing.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const hessian = require("hessian.js");
const java = require("js-to-java");
const OUT = fileURLToPath(new URL("../tests/spec/vectors/hessian2.hessian-js.json", import.meta.url));

const vectors = [];
/** write(enc) writes the values; the last one must start with `tag`. */
function vector(name, values, write) {
  const enc = new hessian.EncoderV2();
  write(enc);
  const buf = enc.get();
  vectors.push({ name, values, hex: buf.toString("hex") });
}
const one = (name, v) => vector(name, 1, (e) => e.write(v));
const seq = (name, vs) => vector(name, vs.length, (e) => { for (const v of vs) e.write(v); });
const bytes = (n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));
const str = (n) => "ab\u00e9\u4e2d".repeat(Math.ceil(n / 4)).slice(0, n); // 1-, 2- and 3-byte UTF-8
const obj = (k, extra = {}) => ({ $class: `peers.vectors.C${k}`, $: { id: java.int(k), ...extra } });

// strings: 0x00-0x1f (0-31 chars), 0x30-0x33 (32-1023), 'S' (1024-65535), 'R' chunks (> 32768)
for (let n = 0; n < 32; n++) one(`string ${n} chars`, str(n));
for (const n of [32, 300, 600, 1000]) one(`string ${n} chars`, str(n));
one("string 2000 chars", str(2000));
one("string 40000 chars, R chunk then S", str(40000));
one("string with a surrogate pair", "x\u{1f600}y");
// binary: 0x20-0x2f (0-15 bytes), 0x34-0x37 (16-1023), 'B' (> 1023), 'A' chunks (> 4093)
for (let n = 0; n < 16; n++) one(`binary ${n} bytes`, bytes(n));
for (const n of [16, 300, 600, 1000]) one(`binary ${n} bytes`, bytes(n));
one("binary 2000 bytes", bytes(2000));
one("binary 5000 bytes, A chunk then B", bytes(5000));
one("binary 8200 bytes, A chunks then short form", bytes(4093 * 2 + 14));
one("binary 4500 bytes, A chunk then 0x34 form", bytes(4093 + 407));
// ints: 0x80-0xbf, 0xc0-0xcf, 0xd0-0xd7, 'I'
for (let t = 0x80; t <= 0xbf; t++) one(`int ${t - 0x90}`, java.int(t - 0x90));
for (let t = 0xc0; t <= 0xcf; t++) one(`int tag 0x${t.toString(16)}`, java.int(((t - 0xc8) << 8) | (t === 0xc8 ? 0x40 : 0x11)));
for (let t = 0xd0; t <= 0xd7; t++) one(`int tag 0x${t.toString(16)}`, java.int(((t - 0xd4) << 16) | (t === 0xd4 ? 0x1234 : 0x11)));
one("int 0x7fffffff", java.int(0x7fffffff));
one("int -0x80000000", java.int(-0x80000000));
// longs: 0xd8-0xef, 0xf0-0xff, 0x38-0x3f, 'Y', 'L'
for (let t = 0xd8; t <= 0xef; t++) one(`long ${t - 0xe0}`, java.long(t - 0xe0));
for (let t = 0xf0; t <= 0xff; t++) one(`long tag 0x${t.toString(16)}`, java.long(((t - 0xf8) << 8) | (t === 0xf8 ? 0x40 : 0x11)));
for (let t = 0x38; t <= 0x3f; t++) one(`long tag 0x${t.toString(16)}`, java.long(((t - 0x3c) << 16) | (t === 0x3c ? 0x1234 : 0x11)));
one("long as int32 (Y)", java.long(0x12345678));
one("long 64-bit (L)", java.long("1234567890123456789"));
// doubles: 0x5b 0.0, 0x5c 1.0, 0x5d byte, 0x5e short, 0x5f int milli, 'D'
for (const [name, d] of [["0.0", 0], ["1.0", 1], ["byte", -7], ["short", 1000], ["milli", 12.25], ["IEEE", 3.141592653589793]]) one(`double ${name}`, java.double(d));
// dates: 'J' (0x4a) millis, 'K' (0x4b) minutes
one("date millis", new Date(1700000000123));
one("date minutes", new Date(1700000040000));
// null, booleans
one("null", null);
one("true", true);
one("false", false);
// lists: 0x70-0x77 typed fixed, 0x78-0x7f untyped fixed, 'V' typed, 'X' untyped, 'U' typed variable, 'W' untyped variable
for (let n = 0; n < 8; n++) one(`typed list ${n}`, java.array("int", Array.from({ length: n }, (_, i) => i)));
for (let n = 0; n < 8; n++) one(`untyped list ${n}`, Array.from({ length: n }, (_, i) => java.int(i)));
one("typed list 9 (V)", java.array("java.lang.String", Array.from({ length: 9 }, (_, i) => `s${i}`)));
one("untyped list 9 (X)", Array.from({ length: 9 }, (_, i) => java.int(i)));
vector("typed variable list (U)", 1, (e) => { e._writeListBegin(-1, "java.util.ArrayList"); e.write("a"); e.write(java.int(1)); e.byteBuffer.putChar("Z"); });
vector("untyped variable list (W)", 1, (e) => { e._writeListBegin(-1, null); e.write("a"); e.write(null); e.byteBuffer.putChar("Z"); });
// maps: 'H' untyped, 'M' typed
one("untyped map (H)", { a: java.int(1), b: "two", c: [java.int(3)] });
vector("typed map (M)", 1, (e) => e._writeHashMap({ k: "v", n: java.long(99) }, "java.util.TreeMap"));
vector("typed map whose type is a reference (M int)", 2, (e) => { e._writeHashMap({ a: "1" }, "java.util.TreeMap"); e._writeHashMap({ b: "2" }, "java.util.TreeMap"); });
// objects: 'C' definition + 0x60.. instance, 0x60-0x6f for class 0-15, 'O' for class 16+, 'Q' references
one("object (C then 0x60)", obj(0, { name: "n", tags: ["x"] }));
for (let k = 0; k < 16; k++) seq(`object of class ${k} (0x${(0x60 + k).toString(16)})`, [...Array.from({ length: k + 1 }, (_, i) => obj(i)), obj(k)]);
seq("object of class 16 (O)", [...Array.from({ length: 17 }, (_, i) => obj(i)), obj(16)]);
{
  const shared = obj(1, { name: "shared" });
  seq("reference to an earlier object (Q)", [shared, shared]);
}
// the graph that found the 0x62 bug: three classes, nested, then more objects of the third
seq("three-class graph", [{ $class: "peers.Order", $: { customer: { $class: "peers.Customer", $: { address: { $class: "peers.Address", $: { city: "Oslo" } } } } } },
  { $class: "peers.Address", $: { city: "Rome" } }]);

const json = JSON.stringify({ writer: `hessian.js ${require("hessian.js/package.json").version}`, vectors }, null, 1) + "\n";
if (process.argv.includes("--check")) {
  const committed = readFileSync(OUT, "utf8");
  if (committed !== json) { console.error("gen-hessian-vectors: tests/spec/vectors/hessian2.hessian-js.json differs from what hessian.js writes now: regenerate it"); process.exit(1); }
  console.log(`gen-hessian-vectors: ${vectors.length} hessian.js vectors match`);
} else {
  writeFileSync(OUT, json);
  console.log(`gen-hessian-vectors: wrote ${vectors.length} vectors`);
}

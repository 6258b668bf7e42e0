// Facts about a pattern that reject most inputs before the automaton runs: the shortest and
// longest match (in UTF-16 code units) and the literal text every match starts and ends with.
import { Node, N_EMPTY, N_CLASS, N_ASSERT, N_CONCAT, N_ALT, A_BEGIN_LINE, A_BEGIN_TEXT, A_END_LINE, A_END_TEXT } from "./ast";

export const UNBOUNDED: i32 = 0x7fffffff;

@inline function sat(x: i64): i32 { return x > <i64>UNBOUNDED ? UNBOUNDED : <i32>x; }

export function minLength(n: Node): i32 {
  if (n.kind == N_CLASS) return unchecked(changetype<StaticArray<i32>>(n.ranges)[0]) < 0x10000 ? 1 : 2;
  if (n.kind == N_EMPTY || n.kind == N_ASSERT) return 0;
  if (n.kind == N_CONCAT) {
    let t: i64 = 0;
    for (let i = 0; i < n.subs.length; i++) t += minLength(n.subs[i]);
    return sat(t);
  }
  if (n.kind == N_ALT) {
    let m = UNBOUNDED;
    for (let i = 0; i < n.subs.length; i++) m = min(m, minLength(n.subs[i]));
    return m;
  }
  return sat(<i64>n.min * <i64>minLength(n.subs[0])); // N_REPEAT
}

export function maxLength(n: Node): i32 {
  if (n.kind == N_CLASS) {
    const r = changetype<StaticArray<i32>>(n.ranges);
    return unchecked(r[r.length - 1]) >= 0x10000 ? 2 : 1;
  }
  if (n.kind == N_EMPTY || n.kind == N_ASSERT) return 0;
  if (n.kind == N_CONCAT) {
    let t: i64 = 0;
    for (let i = 0; i < n.subs.length; i++) t += maxLength(n.subs[i]);
    return sat(t);
  }
  if (n.kind == N_ALT) {
    let m = 0;
    for (let i = 0; i < n.subs.length; i++) m = max(m, maxLength(n.subs[i]));
    return m;
  }
  const x = maxLength(n.subs[0]); // N_REPEAT
  if (x == 0) return 0;
  return n.max < 0 ? UNBOUNDED : sat(<i64>n.max * <i64>x);
}

/** Top-level items in order, nested concatenations flattened. */
function flatten(n: Node, out: Node[]): void {
  if (n.kind == N_CONCAT) { for (let i = 0; i < n.subs.length; i++) flatten(n.subs[i], out); }
  else out.push(n);
}

/** The one BMP non-surrogate rune a node matches, or -1. */
function literalRune(n: Node): i32 {
  if (n.kind != N_CLASS) return -1;
  const r = changetype<StaticArray<i32>>(n.ranges);
  if (r.length != 2 || r[0] != r[1] || (r[0] >= 0xd800 && r[0] < 0xe000) || r[0] >= 0x10000) return -1;
  return r[0];
}

export class Literals {
  prefix: string = "";
  suffix: string = "";
  /** The pattern is exactly `prefix` (plus anchors that hold at the ends). */
  whole: bool = false;
}

export function literals(root: Node): Literals {
  const items: Node[] = [];
  flatten(root, items);
  const res = new Literals();
  const pre: i32[] = [];
  let i = 0;
  for (; i < items.length; i++) {
    const it = items[i];
    if (it.kind == N_EMPTY) continue;
    if (it.kind == N_ASSERT && pre.length == 0 && (it.assert & ~(A_BEGIN_TEXT | A_BEGIN_LINE)) == 0) continue;
    const r = literalRune(it);
    if (r < 0) break;
    pre.push(r);
  }
  let j = items.length - 1;
  for (; j >= i; j--) {
    const it = items[j];
    if (it.kind == N_EMPTY) continue;
    if (it.kind == N_ASSERT && (it.assert & ~(A_END_TEXT | A_END_LINE)) == 0) continue;
    break;
  }
  res.whole = j < i;
  res.prefix = fromRunes(pre, 0, pre.length);
  if (res.whole) return res;
  const suf: i32[] = [];
  for (; j >= i; j--) {
    const r = literalRune(items[j]);
    if (r < 0) break;
    suf.push(r);
  }
  suf.reverse();
  res.suffix = fromRunes(suf, 0, suf.length);
  return res;
}

function fromRunes(r: i32[], from: i32, to: i32): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(r[i]);
  return s;
}

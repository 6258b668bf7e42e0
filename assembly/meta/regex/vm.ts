// Pike-VM state-set simulation of a Program: one pass over the input, every NFA state at most
// once per position, so time is O(len(input) * len(program)) whatever the pattern.
// Only "does the whole string match" is asked, so threads carry no captures or priorities.
import { Program, OP_RUNE, OP_CLASS, OP_ANY, OP_SPLIT, OP_JMP, OP_ASSERT } from "./program";
import { classHas, isWordRune } from "./charclass";
import { A_BEGIN_LINE, A_END_LINE, A_BEGIN_TEXT, A_END_TEXT, A_WORD_BOUNDARY, A_NOT_WORD_BOUNDARY } from "./ast";

/** A set of program counters with O(1) insert, test and clear (Briggs & Torczon). */
class PcSet {
  dense: StaticArray<i32> = new StaticArray<i32>(0);
  sparse: StaticArray<i32> = new StaticArray<i32>(0);
  size: i32 = 0;

  reserve(n: i32): void {
    if (this.dense.length >= n) return;
    this.dense = new StaticArray<i32>(n);
    this.sparse = new StaticArray<i32>(n);
  }
  @inline has(pc: i32): bool {
    const i = unchecked(this.sparse[pc]);
    return i < this.size && unchecked(this.dense[i]) == pc;
  }
  @inline add(pc: i32): void {
    unchecked(this.sparse[pc] = this.size);
    unchecked(this.dense[this.size] = pc);
    this.size++;
  }
}

// Scratch shared by every Regex: the module is single-threaded and a match never re-enters,
// so one set of buffers, grown when a larger program is compiled, serves all matches.
let setA = new PcSet();
let setB = new PcSet();
let stack = new StaticArray<i32>(0);

/** Grow the shared scratch for a program of n instructions (at compile time, never per match). */
export function reserveScratch(n: i32): void {
  setA.reserve(n);
  setB.reserve(n);
  if (stack.length < 2 * n + 2) stack = new StaticArray<i32>(2 * n + 2);
}

/** Assertions that hold between rune `prev` and rune `next` (-1 = text boundary). */
function context(prev: i32, next: i32): i32 {
  let ctx = 0;
  if (prev < 0) ctx |= A_BEGIN_TEXT | A_BEGIN_LINE;
  else if (prev == 10) ctx |= A_BEGIN_LINE;
  if (next < 0) ctx |= A_END_TEXT | A_END_LINE;
  else if (next == 10) ctx |= A_END_LINE;
  ctx |= isWordRune(prev) != isWordRune(next) ? A_WORD_BOUNDARY : A_NOT_WORD_BOUNDARY;
  return ctx;
}

/** Follow empty transitions from pc, adding every reachable state to set. */
function addThread(p: Program, set: PcSet, pc0: i32, ctx: i32): void {
  let sp = 0;
  unchecked(stack[sp++] = pc0);
  while (sp > 0) {
    const pc = unchecked(stack[--sp]);
    if (set.has(pc)) continue;
    set.add(pc);
    const op = unchecked(p.op[pc]);
    if (op == OP_JMP) {
      unchecked(stack[sp++] = p.a[pc]);
    } else if (op == OP_SPLIT) {
      unchecked(stack[sp++] = p.b[pc]);
      unchecked(stack[sp++] = p.a[pc]);
    } else if (op == OP_ASSERT) {
      if (ctx & unchecked(p.a[pc])) unchecked(stack[sp++] = pc + 1);
    }
  }
}

/** The code point at code unit i of s (a lone surrogate is its own code unit), or -1 at the end. */
@inline function runeAt(s: string, i: i32, n: i32): i32 {
  if (i >= n) return -1;
  const base = changetype<usize>(s);
  const c = <i32>load<u16>(base + (<usize>i << 1));
  if ((c & 0xfc00) == 0xd800 && i + 1 < n) {
    const d = <i32>load<u16>(base + (<usize>(i + 1) << 1));
    if ((d & 0xfc00) == 0xdc00) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
  }
  return c;
}

export function fullMatch(p: Program, matchPc: i32, s: string): bool {
  const n = s.length;
  let clist = setA, nlist = setB;
  clist.size = 0;
  let cur = runeAt(s, 0, n);
  addThread(p, clist, 0, context(-1, cur));
  let pos = 0;
  while (pos < n) {
    if (clist.size == 0) return false;
    const width = cur >= 0x10000 ? 2 : 1;
    const next = runeAt(s, pos + width, n);
    const ctx = context(cur, next);
    nlist.size = 0;
    for (let i = 0; i < clist.size; i++) {
      const pc = unchecked(clist.dense[i]);
      const op = unchecked(p.op[pc]);
      let ok = false;
      if (op == OP_RUNE) ok = cur == unchecked(p.a[pc]);
      else if (op == OP_CLASS) ok = classHas(unchecked(p.classes[unchecked(p.a[pc])]), cur);
      else if (op == OP_ANY) ok = true;
      if (ok) addThread(p, nlist, pc + 1, ctx);
    }
    const t = clist; clist = nlist; nlist = t;
    pos += width;
    cur = next;
  }
  return clist.has(matchPc);
}

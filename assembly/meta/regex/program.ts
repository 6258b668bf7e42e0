// Compile the AST into a Thompson-NFA program (Pike-VM instructions). Repetitions {n,m} are
// expanded, so the size is computed first and patterns over MAX_PROGRAM are refused before
// any expansion happens.
import { Node, N_EMPTY, N_CLASS, N_ASSERT, N_CONCAT, N_ALT, N_REPEAT } from "./ast";
import { MAX_RUNE } from "./charclass";

export const OP_RUNE: i32 = 0;   // consume rune a
export const OP_CLASS: i32 = 1;  // consume a rune in ranges[a .. a + 2b)
export const OP_ANY: i32 = 2;    // consume any rune
export const OP_SPLIT: i32 = 3;  // continue at a and at b
export const OP_JMP: i32 = 4;    // continue at a
export const OP_ASSERT: i32 = 5; // continue at pc+1 when an assertion in mask a holds
export const OP_MATCH: i32 = 6;

export const MAX_PROGRAM: i32 = 5000;

/** A compiled program: (op, a, b) triples; a CLASS's a/b are its offset/pair count in `ranges`. */
export class Program {
  constructor(public code: StaticArray<i32>, public ranges: StaticArray<i32>) {}
  get length(): i32 { return this.code.length / 3; }
}

/** Instruction count of n, saturating just above MAX_PROGRAM (so nested repeats cannot overflow). */
export function programSize(n: Node): i32 {
  const cap = MAX_PROGRAM + 1;
  if (n.kind == N_EMPTY) return 0;
  if (n.kind == N_CLASS || n.kind == N_ASSERT) return 1;
  if (n.kind == N_CONCAT || n.kind == N_ALT) {
    let total: i64 = n.kind == N_ALT ? 2 * <i64>(n.subs.length - 1) : 0; // split + jmp per extra branch
    for (let i = 0; i < n.subs.length; i++) {
      total += programSize(n.subs[i]);
      if (total > cap) return cap;
    }
    return <i32>total;
  }
  // N_REPEAT
  const x = <i64>programSize(n.subs[0]);
  let total: i64;
  if (n.max == -1) total = n.min == 0 ? x + 2 : <i64>n.min * x + 1;  // x* | x..x x+
  else total = <i64>n.min * x + <i64>(n.max - n.min) * (x + 1);      // x..x (x(x)?)?
  return total > cap ? cap : <i32>total;
}

class Emitter {
  code: i32[] = [];
  ranges: i32[] = [];

  emit(op: i32, a: i32, b: i32): i32 {
    this.code.push(op); this.code.push(a); this.code.push(b);
    return this.code.length / 3 - 1;
  }
  get pc(): i32 { return this.code.length / 3; }
  @inline setA(pc: i32, v: i32): void { this.code[3 * pc + 1] = v; }
  @inline setB(pc: i32, v: i32): void { this.code[3 * pc + 2] = v; }

  node(n: Node): void {
    switch (n.kind) {
      case N_EMPTY: return;
      case N_CLASS: { this.cls(n); return; }
      case N_ASSERT: { this.emit(OP_ASSERT, n.assert, 0); return; }
      case N_CONCAT: { for (let i = 0; i < n.subs.length; i++) this.node(n.subs[i]); return; }
      case N_ALT: { this.alt(n.subs); return; }
      default: this.repeat(n.subs[0], n.min, n.max);
    }
  }

  private cls(n: Node): void {
    const r = changetype<StaticArray<i32>>(n.ranges);
    if (r.length == 2 && r[0] == r[1]) { this.emit(OP_RUNE, r[0], 0); return; }
    if (r.length == 2 && r[0] == 0 && r[1] == MAX_RUNE) { this.emit(OP_ANY, 0, 0); return; }
    if (n.rangeAt < 0) { // once per node: a repeated class shares its ranges
      n.rangeAt = this.ranges.length;
      for (let i = 0; i < r.length; i++) this.ranges.push(r[i]);
    }
    this.emit(OP_CLASS, n.rangeAt, r.length >> 1);
  }

  //   split L1, next; L1: x1; jmp end; next: split L2, next2; ... ; last: xn; end:
  private alt(subs: Node[]): void {
    const jumps: i32[] = [];
    for (let i = 0; i < subs.length; i++) {
      if (i < subs.length - 1) {
        const split = this.emit(OP_SPLIT, 0, 0);
        this.setA(split, this.pc);
        this.node(subs[i]);
        jumps.push(this.emit(OP_JMP, 0, 0));
        this.setB(split, this.pc);
      } else {
        this.node(subs[i]);
      }
    }
    for (let i = 0; i < jumps.length; i++) this.setA(jumps[i], this.pc);
  }

  private repeat(x: Node, min: i32, max: i32): void {
    if (max == -1) {
      if (min == 0) { this.star(x); return; }
      for (let i = 0; i < min - 1; i++) this.node(x);
      const top = this.pc;                       // x+ : L: x; split L, out
      this.node(x);
      this.emit(OP_SPLIT, top, this.pc + 1);
      return;
    }
    for (let i = 0; i < min; i++) this.node(x);
    // (x(x(x)?)?)? : each optional copy skips to the common end
    const skips: i32[] = [];
    for (let i = min; i < max; i++) {
      const split = this.emit(OP_SPLIT, 0, 0);
      this.setA(split, this.pc);
      skips.push(split);
      this.node(x);
    }
    for (let i = 0; i < skips.length; i++) this.setB(skips[i], this.pc);
  }

  //   L: split body, out; body: x; jmp L; out:
  private star(x: Node): void {
    const top = this.emit(OP_SPLIT, 0, 0);
    this.setA(top, this.pc);
    this.node(x);
    this.emit(OP_JMP, top, 0);
    this.setB(top, this.pc);
  }
}

/** Compile; the caller has checked programSize(root) + 1 <= MAX_PROGRAM. */
export function compile(root: Node): Program {
  const e = new Emitter();
  e.node(root);
  e.emit(OP_MATCH, 0, 0);
  return new Program(toStatic(e.code), toStatic(e.ranges));
}

function toStatic(a: i32[]): StaticArray<i32> {
  const s = new StaticArray<i32>(a.length);
  for (let i = 0; i < a.length; i++) unchecked(s[i] = a[i]);
  return s;
}

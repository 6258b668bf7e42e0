// The parsed form of a pattern. Captures are not kept: the engine answers full match yes/no,
// for which groups, names and greediness change nothing.

export const N_EMPTY: i32 = 0;   // matches the empty string
export const N_CLASS: i32 = 1;   // one rune from `ranges` (a literal is a one-rune class)
export const N_ASSERT: i32 = 2;  // empty-width assertion, `assert` is an A_* mask
export const N_CONCAT: i32 = 3;
export const N_ALT: i32 = 4;
export const N_REPEAT: i32 = 5;  // subs[0] repeated min..max times (max -1 = unbounded)

// Empty-width assertion bits; the matcher computes the set that holds at each position.
export const A_BEGIN_LINE: i32 = 1;
export const A_END_LINE: i32 = 2;
export const A_BEGIN_TEXT: i32 = 4;
export const A_END_TEXT: i32 = 8;
export const A_WORD_BOUNDARY: i32 = 16;
export const A_NOT_WORD_BOUNDARY: i32 = 32;

export class Node {
  kind: i32;
  subs: Node[] = [];
  ranges: StaticArray<i32> | null = null;
  assert: i32 = 0;
  min: i32 = 0;
  max: i32 = 0;
  /** For a counted repeat {n,m}: the product of the counts nested in it, itself included. */
  counts: i64 = 0;
  /** For a class: where the compiler put its ranges (-1: not yet). */
  rangeAt: i32 = -1;

  constructor(kind: i32) { this.kind = kind; }

  static empty(): Node { return new Node(N_EMPTY); }

  static cls(ranges: StaticArray<i32>): Node {
    const n = new Node(N_CLASS);
    n.ranges = ranges;
    return n;
  }

  static assertion(mask: i32): Node {
    const n = new Node(N_ASSERT);
    n.assert = mask;
    return n;
  }

  static repeat(sub: Node, min: i32, max: i32): Node {
    const n = new Node(N_REPEAT);
    n.subs.push(sub);
    n.min = min;
    n.max = max;
    return n;
  }

  static list(kind: i32, subs: Node[]): Node {
    if (subs.length == 1) return subs[0];
    if (subs.length == 0 && kind == N_CONCAT) return Node.empty();
    const n = new Node(kind);
    n.subs = subs;
    return n;
  }
}

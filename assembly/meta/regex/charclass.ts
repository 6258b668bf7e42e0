// Character classes as sorted, merged code-point ranges [lo0, hi0, lo1, hi1, ...].
// Built while parsing, frozen into a StaticArray for the matcher (binary search).
import { FOLD_RUNS, ALT } from "./casefold";

export const MAX_RUNE: i32 = 0x10ffff;

export class RangeSet {
  r: i32[] = [];

  add(lo: i32, hi: i32): void { this.r.push(lo); this.r.push(hi); }

  addSet(o: RangeSet): void {
    for (let i = 0; i < o.r.length; i++) this.r.push(unchecked(o.r[i]));
  }

  /** Sort by lo and merge overlapping or adjacent ranges. */
  normalize(): void {
    const n = this.r.length >> 1;
    if (n <= 1) return;
    sortPairs(this.r, n);
    const out: i32[] = [];
    let curLo = this.r[0], curHi = this.r[1];
    for (let i = 1; i < n; i++) {
      const lo = this.r[2 * i], hi = this.r[2 * i + 1];
      if (lo <= curHi + 1) {
        if (hi > curHi) curHi = hi;
      } else {
        out.push(curLo); out.push(curHi);
        curLo = lo; curHi = hi;
      }
    }
    out.push(curLo); out.push(curHi);
    this.r = out;
  }

  /** Complement within [0, MAX_RUNE]. */
  negate(): void {
    this.normalize();
    const out: i32[] = [];
    let next = 0;
    for (let i = 0; i < this.r.length; i += 2) {
      const lo = this.r[i], hi = this.r[i + 1];
      if (lo > next) { out.push(next); out.push(lo - 1); }
      next = hi + 1;
    }
    if (next <= MAX_RUNE) { out.push(next); out.push(MAX_RUNE); }
    this.r = out;
  }

  /**
   * Add every rune fold-equivalent to a member (Unicode simple case folding, as RE2 under (?i)):
   * follow each orbit (k -> K -> U+212A -> k) until the set stops growing.
   */
  addCaseFolds(): void {
    this.normalize();
    for (let round = 0; round < 4; round++) {
      const before = this.r.length;
      const n = this.r.length;
      for (let i = 0; i < n; i += 2) {
        const lo = this.r[i], hi = this.r[i + 1];
        for (let j = 0; j < FOLD_RUNS.length; j += 2) {
          const packed = unchecked(FOLD_RUNS[j]);
          const flo = packed & 0x1fffff, fhi = flo + (packed >>> 21);
          if (flo > hi) break; // runs are sorted
          const a = lo > flo ? lo : flo, b = hi < fhi ? hi : fhi;
          if (a > b) continue;
          const d = unchecked(FOLD_RUNS[j + 1]);
          if (d == ALT) this.add(a - ((a - flo) & 1), b + 1 - ((b - flo) & 1));
          else this.add(a + d, b + d);
        }
      }
      this.normalize();
      if (this.r.length == before && round > 0) break;
    }
  }

  freeze(): StaticArray<i32> {
    this.normalize();
    const s = new StaticArray<i32>(this.r.length);
    for (let i = 0; i < this.r.length; i++) unchecked(s[i] = this.r[i]);
    return s;
  }
}

/** Heap sort of n (lo, hi) pairs by lo: O(n log n) on hostile patterns, no comparator closure. */
export function sortPairs(r: i32[], n: i32): void {
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(r, i, n);
  for (let end = n - 1; end > 0; end--) {
    swapPairs(r, 0, end);
    siftDown(r, 0, end);
  }
}

function siftDown(r: i32[], root: i32, n: i32): void {
  while (true) {
    let child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && r[2 * (child + 1)] > r[2 * child]) child++;
    if (r[2 * root] >= r[2 * child]) return;
    swapPairs(r, root, child);
    root = child;
  }
}

function swapPairs(r: i32[], a: i32, b: i32): void {
  const lo = r[2 * a], hi = r[2 * a + 1];
  r[2 * a] = r[2 * b]; r[2 * a + 1] = r[2 * b + 1];
  r[2 * b] = lo; r[2 * b + 1] = hi;
}

/**
 * \d \w \s (RE2: ASCII only; \s is [\t\n\f\r ], no \v). Returns false for other letters.
 * Under (?i) the class is case-folded before a negation (\D \W \S), as RE2 does: (?i)\w takes
 * U+212A KELVIN SIGN and U+017F LONG S, and (?i)\W leaves them out.
 */
export function addPerlClass(set: RangeSet, letter: i32, fold: bool): bool {
  const lower = letter | 0x20;
  const tmp = new RangeSet();
  if (lower == 0x64) { // d
    tmp.add(0x30, 0x39);
  } else if (lower == 0x77) { // w
    tmp.add(0x30, 0x39); tmp.add(0x41, 0x5a); tmp.add(0x5f, 0x5f); tmp.add(0x61, 0x7a);
  } else if (lower == 0x73) { // s
    tmp.add(0x09, 0x0a); tmp.add(0x0c, 0x0d); tmp.add(0x20, 0x20);
  } else {
    return false;
  }
  if (fold) tmp.addCaseFolds();
  if (letter != lower) tmp.negate(); // \D \W \S
  set.addSet(tmp);
  return true;
}

/** [:name:] POSIX classes (ASCII, as RE2; folded like addPerlClass). False for an unknown name. */
export function addPosixClass(set: RangeSet, name: string, negated: bool, fold: bool): bool {
  const tmp = new RangeSet();
  if (name == "alnum") { tmp.add(0x30, 0x39); tmp.add(0x41, 0x5a); tmp.add(0x61, 0x7a); }
  else if (name == "alpha") { tmp.add(0x41, 0x5a); tmp.add(0x61, 0x7a); }
  else if (name == "ascii") { tmp.add(0, 0x7f); }
  else if (name == "blank") { tmp.add(0x09, 0x09); tmp.add(0x20, 0x20); }
  else if (name == "cntrl") { tmp.add(0, 0x1f); tmp.add(0x7f, 0x7f); }
  else if (name == "digit") { tmp.add(0x30, 0x39); }
  else if (name == "graph") { tmp.add(0x21, 0x7e); }
  else if (name == "lower") { tmp.add(0x61, 0x7a); }
  else if (name == "print") { tmp.add(0x20, 0x7e); }
  else if (name == "punct") { tmp.add(0x21, 0x2f); tmp.add(0x3a, 0x40); tmp.add(0x5b, 0x60); tmp.add(0x7b, 0x7e); }
  else if (name == "space") { tmp.add(0x09, 0x0d); tmp.add(0x20, 0x20); }
  else if (name == "upper") { tmp.add(0x41, 0x5a); }
  else if (name == "word") { tmp.add(0x30, 0x39); tmp.add(0x41, 0x5a); tmp.add(0x5f, 0x5f); tmp.add(0x61, 0x7a); }
  else if (name == "xdigit") { tmp.add(0x30, 0x39); tmp.add(0x41, 0x46); tmp.add(0x61, 0x66); }
  else return false;
  if (fold) tmp.addCaseFolds();
  if (negated) tmp.negate();
  set.addSet(tmp);
  return true;
}

@inline export function isWordRune(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}

// Full-match execution of a Program: a lazily built DFA whose states are sets of NFA
// instructions, built one transition at a time and cached in a bounded table. A cached step is
// two loads per input character. When a pattern needs more states than the cache holds (e.g.
// `[ab]*a[ab]{20}`), the cache is cleared and refilled; when that happens too often the rest of
// the input runs without caching (the same state-set stepping, as a Pike VM would): time stays
// O(input x live NFA states) and memory stays bounded whatever the pattern and the input.
import { Program, OP_RUNE, OP_CLASS, OP_ANY, OP_SPLIT, OP_JMP, OP_ASSERT } from "./program";
import { isWordRune, RangeSet, sortPairs } from "./charclass";
import { A_BEGIN_LINE, A_END_LINE, A_BEGIN_TEXT, A_END_TEXT, A_WORD_BOUNDARY, A_NOT_WORD_BOUNDARY } from "./ast";

// What a state remembers of the rune before it, for the assertions the program uses.
const P_BEGIN: i32 = 1; // no rune yet (start of text)
const P_WORD: i32 = 2;  // previous rune is a word character (only if the program has \b or \B)
const P_NL: i32 = 4;    // previous rune is '\n' (only if the program has multi-line ^)

/** Bytes one regex's DFA cache may use (transitions + state sets). */
export const DFA_CACHE_BYTES: i32 = 32768;
/** Patterns whose alphabet splits into more rune classes than this run without a DFA cache. */
const MAX_CLASSES: i32 = 1024;
/** DFA caches and follow sets of all regexes of one config together (see CacheBudget). */
export const CONFIG_CACHE_BYTES: i64 = 8 << 20;

/**
 * Memory the regexes of one config may take for caches, taken when a regex first runs. A regex
 * that finds the budget spent runs uncached (still linear). A config update starts a new budget:
 * the old one goes with the old config's regexes.
 */
export class CacheBudget {
  constructor(public bytes: i64) {}
  take(n: i64): bool {
    if (n > this.bytes) return false;
    this.bytes -= n;
    return true;
  }
}
let budget = new CacheBudget(CONFIG_CACHE_BYTES);
/** Regexes compiled from now on share a fresh budget (called when a config is parsed). */
export function newCacheBudget(): void { budget = new CacheBudget(CONFIG_CACHE_BYTES); }

/** NFA instructions visited while building states (a work counter for tests, never reset). */
export let regexWork: i64 = 0;
/**
 * Regex work one callback may spend (NFA instructions visited, building DFA states or stepping
 * uncached): about 13 ms at the ~3 ns per unit measured for the worst accepted patterns. A match
 * that would go over it answers "no match" (counted as regex_budget_exceeded by the caller), and
 * so does every later one that needs work in the same callback; cached DFA steps cost nothing
 * here. Together with maxRegexInputBytes this bounds a callback's regex time for every accepted
 * config, whatever a client sends.
 */
export const REGEX_WORK_BUDGET: i64 = 1 << 22;
let workBudget: i64 = REGEX_WORK_BUDGET;
/** Benchmarks and differential tests measure the engine itself: -1 lifts the bound. */
export function setRegexWorkBudget(n: i64): void { workBudget = n < 0 ? i64.MAX_VALUE : n; }
let workStart: i64 = 0;
let overBudget = false;
/** A callback begins (or ends): the budget is whole again. */
export function resetRegexBudget(): void { workStart = regexWork; }
/** Whether a match since the last call answered "no match" for want of budget; clears it. */
export function takeRegexOverBudget(): bool { const b = overBudget; overBudget = false; return b; }
@inline function budgetSpent(): bool {
  if (regexWork - workStart <= workBudget) return false;
  overBudget = true;
  return true;
}
/** Times a DFA cache was cleared because it was full. */
export let dfaResets: i64 = 0;
/** Tests: run every match uncached (the path a thrashing cache takes), to compare both paths. */
let uncachedOnly = false;
export function setUncachedOnly(on: bool): void { uncachedOnly = on; }

// ---- scratch shared by every regex (single-threaded module; a match never re-enters) ----
let seen = new StaticArray<i32>(0);   // sparse set: pc -> index in order
let order = new StaticArray<i32>(0);  // closure visiting order (dense)
let nSeen = 0;
let stack = new StaticArray<i32>(0);
let bits = new StaticArray<u32>(0);   // kernel under construction, as a bitset of pcs
let kernelA = new StaticArray<i32>(0);
let kernelB = new StaticArray<i32>(0);
// Their addresses: the hot functions use raw loads and stores only (no bounds checks and no
// managed locals, which the incremental runtime would spill to its shadow stack).
let seenP: usize = 0, orderP: usize = 0, stackP: usize = 0, bitsP: usize = 0, kAP: usize = 0, kBP: usize = 0;

/** Grow the shared scratch for a program of n instructions (at compile time, never per match). */
export function reserveScratch(n: i32): void {
  if (seen.length >= n) return;
  seen = new StaticArray<i32>(n);
  order = new StaticArray<i32>(n);
  stack = new StaticArray<i32>(2 * n + 2);
  bits = new StaticArray<u32>((n >> 5) + 1);
  kernelA = new StaticArray<i32>(n);
  kernelB = new StaticArray<i32>(n);
  seenP = changetype<usize>(seen); orderP = changetype<usize>(order); stackP = changetype<usize>(stack);
  bitsP = changetype<usize>(bits); kAP = changetype<usize>(kernelA); kBP = changetype<usize>(kernelB);
}

@inline function ld(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
@inline function st(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }

@inline function seenHas(pc: i32): bool {
  const i = ld(seenP, pc);
  return i < nSeen && ld(orderP, i) == pc;
}

export class Dfa {
  /** Instructions as (op, a, b) triples; a CLASS's a/b are its offset/pair count in `ranges`. */
  code: StaticArray<i32>;
  ranges: StaticArray<i32>;
  length: i32;       // instructions
  matchPc: i32;
  /** Rune class of each rune below 256; above, binary search in `bounds`. */
  low: StaticArray<u16> = new StaticArray<u16>(256);
  /** Sorted first runes of each class after class 0. */
  bounds: StaticArray<i32>;
  k: i32;            // number of rune classes
  prevMask: i32;     // P_* bits the program's assertions need
  // ---- the cache (allocated at the first match) ----
  cap: i32 = 0;      // states
  nStates: i32 = 0;
  trans: StaticArray<i32> = new StaticArray<i32>(0);   // [state * k + class] -> next state * k * 4, -1 unknown
  prev: StaticArray<u8> = new StaticArray<u8>(0);      // P_* bits per state
  fin: StaticArray<i8> = new StaticArray<i8>(0);       // -1 unknown, 0, 1: matches at end of text
  kStart: StaticArray<i32> = new StaticArray<i32>(0);  // state set i is pool[kStart[i] .. kStart[i+1])
  pool: StaticArray<i32> = new StaticArray<i32>(0);
  table: StaticArray<i32> = new StaticArray<i32>(0);   // open addressing: state index + 1, 0 empty
  noCache: bool = false;
  private budget: CacheBudget = budget;

  constructor(prog: Program) {
    const len = prog.length, code = prog.code, ranges = prog.ranges;
    this.length = len;
    this.matchPc = len - 1;
    this.code = code;
    this.ranges = ranges;
    // Class boundaries: every range edge, plus \w and '\n' edges when assertions look at them.
    const edges = new RangeSet(); // edges as (e, e) pairs: sorted with the class sorter
    let asserts = 0;
    for (let pc = 0; pc < len; pc++) {
      const op = code[3 * pc], x = code[3 * pc + 1];
      if (op == OP_RUNE) { edges.add(x, x); edges.add(x + 1, x + 1); }
      else if (op == OP_CLASS) {
        for (let i = x; i < x + 2 * code[3 * pc + 2]; i += 2) {
          const lo = ranges[i], hi1 = ranges[i + 1] + 1;
          edges.add(lo, lo); edges.add(hi1, hi1);
        }
      } else if (op == OP_ASSERT) { asserts |= x; this.hasAsserts = true; }
    }
    let mask = 0;
    if (asserts & (A_WORD_BOUNDARY | A_NOT_WORD_BOUNDARY)) {
      mask |= P_WORD;
      edges.add(0x30, 0x30); edges.add(0x3a, 0x3a); edges.add(0x41, 0x41); edges.add(0x5b, 0x5b);
      edges.add(0x5f, 0x5f); edges.add(0x60, 0x60); edges.add(0x61, 0x61); edges.add(0x7b, 0x7b);
    }
    if (asserts & (A_BEGIN_LINE | A_END_LINE)) { edges.add(10, 10); edges.add(11, 11); }
    if (asserts & A_BEGIN_LINE) mask |= P_NL;
    this.prevMask = mask;
    const ev = edges.r;
    sortPairs(ev, ev.length >> 1);
    let n = 0;
    for (let i = 0; i < ev.length; i += 2) {
      const e = ev[i];
      if (e > 0 && e <= 0x10ffff && (n == 0 || ev[n - 1] != e)) ev[n++] = e;
    }
    const b = new StaticArray<i32>(n);
    for (let i = 0; i < n; i++) unchecked(b[i] = ev[i]);
    this.bounds = b;
    this.k = n + 1;
    let cls = 0;
    for (let c = 0; c < 256; c++) {
      while (cls < n && unchecked(b[cls]) <= c) cls++;
      unchecked(this.low[c] = <u16>(cls << 2));
    }
    if (this.k > MAX_CLASSES) this.noCache = true;
  }

  /** Rune class of r (r >= 256): the number of bounds <= r. */
  classOf(r: i32): i32 {
    const b = this.bounds;
    let lo = 0, hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (unchecked(b[mid]) <= r) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Whether the whole of s (UTF-16; surrogate pairs are one rune) matches. */
  fullMatch(s: string): bool {
    if (this.cap == 0 && !this.noCache) this.allocate(); // may find the budget spent: noCache
    const n = s.length;
    const base = changetype<usize>(s);
    if (this.noCache || uncachedOnly) return this.run(s, 0, P_BEGIN, kernelStart());
    this.resets = 0;
    this.lastResetAt = 0;
    // State ids are byte offsets of their row in `trans` (index * k * 4); the low-rune table
    // holds class * 4: one add and one load per character.
    const row = this.k << 2;
    let st = row; // state 1: start
    // Raw addresses: no bounds checks and no managed locals in the per-character loop.
    // `trans` and `low` never move once allocated.
    const trans = changetype<usize>(this.trans);
    const low = changetype<usize>(this.low);
    let i = 0;
    while (i < n) {
      let r = <i32>load<u16>(base + (<usize>i << 1));
      let w = 1;
      let off: i32;
      if (r < 256) off = <i32>load<u16>(low + (<usize>r << 1));
      else {
        if ((r & 0xfc00) == 0xd800 && i + 1 < n) {
          const d = <i32>load<u16>(base + (<usize>(i + 1) << 1));
          if ((d & 0xfc00) == 0xdc00) { r = 0x10000 + ((r - 0xd800) << 10) + (d - 0xdc00); w = 2; }
        }
        off = this.classOf(r) << 2;
      }
      let next = load<i32>(trans + <usize>(st + off));
      if (next <= 0) {
        if (next == 0) return false; // dead: no thread left
        next = this.build(st / row, r, off >> 2, i);
        if (next == -2) return this.run(s, i, unchecked(this.prev[st / row]), this.copyKernel(st / row));
        if (next == 0 || budgetSpent()) return false;
      }
      st = next;
      i += w;
    }
    return this.isFinal(st / row);
  }

  private allocate(): void {
    const k = this.k;
    // Half the bytes for transitions, half for state sets; at least 8 states.
    let cap = (DFA_CACHE_BYTES >> 1) / (k * 4 + 8);
    if (cap < 8) cap = 8;
    const poolInts = max(DFA_CACHE_BYTES >> 3, this.length + 1);
    if (!this.budget.take(<i64>cap * (k * 4 + 14) + <i64>poolInts * 4 + 64)) { this.noCache = true; return; }
    this.cap = cap;
    this.trans = new StaticArray<i32>(cap * k);
    this.prev = new StaticArray<u8>(cap);
    this.fin = new StaticArray<i8>(cap);
    this.kStart = new StaticArray<i32>(cap + 1);
    this.pool = new StaticArray<i32>(poolInts);
    let t = 16;
    while (t < 2 * cap) t <<= 1;
    this.table = new StaticArray<i32>(t);
    this.clear();
  }

  /** Empty the cache, then add the dead state (0) and the start state (1). */
  private clear(): void {
    this.nStates = 0;
    unchecked(this.kStart[0] = 0);
    memory.fill(changetype<usize>(this.trans), 0xff, <usize>this.trans.length << 2);
    memory.fill(changetype<usize>(this.table), 0, <usize>this.table.length << 2);
    this.add(0, 0); // dead: empty set
    const dead = this.trans;
    for (let c = 0; c < this.k; c++) unchecked(dead[c] = 0);
    kernelA[0] = 0;
    this.add(1, P_BEGIN);
  }


  /** Insert the kernel held in kernelA[0..n) with prev bits p; returns its index, or -1 when full. */
  private add(n: i32, p: i32): i32 {
    const idx = this.nStates;
    const at = unchecked(this.kStart[idx]);
    if (idx >= this.cap || at + n > this.pool.length) return -1;
    memory.copy(changetype<usize>(this.pool) + (<usize>at << 2), kAP, <usize>n << 2);
    unchecked(this.kStart[idx + 1] = at + n);
    unchecked(this.prev[idx] = <u8>p);
    unchecked(this.fin[idx] = -1);
    this.nStates = idx + 1;
    const mask = this.table.length - 1;
    let h = hashKernel(n, p) & mask;
    while (unchecked(this.table[h]) != 0) h = (h + 1) & mask;
    unchecked(this.table[h] = idx + 1);
    return idx;
  }

  /** The index of the state (kernelA[0..n), p), or -1. */
  private find(n: i32, p: i32): i32 {
    const mask = this.table.length - 1;
    let h = hashKernel(n, p) & mask;
    while (true) {
      const e = unchecked(this.table[h]);
      if (e == 0) return -1;
      const idx = e - 1;
      const at = unchecked(this.kStart[idx]);
      if (unchecked(this.prev[idx]) == p && unchecked(this.kStart[idx + 1]) - at == n) {
        if (memory.compare(changetype<usize>(this.pool) + (<usize>at << 2), kAP, <usize>n << 2) == 0) return idx;
      }
      h = (h + 1) & mask;
    }
  }

  private resets: i32 = 0;
  private lastResetAt: i32 = 0;

  /**
   * Compute and cache the transition of state `from` on rune r (class cls) at input offset i.
   * Returns the next state as a row offset (0 = dead), or -2: stop caching, finish uncached.
   */
  private build(from: i32, r: i32, cls: i32, i: i32): i32 {
    const at = unchecked(this.kStart[from]);
    const n = step(this, changetype<usize>(this.pool) + (<usize>at << 2), unchecked(this.kStart[from + 1]) - at, unchecked(this.prev[from]), r);
    const row = this.k << 2;
    if (n == 0) { unchecked(this.trans[from * this.k + cls] = 0); return 0; }
    const p = prevBits(r, this.prevMask);
    let to = this.find(n, p);
    if (to < 0) {
      to = this.add(n, p);
      if (to < 0) {
        // Full. Thrashing (the cache refilled within a few characters per state): give up caching
        // for the rest of this input; otherwise start afresh and keep going.
        // (RE2 does the same: a DFA that needs a new state every character or two is slower
        // than stepping NFA state sets directly.)
        dfaResets++;
        if (i - this.lastResetAt < 2 * this.cap) { this.lastResetAt = 0; return -2; }
        this.lastResetAt = i;
        memory.copy(kBP, kAP, <usize>n << 2);
        this.clear();
        memory.copy(kAP, kBP, <usize>n << 2);
        to = this.add(n, p); // fits: the cache holds two states only
        return to * row; // not linked from `from`: it was dropped
      }
    }
    unchecked(this.trans[from * this.k + cls] = to * row);
    return to * row;
  }

  private copyKernel(idx: i32): i32 {
    const at = unchecked(this.kStart[idx]);
    const n = unchecked(this.kStart[idx + 1]) - at;
    memory.copy(kBP, changetype<usize>(this.pool) + (<usize>at << 2), <usize>n << 2);
    return n;
  }

  private isFinal(idx: i32): bool {
    let f = unchecked(this.fin[idx]);
    if (f < 0) {
      const at = unchecked(this.kStart[idx]);
      f = endMatches(this, changetype<usize>(this.pool) + (<usize>at << 2), unchecked(this.kStart[idx + 1]) - at, unchecked(this.prev[idx])) ? 1 : 0;
      unchecked(this.fin[idx] = f);
    }
    return f == 1;
  }

  /**
   * Uncached stepping from offset i, the current state set in kernelB[0..n) with prev bits p:
   * one state-set step per rune, as a Pike VM (no cache to thrash, O(live states) per rune).
   */
  private run(s: string, i: i32, p: i32, n: i32): bool {
    if (this.prevMask == 0 && !this.hasAsserts && this.follow()) return this.runFollow(s, i, n);
    const len = s.length;
    const base = changetype<usize>(s);
    const mask = this.prevMask;
    while (i < len) {
      if (n == 0) return false;
      let r = <i32>load<u16>(base + (<usize>i << 1));
      let w = 1;
      if ((r & 0xfc00) == 0xd800 && i + 1 < len) {
        const d = <i32>load<u16>(base + (<usize>(i + 1) << 1));
        if ((d & 0xfc00) == 0xdc00) { r = 0x10000 + ((r - 0xd800) << 10) + (d - 0xdc00); w = 2; }
      }
      n = step(this, kBP, n, p, r); // reads kernelB, writes kernelA
      if (budgetSpent()) return false;
      memory.copy(kBP, kAP, <usize>n << 2);
      p = prevBits(r, mask);
      i += w;
    }
    return endMatches(this, kBP, n, p);
  }

  // ---- Uncached stepping without assertions: precomputed follow sets ----
  // For a program without assertions the empty transitions do not depend on the input, so the
  // consuming instructions (and the match) reachable after each consuming instruction are
  // computed once; a step is then a walk over the live states' follow lists, with no closure.
  hasAsserts: bool = false;
  private followAt: StaticArray<i32> = new StaticArray<i32>(0); // pc -> start in followList; pc+1 -> end
  private followList: StaticArray<i32> = new StaticArray<i32>(0);
  private followState: i32 = 0; // 0 not built, 1 built, -1 too large
  /** With at most 64 rune classes: bit c of acceptMask[pc] says whether pc consumes class c. */
  private acceptMask: StaticArray<u64> = new StaticArray<u64>(0);

  /** Build the follow sets once; false when they would be too large (quadratic patterns). */
  private follow(): bool {
    if (this.followState != 0) return this.followState > 0;
    const len = this.length, code = changetype<usize>(this.code);
    const at = new StaticArray<i32>(len + 1);
    const list: i32[] = [];
    const limit = 8 * len + 1024;
    let work = 0;
    for (let pc = 0; pc < len; pc++) {
      unchecked(at[pc] = list.length);
      const op = load<i32>(code + <usize>pc * 12);
      if (op != OP_RUNE && op != OP_CLASS && op != OP_ANY) continue;
      st(kAP, 0, pc + 1);
      closure(code, kAP, 1, 0);
      work += nSeen;
      for (let j = 0; j < nSeen; j++) {
        const t = ld(orderP, j);
        const o = load<i32>(code + <usize>t * 12);
        if (o == OP_RUNE || o == OP_CLASS || o == OP_ANY || t == this.matchPc) list.push(t);
      }
      if (work > limit || list.length > limit) { this.followState = -1; return false; }
    }
    if (!this.budget.take(<i64>(len + 1 + list.length) * 4 + (this.k <= 64 ? <i64>len * 8 : 0))) { this.followState = -1; return false; }
    unchecked(at[len] = list.length);
    const fl = new StaticArray<i32>(list.length);
    for (let j = 0; j < list.length; j++) unchecked(fl[j] = list[j]);
    this.followAt = at;
    this.followList = fl;
    if (this.k <= 64) {
      const am = new StaticArray<u64>(len);
      for (let pc = 0; pc < len; pc++) {
        let bitsOf: u64 = 0;
        for (let c = 0; c < this.k; c++) {
          const rep = c == 0 ? 0 : unchecked(this.bounds[c - 1]); // every rune of a class is alike
          if (consumes(this, pc, rep)) bitsOf |= (<u64>1) << <u64>c;
        }
        unchecked(am[pc] = bitsOf);
      }
      this.acceptMask = am;
    }
    this.followState = 1;
    return true;
  }

  /** From offset i with the state set in kernelB[0..n) (not yet closed). */
  private runFollow(s: string, i: i32, n: i32): bool {
    const code = changetype<usize>(this.code);
    const at = changetype<usize>(this.followAt), fl = changetype<usize>(this.followList);
    // Close the starting set: its consuming instructions and the match.
    closure(code, kBP, n, 0);
    let cur = kAP, nxt = kBP, cnt = 0;
    for (let j = 0; j < nSeen; j++) {
      const t = ld(orderP, j);
      const o = load<i32>(code + <usize>t * 12);
      if (o == OP_RUNE || o == OP_CLASS || o == OP_ANY || t == this.matchPc) st(cur, cnt++, t);
    }
    const len = s.length, base = changetype<usize>(s);
    const am = changetype<usize>(this.acceptMask), masks = this.acceptMask.length > 0;
    const low = changetype<usize>(this.low);
    while (i < len) {
      if (cnt == 0) return false;
      let r = <i32>load<u16>(base + (<usize>i << 1));
      let w = 1;
      if ((r & 0xfc00) == 0xd800 && i + 1 < len) {
        const d = <i32>load<u16>(base + (<usize>(i + 1) << 1));
        if ((d & 0xfc00) == 0xdc00) { r = 0x10000 + ((r - 0xd800) << 10) + (d - 0xdc00); w = 2; }
      }
      const cls = <u64>(r < 256 ? <i32>load<u16>(low + (<usize>r << 1)) >> 2 : this.classOf(r));
      let out = 0;
      for (let j = 0; j < cnt; j++) {
        const pc = ld(cur, j);
        if (masks) {
          if (((load<u64>(am + (<usize>pc << 3)) >> cls) & 1) == 0) continue;
        } else if (!consumes(this, pc, r)) continue;
        const end = ld(at, pc + 1);
        for (let k = ld(at, pc); k < end; k++) {
          const t = ld(fl, k);
          const x = ld(seenP, t);
          if (x < out && ld(nxt, x) == t) continue; // already in the next set
          st(seenP, t, out);
          st(nxt, out++, t);
        }
      }
      regexWork += cnt;
      if (budgetSpent()) return false;
      const tmp = cur; cur = nxt; nxt = tmp;
      cnt = out;
      i += w;
    }
    for (let j = 0; j < cnt; j++) if (ld(cur, j) == this.matchPc) return true;
    return false;
  }
}

/** kernelB holds the start set {0}; returns its size. */
function kernelStart(): i32 { unchecked(kernelB[0] = 0); return 1; }

@inline function prevBits(r: i32, mask: i32): i32 {
  let p = 0;
  if (isWordRune(r)) p |= P_WORD;
  if (r == 10) p |= P_NL;
  return p & mask;
}

/** Assertions that hold between a rune described by prev bits p and rune `next` (-1: end). */
function context(p: i32, next: i32): i32 {
  let ctx = 0;
  if (p & P_BEGIN) ctx |= A_BEGIN_TEXT | A_BEGIN_LINE;
  else if (p & P_NL) ctx |= A_BEGIN_LINE;
  if (next < 0) ctx |= A_END_TEXT | A_END_LINE;
  else if (next == 10) ctx |= A_END_LINE;
  ctx |= ((p & P_WORD) != 0) != isWordRune(next) ? A_WORD_BOUNDARY : A_NOT_WORD_BOUNDARY;
  return ctx;
}

/** Follow empty transitions from the n pcs at src under ctx, into seen/order. */
function closure(code: usize, src: usize, n: i32, ctx: i32): void {
  let cnt = 0;
  for (let j = 0; j < n; j++) {
    let sp = 0;
    st(stackP, sp++, ld(src, j));
    while (sp > 0) {
      const pc = ld(stackP, --sp);
      const i = ld(seenP, pc);
      if (i < cnt && ld(orderP, i) == pc) continue;
      st(seenP, pc, cnt);
      st(orderP, cnt++, pc);
      const ins = code + <usize>pc * 12;
      const op = load<i32>(ins);
      if (op == OP_JMP) st(stackP, sp++, load<i32>(ins, 4));
      else if (op == OP_SPLIT) {
        st(stackP, sp++, load<i32>(ins, 8));
        st(stackP, sp++, load<i32>(ins, 4));
      } else if (op == OP_ASSERT) {
        if (ctx & load<i32>(ins, 4)) st(stackP, sp++, pc + 1);
      }
    }
  }
  nSeen = cnt;
  regexWork += cnt;
}

/**
 * One DFA step: the sorted set of instructions reached after consuming rune r from the n pcs
 * at src, whose previous rune is described by p. Written to kernelA; returns its size.
 */
function step(d: Dfa, src: usize, n: i32, p: i32, r: i32): i32 {
  const code = changetype<usize>(d.code);
  const ranges = changetype<usize>(d.ranges);
  closure(code, src, n, context(p, r));
  let any = false;
  for (let j = 0; j < nSeen; j++) {
    const pc = ld(orderP, j);
    const ins = code + <usize>pc * 12;
    const op = load<i32>(ins);
    let ok = false;
    if (op == OP_RUNE) ok = r == load<i32>(ins, 4);
    else if (op == OP_CLASS) ok = inRanges(ranges + (<usize>load<i32>(ins, 4) << 2), load<i32>(ins, 8), r);
    else if (op == OP_ANY) ok = true;
    if (ok) {
      const t = pc + 1;
      store<u32>(bitsP + (<usize>(t >> 5) << 2), load<u32>(bitsP + (<usize>(t >> 5) << 2)) | (1 << (t & 31)));
      any = true;
    }
  }
  if (!any) return 0;
  // Read the bitset back in pc order (a canonical form for the cache), clearing it.
  let out = 0;
  const words = (d.length >> 5) + 1;
  for (let w = 0; w < words; w++) {
    const at = bitsP + (<usize>w << 2);
    let x = load<u32>(at);
    if (x == 0) continue;
    store<u32>(at, 0);
    while (x != 0) {
      st(kAP, out++, (w << 5) + <i32>ctz(x));
      x &= x - 1;
    }
  }
  return out;
}

/** Whether instruction pc consumes rune r. */
function consumes(d: Dfa, pc: i32, r: i32): bool {
  const ins = changetype<usize>(d.code) + <usize>pc * 12;
  const op = load<i32>(ins);
  if (op == OP_RUNE) return r == load<i32>(ins, 4);
  if (op == OP_CLASS) return inRanges(changetype<usize>(d.ranges) + (<usize>load<i32>(ins, 4) << 2), load<i32>(ins, 8), r);
  return op == OP_ANY;
}

/** Binary search of rune r in `pairs` (lo, hi) pairs at p. */
function inRanges(p: usize, pairs: i32, r: i32): bool {
  let lo = 0, hi = pairs - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (r < ld(p, 2 * mid)) hi = mid - 1;
    else if (r > ld(p, 2 * mid + 1)) lo = mid + 1;
    else return true;
  }
  return false;
}

function endMatches(d: Dfa, src: usize, n: i32, p: i32): bool {
  closure(changetype<usize>(d.code), src, n, context(p, -1));
  return seenHas(d.matchPc);
}

function hashKernel(n: i32, p: i32): i32 {
  let h: u32 = 0x811c9dc5 ^ <u32>p;
  for (let i = 0; i < n; i++) h = (h ^ <u32>ld(kAP, i)) * 0x01000193;
  return <i32>(h ^ (h >> 15));
}

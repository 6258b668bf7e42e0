// RE2-syntax parser: recursive descent into ast.ts nodes. Errors (never traps) carry an offset.
// Constructs RE2 refuses (backreferences, lookaround) are refused with RE2's reasons.
import {
  Node, N_ALT, N_CONCAT, A_BEGIN_LINE, A_END_LINE, A_BEGIN_TEXT, A_END_TEXT,
  A_WORD_BOUNDARY, A_NOT_WORD_BOUNDARY,
} from "./ast";
import { RangeSet, MAX_RUNE, addPerlClass, addPosixClass } from "./charclass";

export const MAX_REPEAT: i32 = 1000;     // RE2's limit for {n,m}
export const MAX_NESTING: i32 = 100;     // group depth; bounds the parser's and compiler's recursion
export const MAX_PATTERN_LENGTH: i32 = 20000;

const F_FOLD: i32 = 1;      // (?i)
const F_DOT_NL: i32 = 2;    // (?s)
const F_MULTILINE: i32 = 4; // (?m)

const BACKREF_ERROR = "backreferences are not supported (RE2)";
const LOOKAROUND_ERROR = "lookahead and lookbehind are not supported (RE2)";

export class Parser {
  private src: string;
  private pos: i32 = 0;
  private flags: i32 = 0;
  private depth: i32 = 0;
  error: string = "";
  errorOffset: i32 = -1;

  constructor(src: string) { this.src = src; }

  /** The whole pattern, or null with `error` set. */
  parse(): Node | null {
    if (this.src.length > MAX_PATTERN_LENGTH) {
      return this.fail("pattern too long (more than " + MAX_PATTERN_LENGTH.toString() + " characters)", 0);
    }
    const n = this.parseAlt();
    if (n == null) return null;
    if (this.pos < this.src.length) return this.fail("unexpected ')'", this.pos); // only ')' stops parseAlt early
    return n;
  }

  private fail(msg: string, at: i32): Node | null {
    if (this.error.length == 0) { this.error = msg; this.errorOffset = at; }
    return null;
  }

  private get more(): bool { return this.pos < this.src.length; }
  private peek(): i32 { return this.pos < this.src.length ? <i32>this.src.charCodeAt(this.pos) : -1; }
  private peekAt(k: i32): i32 {
    const i = this.pos + k;
    return i < this.src.length ? <i32>this.src.charCodeAt(i) : -1;
  }
  private lookingAt(s: string): bool {
    if (this.pos + s.length > this.src.length) return false;
    for (let i = 0; i < s.length; i++) if (this.src.charCodeAt(this.pos + i) != s.charCodeAt(i)) return false;
    return true;
  }

  /** Next code point (joins surrogate pairs), advancing. */
  private nextRune(): i32 {
    const c = <i32>this.src.charCodeAt(this.pos++);
    if ((c & 0xfc00) == 0xd800 && this.pos < this.src.length) {
      const d = <i32>this.src.charCodeAt(this.pos);
      if ((d & 0xfc00) == 0xdc00) { this.pos++; return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); }
    }
    return c;
  }

  private parseAlt(): Node | null {
    const branches: Node[] = [];
    while (true) {
      const c = this.parseConcat();
      if (c == null) return null;
      branches.push(c);
      if (this.peek() != 0x7c) break; // '|'
      this.pos++;
    }
    return Node.list(N_ALT, branches);
  }

  private parseConcat(): Node | null {
    const items: Node[] = [];
    while (this.more) {
      const c = this.peek();
      if (c == 0x7c || c == 0x29) break; // '|' ')'
      const start = this.pos;
      if (c == 0x2a || c == 0x2b || c == 0x3f || (c == 0x7b && this.repeatAhead())) {
        return this.fail("missing argument to repetition operator: " + this.src.charAt(start), start);
      }
      if (c == 0x5c && this.peekAt(1) == 0x51) { // \Q...\E: literal text; a quantifier binds to its last rune
        this.pos += 2;
        let last: Node | null = null;
        while (this.more && !this.lookingAt("\\E")) {
          if (last != null) items.push(last);
          last = this.literal(this.nextRune());
        }
        if (this.lookingAt("\\E")) this.pos += 2;
        if (last == null) continue;
        const q = this.parseQuantifiers(last);
        if (q == null) return null;
        items.push(q);
        continue;
      }
      let atom = this.parseAtom();
      if (this.error.length > 0) return null;
      if (atom == null) continue; // a flags group such as (?i): no node
      atom = this.parseQuantifiers(atom);
      if (atom == null) return null;
      items.push(atom);
    }
    return Node.list(N_CONCAT, items);
  }

  /** At most one repetition operator (plus an optional lazy '?'), as RE2. */
  private parseQuantifiers(atom: Node): Node | null {
    const start = this.pos;
    const c = this.peek();
    let min = 0, max = 0, counted = false;
    if (c == 0x2a) { this.pos++; min = 0; max = -1; }
    else if (c == 0x2b) { this.pos++; min = 1; max = -1; }
    else if (c == 0x3f) { this.pos++; min = 0; max = 1; }
    else if (c == 0x7b && this.repeatAhead()) {
      this.pos++;
      min = this.readInt();
      max = min;
      if (this.peek() == 0x2c) {
        this.pos++;
        max = this.peek() == 0x7d ? -1 : this.readInt();
      }
      this.pos++; // '}'
      const text = this.src.substring(start, this.pos);
      if (min > MAX_REPEAT || max > MAX_REPEAT) {
        return this.fail("invalid repetition " + text + ": counts above " + MAX_REPEAT.toString() + " are not allowed", start);
      }
      if (max != -1 && min > max) return this.fail("invalid repetition " + text + ": min > max", start);
      counted = true;
    } else {
      return atom;
    }
    if (this.peek() == 0x3f) this.pos++; // lazy: same full-match answer
    const d = this.peek();
    if (d == 0x2a || d == 0x2b || d == 0x3f || (d == 0x7b && this.repeatAhead())) {
      return this.fail("invalid nested repetition operator: " + this.src.substring(start, this.pos + 1), start);
    }
    const rep = Node.repeat(atom, min, max);
    if (counted) {
      // RE2 refuses nested counts whose product exceeds 1000, e.g. ((a{2}){2}){300}.
      const m = max >= 0 ? max : min;
      rep.counts = <i64>(m > 0 ? m : 1) * nestedCounts(atom);
      if (rep.counts > MAX_REPEAT) return this.fail("invalid repetition size: " + this.src.substring(start, this.pos), start);
    }
    return rep;
  }

  /** Whether '{' at pos starts {n}, {n,} or {n,m}; otherwise '{' is a literal (RE2). */
  private repeatAhead(): bool {
    let i = this.pos + 1;
    const n = this.src.length;
    let digits = 0;
    while (i < n && isDigit(this.src.charCodeAt(i))) { i++; digits++; }
    if (digits == 0 || i >= n) return false;
    if (this.src.charCodeAt(i) == 0x7d) return true;
    if (this.src.charCodeAt(i) != 0x2c) return false;
    i++;
    while (i < n && isDigit(this.src.charCodeAt(i))) i++;
    return i < n && this.src.charCodeAt(i) == 0x7d;
  }

  /** Decimal digits, saturating (range is checked by the caller). */
  private readInt(): i32 {
    let v = 0;
    while (this.more && isDigit(this.peek())) {
      if (v <= 100000) v = v * 10 + (this.peek() - 0x30);
      this.pos++;
    }
    return v;
  }

  private parseAtom(): Node | null {
    const c = this.peek();
    if (c == 0x28) return this.parseGroup();
    if (c == 0x5b) return this.parseClass();
    if (c == 0x2e) { // '.'
      this.pos++;
      const s = new RangeSet();
      if (this.flags & F_DOT_NL) s.add(0, MAX_RUNE);
      else { s.add(0, 9); s.add(11, MAX_RUNE); }
      return Node.cls(s.freeze());
    }
    if (c == 0x5e) { this.pos++; return Node.assertion(this.flags & F_MULTILINE ? A_BEGIN_LINE : A_BEGIN_TEXT); }
    if (c == 0x24) { this.pos++; return Node.assertion(this.flags & F_MULTILINE ? A_END_LINE : A_END_TEXT); }
    if (c == 0x5c) return this.parseEscapeAtom();
    return this.literal(this.nextRune());
  }

  private literal(r: i32): Node {
    const s = new RangeSet();
    s.add(r, r);
    if (this.flags & F_FOLD) s.addCaseFolds();
    return Node.cls(s.freeze());
  }

  private parseGroup(): Node | null {
    const open = this.pos;
    this.pos++;
    if (this.peek() == 0x3f) { // '(?'
      if (this.lookingAt("?P<") || (this.lookingAt("?<") && this.peekAt(2) != 0x3d && this.peekAt(2) != 0x21)) {
        this.pos += this.peekAt(1) == 0x50 ? 3 : 2;
        if (!this.readGroupName(open)) return null;
      } else if (this.lookingAt("?P=") || this.lookingAt("?P>")) {
        return this.fail(BACKREF_ERROR, open);
      } else if (this.lookingAt("?=") || this.lookingAt("?!") || this.lookingAt("?<=") || this.lookingAt("?<!")) {
        return this.fail(LOOKAROUND_ERROR, open);
      } else {
        return this.parseFlags(open);
      }
    }
    return this.groupBody(open, this.flags);
  }

  /** Parse the group's alternation up to ')' and restore the flags it changed. */
  private groupBody(open: i32, savedFlags: i32): Node | null {
    if (++this.depth > MAX_NESTING) return this.fail("expression nests too deeply (more than " + MAX_NESTING.toString() + " groups)", open);
    const inner = this.parseAlt();
    if (inner == null) return null;
    if (this.peek() != 0x29) return this.fail("missing ')'", open);
    this.pos++;
    this.depth--;
    this.flags = savedFlags;
    return inner;
  }

  private readGroupName(open: i32): bool {
    const start = this.pos;
    while (this.more && isWordChar(this.peek())) this.pos++;
    const name = this.src.substring(start, this.pos);
    if (name.length == 0 || this.peek() != 0x3e) {
      this.fail("invalid named capture group", open);
      return false;
    }
    // RE2 as Envoy runs it accepts a name used twice (checked against Envoy 1.40).
    this.pos++; // '>'
    return true;
  }

  /** (?flags) for the rest of the group, or (?flags:re). Flags: i m s U, '-' negates. */
  private parseFlags(open: i32): Node | null {
    this.pos++; // '?'
    let set = 0, clear = 0, negate = false, sawFlag = false;
    while (this.more) {
      const c = this.peek();
      this.pos++;
      if (c == 0x69) { if (negate) clear |= F_FOLD; else set |= F_FOLD; sawFlag = true; }
      else if (c == 0x6d) { if (negate) clear |= F_MULTILINE; else set |= F_MULTILINE; sawFlag = true; }
      else if (c == 0x73) { if (negate) clear |= F_DOT_NL; else set |= F_DOT_NL; sawFlag = true; }
      else if (c == 0x55) { sawFlag = true; } // ungreedy: no effect on a full match
      else if (c == 0x2d && !negate) { negate = true; sawFlag = false; }
      else if ((c == 0x29 && sawFlag) || (c == 0x3a && (sawFlag || !negate))) { // (?:re) needs no flag
        const saved = this.flags;
        const next = (this.flags | set) & ~clear;
        if (c == 0x29) { this.flags = next; return null; } // applies to the rest of the group
        this.flags = next;
        return this.groupBody(open, saved);
      } else {
        return this.fail("invalid or unsupported Perl syntax: " + this.src.substring(open, this.pos), open);
      }
    }
    return this.fail("missing ')'", open);
  }

  private parseEscapeAtom(): Node | null {
    const start = this.pos;
    this.pos++; // '\'
    if (!this.more) return this.fail("trailing backslash at end of expression", start);
    const c = this.peek();
    if (c == 0x62) { this.pos++; return Node.assertion(A_WORD_BOUNDARY); }      // \b
    if (c == 0x42) { this.pos++; return Node.assertion(A_NOT_WORD_BOUNDARY); }  // \B
    if (c == 0x41) { this.pos++; return Node.assertion(A_BEGIN_TEXT); }         // \A
    if (c == 0x7a) { this.pos++; return Node.assertion(A_END_TEXT); }           // \z
    const set = new RangeSet();
    if (addPerlClass(set, c, (this.flags & F_FOLD) != 0)) {
      this.pos++;
      return Node.cls(set.freeze());
    }
    this.pos = start;
    const r = this.escapedRune();
    if (r < 0) return null;
    return this.literal(r);
  }

  /**
   * One escaped rune at pos ('\' included): control escapes, octal, \x, punctuation.
   * Returns -1 with `error` set when the escape is not a single rune.
   */
  private escapedRune(): i32 {
    const start = this.pos;
    this.pos++;
    if (!this.more) { this.fail("trailing backslash at end of expression", start); return -1; }
    const c = this.nextRune();
    if (c == 0x61) return 7;    // \a
    if (c == 0x66) return 12;   // \f
    if (c == 0x74) return 9;    // \t
    if (c == 0x6e) return 10;   // \n
    if (c == 0x72) return 13;   // \r
    if (c == 0x76) return 11;   // \v
    if (c >= 0x31 && c <= 0x39) {
      // \1..\9 alone is a backreference; \1-\7 followed by an octal digit is octal (RE2).
      if (c > 0x37 || !isOctal(this.peek())) { this.fail(BACKREF_ERROR, start); return -1; }
    }
    if (c >= 0x30 && c <= 0x37) {
      let v = c - 0x30;
      for (let k = 0; k < 2 && isOctal(this.peek()); k++) { v = v * 8 + (this.peek() - 0x30); this.pos++; }
      return v;
    }
    if (c == 0x78) return this.hexEscape(start);
    if (c == 0x6b || c == 0x67) { this.fail(BACKREF_ERROR, start); return -1; } // \k<name>, \g1
    if (c == 0x70 || c == 0x50) {
      this.fail("Unicode character classes (\\p, \\P) are not supported", start);
      return -1;
    }
    if (c == 0x43) { this.fail("\\C (any byte) is not supported", start); return -1; }
    if (c < 0x80 && !isAlnum(c)) return c; // escaped punctuation (and '_', as RE2)
    this.fail("invalid escape sequence: " + this.src.substring(start, this.pos), start);
    return -1;
  }

  private hexEscape(start: i32): i32 {
    if (this.peek() == 0x7b) {
      this.pos++;
      let v = 0, digits = 0;
      while (this.more && hexVal(this.peek()) >= 0) {
        v = v * 16 + hexVal(this.peek());
        this.pos++;
        if (++digits > 8 || v > MAX_RUNE) break;
      }
      if (digits == 0 || v > MAX_RUNE || this.peek() != 0x7d) {
        this.fail("invalid escape sequence: " + this.src.substring(start, this.pos), start);
        return -1;
      }
      this.pos++;
      return v;
    }
    const h1 = hexVal(this.peek()), h2 = hexVal(this.peekAt(1));
    if (h1 < 0 || h2 < 0) {
      this.fail("invalid escape sequence: " + this.src.substring(start, min(this.pos + 2, this.src.length)), start);
      return -1;
    }
    this.pos += 2;
    return h1 * 16 + h2;
  }

  private parseClass(): Node | null {
    const open = this.pos;
    this.pos++; // '['
    let negated = false;
    if (this.peek() == 0x5e) { negated = true; this.pos++; }
    const set = new RangeSet();   // named classes: \d, [:alpha:]
    const runes = new RangeSet(); // listed runes and ranges
    let first = true;
    while (true) {
      if (!this.more) return this.fail("missing ']'", open);
      const c = this.peek();
      if (c == 0x5d && !first) { this.pos++; break; } // a leading ']' is a literal
      first = false;
      if (c == 0x5b && this.peekAt(1) == 0x3a) { // [:name:]
        const end = this.src.indexOf(":]", this.pos + 2);
        if (end >= 0) {
          let name = this.src.substring(this.pos + 2, end);
          const neg = name.startsWith("^");
          if (neg) name = name.substring(1);
          if (!addPosixClass(set, name, neg, (this.flags & F_FOLD) != 0)) {
            return this.fail("invalid character class range: " + this.src.substring(this.pos, end + 2), this.pos);
          }
          this.pos = end + 2;
          continue;
        }
      }
      const itemStart = this.pos;
      if (c == 0x5c && addPerlClass(set, this.peekAt(1), (this.flags & F_FOLD) != 0)) { this.pos += 2; continue; }
      const lo = this.classRune();
      if (lo < 0) return null;
      let hi = lo;
      if (this.peek() == 0x2d && this.peekAt(1) != 0x5d && this.peekAt(1) != -1) { // a range a-z
        this.pos++;
        if (this.peek() == 0x5c && addPerlClass(new RangeSet(), this.peekAt(1), false)) {
          return this.fail("invalid character class range: " + this.src.substring(itemStart, this.pos + 2), itemStart);
        }
        hi = this.classRune();
        if (hi < 0) return null;
        if (hi < lo) return this.fail("invalid character class range: " + this.src.substring(itemStart, this.pos), itemStart);
      }
      runes.add(lo, hi);
    }
    // Named classes were folded before their own negation (addPerlClass); fold the listed runes.
    if (this.flags & F_FOLD) runes.addCaseFolds();
    set.addSet(runes);
    if (negated) set.negate();
    return Node.cls(set.freeze());
  }

  /** One rune inside [...], escapes included; -1 with `error` set on a bad escape. */
  private classRune(): i32 {
    if (this.peek() == 0x5c) return this.escapedRune();
    return this.nextRune();
  }
}

/** The largest product of {n,m} counts on any path inside n (1 when there are none). */
function nestedCounts(n: Node): i64 {
  if (n.counts > 0) return n.counts;
  let best: i64 = 1;
  for (let i = 0; i < n.subs.length; i++) {
    const c = nestedCounts(n.subs[i]);
    if (c > best) best = c;
  }
  return best;
}

@inline function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }
@inline function isOctal(c: i32): bool { return c >= 0x30 && c <= 0x37; }
function isAlnum(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isWordChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}
function hexVal(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}
